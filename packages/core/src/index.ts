import './internal/dispose.js';

export * from './ack/acknowledgement.js';
export * from './ack/intake-budget.js';
export * from './ack/watermark.js';
export * from './channel/channel.js';
export * from './channel/full-policy.js';
export * from './channel/types.js';
export * from './errors.js';
export * from './event/batch.js';
export * from './event/codec.js';
export * from './event/log-event.js';
export * from './interop/rxjs.js';
export * from './metrics/registry.js';
export * from './output/output-pool.js';
export * from './pipeline/pipeline.js';
export * from './pipeline/spec.js';
export * from './stage/contracts.js';
export * from './stage/option-checks.js';

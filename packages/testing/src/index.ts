export { describeConformance } from './conformance/describe.js';
export type { CheckOptions, MemoryCheckOptions } from './conformance/options.js';
export {
  assertConformance,
  type CheckResult,
  type ConformanceReport,
  type StageKind,
} from './conformance/report.js';
export {
  checkSink,
  SINK_CHECKS,
  type SinkCheckName,
  type SinkCheckOptions,
} from './conformance/sink.js';
export {
  checkSource,
  SOURCE_CHECKS,
  type SourceCheckName,
  type SourceCheckOptions,
} from './conformance/source.js';
export {
  checkTransform,
  TRANSFORM_CHECKS,
  type TransformCheckName,
  type TransformCheckOptions,
} from './conformance/transform.js';
export * from './http/backend.js';
export * from './http/proxy.js';
export * from './http/tls.js';
export * from './process.js';
export * from './samples.js';
export * from './stages.js';

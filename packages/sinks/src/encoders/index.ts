/** The encoders of the HTTP sink: the contract, and one factory per wire format. */
export * from './elasticsearch-bulk.js';
export * from './encoder.js';
export * from './envelope.js';
export * from './json-array.js';
export * from './loki.js';
export * from './ndjson.js';
export * from './otlp.js';
export * from './spec.js';

export * from './chain.js';
export type { MeterReading } from './internal/meter.js';
export * from './plugin.js';
export * from './workers.js';

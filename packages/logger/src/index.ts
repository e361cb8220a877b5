/**
 * In-app log shipping: `createShipper()` hands records to a worker thread that ships them with
 * a spillway pipeline, and never blocks the application on the backend.
 */

export { type LineStreamSourceOptions, lineStreamSource } from './line-stream-source.js';
export type { HandOffPolicy, ShipperOptions } from './options.js';
export { validateShipperOptions } from './options.js';
export * from './shipper.js';
export { type ShippingOptions, shippingPipeline } from './shipping-pipeline.js';

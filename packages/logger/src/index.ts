/**
 * In-app log shipping: `createShipper()` hands records to a worker thread that ships them with
 * a spillway pipeline, and never blocks the application on the backend.
 */

export { LineFeed, type LineFeedOptions, type LineFeedStats } from './line-feed.js';
export type { HandOffPolicy, ShipperOptions } from './options.js';
export { validateShipperOptions } from './options.js';
export * from './shipper.js';
export { type ShippingOptions, shippingPipeline } from './shipping-pipeline.js';

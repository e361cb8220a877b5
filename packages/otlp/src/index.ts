/**
 * @spillway/otlp — OTLP logs on the wire: requests decoded into spillway events and events
 * encoded into requests, responses and statuses, in both OTLP/HTTP encodings.
 */
export * from './decode.js';
export * from './encode.js';
export * from './encoding.js';
export * from './errors.js';
export * from './response.js';

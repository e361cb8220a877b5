export * from './parse.js';
export { parseRfc3164 } from './rfc3164.js';
export { parseRfc3339, parseRfc5424 } from './rfc5424.js';
export * from './types.js';

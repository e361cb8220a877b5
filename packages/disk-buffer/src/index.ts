export * from './dead-letters.js';
export * from './disk-buffer.js';
export * from './errors.js';
export * from './file-system.js';
export * from './spill-channel.js';

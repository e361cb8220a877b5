export * from './logfmt.js';
export * from './syslog/index.js';

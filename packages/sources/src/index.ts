export * from './file/index.js';
export * from './generator.js';
export * from './http/http.js';
export * from './http/otlp.js';
export type {
  HttpReceiverOptions,
  ReceiverAddress,
  ReceiverErrorCode,
  ReceiverTlsOptions,
} from './http/receiver.js';
export type { BatchOptions, NetFormat, NetSourceOptions } from './net-source-options.js';
export * from './stdin.js';
export * from './tcp.js';
export * from './udp.js';

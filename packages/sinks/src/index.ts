/**
 * spillway's outputs: the HTTP family on undici (honest retry, dead letters, health, adaptive
 * concurrency) with its encoders, and the basic sinks (file, stdout, blackhole).
 */
export * from './basic.js';
export * from './dead-letters/replay.js';
export type { BatchLimits } from './delivery/batcher.js';
export type { AdaptiveConcurrencyOptions, ConcurrencyOption } from './delivery/concurrency.js';
export type { HealthOptions, HealthState } from './delivery/health.js';
export type { RetryBudgetOptions } from './delivery/retry-budget.js';
export type { BackoffOptions } from './delivery/retry-policy.js';
export * from './encoders/index.js';
export type { Pem, ProxyOption, SecretSource, TlsOptions } from './http/client.js';
export * from './http/http-sink.js';

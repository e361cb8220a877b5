/**
 * Options the network sources (`udp`, `tcp`) share — where to listen, how to decode what
 * arrives, how to batch it, and how a test or an operator learns the bound address — with their
 * validation, their defaults and the port each claims. One definition, so both sources spell
 * them, and default them, the same way.
 */
import type { AddressInfo } from 'node:net';
import type { Resource } from '@spillway/core';
import { optionChecks } from '@spillway/core';

/**
 * How a network source cuts batches. A batch is handed downstream when it holds `maxEvents`
 * records or `maxBytes` bytes, or `lingerMs` after its first record arrived, whichever comes
 * first. Memory held per batcher is bounded by `maxBytes` plus one record.
 */
export interface BatchOptions {
  /** Records (lines, datagrams, frames) per batch at most. Default 1024. */
  maxEvents?: number;
  /** Bytes per batch at most (raw bytes, or the events' size estimate). Default 256 KiB. */
  maxBytes?: number;
  /**
   * How long the first record of a batch may wait for company, in ms. Default 20. Small, because
   * a receiver's latency is the sum of this and the pipeline's.
   */
  lingerMs?: number;
}

const DEFAULT_BATCH: Required<BatchOptions> = {
  maxEvents: 1024,
  maxBytes: 256 * 1024,
  lingerMs: 20,
};

/** What a network source makes of each record. */
export type NetFormat = 'raw' | 'syslog';

/** Options shared by `udp` and `tcp`. */
export interface NetSourceOptions {
  /** Address to listen on. Default `0.0.0.0` (every IPv4 interface); `::` for IPv6. */
  host?: string;
  /** Port to listen on; `0` picks a free one (see `onListening`). */
  port: number;
  /**
   * `raw` (default): newline-delimited bytes, no per-line objects — for shipping lines as they
   * are. `syslog`: each record is parsed (RFC 5424 or RFC 3164, detected per message) into an
   * event; see `parseSyslog`.
   */
  format?: NetFormat;
  /** With `format: 'syslog'`: the zone of RFC 3164 dates, which carry none. Default `local`. */
  rfc3164TimeZone?: 'local' | 'utc';
  /**
   * With `format: 'syslog'`, a record that is not valid syslog is either kept as an event whose
   * message is the record as received, with attributes `parse_error` (a sentence) and
   * `parse_error_code` (`ERR_SYSLOG_*`) — `keep-raw`, the default — or dropped (`drop`).
   * Counted as `parse_errors` either way; drops also under `drops.parse_error`.
   */
  onParseError?: 'keep-raw' | 'drop';
  batch?: BatchOptions;
  /**
   * Called once the socket is bound, with the address actually bound — the way to learn the port
   * when `port` is 0 (tests), or to log where the source listens. Same shape for `udp` and `tcp`
   * (`node:net`'s `AddressInfo`: `{ address, family, port }`). Called on every `run()`.
   */
  onListening?: (address: AddressInfo) => void;
}

/** The problems with the shared options, as sentences. */
export function validateNetSourceOptions(o: NetSourceOptions): string[] {
  const problems: string[] = [];
  const check = optionChecks(problems);
  check.integerBetween('port', o.port, 0, 65535, true);
  check.nonEmptyString('host', o.host);
  check.oneOf('format', o.format, ['raw', 'syslog']);
  check.oneOf('onParseError', o.onParseError, ['keep-raw', 'drop']);
  check.oneOf('rfc3164TimeZone', o.rfc3164TimeZone, ['local', 'utc']);
  const b = o.batch ?? {};
  check.positiveInteger('batch.maxEvents', b.maxEvents);
  check.positiveInteger('batch.maxBytes', b.maxBytes);
  check.nonNegativeNumber('batch.lingerMs', b.lingerMs);
  if (o.onListening !== undefined && typeof o.onListening !== 'function') {
    problems.push('onListening must be a function');
  }
  return problems;
}

/** The shared options with their defaults applied: what a running network source reads. */
export interface ResolvedNetSourceOptions {
  host: string;
  format: NetFormat;
  onParseError: 'keep-raw' | 'drop';
  rfc3164TimeZone: 'local' | 'utc';
  batch: Required<BatchOptions>;
}

/** Applies the defaults documented on {@link NetSourceOptions}. */
export function resolveNetSourceOptions(o: NetSourceOptions): ResolvedNetSourceOptions {
  return {
    host: o.host ?? DEFAULT_HOST,
    format: o.format ?? 'raw',
    onParseError: o.onParseError ?? 'keep-raw',
    rfc3164TimeZone: o.rfc3164TimeZone ?? 'local',
    batch: { ...DEFAULT_BATCH, ...o.batch },
  };
}

/**
 * The port a source claims, `udp:<host>:<port>` or `tcp:<host>:<port>`. Port 0 claims nothing:
 * every bind to port 0 gets a port of its own, so two such sources never clash.
 */
export function portResources(transport: 'udp' | 'tcp', o: NetSourceOptions): Resource[] {
  if (o.port === 0) return [];
  return [{ kind: 'port', id: `${transport}:${o.host ?? DEFAULT_HOST}:${o.port}` }];
}

const DEFAULT_HOST = '0.0.0.0';

/**
 * The tcp source: a TCP (or TLS) listener for newline-delimited or octet-counted (RFC 6587)
 * records, as raw lines or syslog events.
 *
 * Under pressure it stops reading. Each connection emits with `await ctx.emit()` and pauses its
 * socket while the emit is pending; once Node's and then the kernel's receive buffers are full,
 * TCP flow control closes the window and the sender's writes back up. Nothing is dropped for
 * lack of room and memory does not grow: per connection this source holds at most the partial
 * frame, one read chunk, the open batch, the batch being emitted and the socket's readable
 * buffer (`peak_connection_buffered_bytes` shows the most any connection held). The time spent
 * so is `paused_ms`.
 *
 * What is dropped, and counted (in frames, `drops`): frames over `maxFrameBytes` under
 * `onOversize: 'drop'`, syslog parse failures under `onParseError: 'drop'`, a frame cut off by a
 * close (`incomplete_frame`) or by a malformed octet count (`framing_error`; the connection is
 * closed, as the stream cannot be resynchronised), and batches still unsent when a stop's
 * deadline passes (`shutdown`). So once a connection has closed,
 * `frames_received = frames_accepted + Σ drops`. Connections beyond `maxConnections` are closed
 * on accept (`connections_refused`).
 *
 * On stop: stops accepting, then each connection decodes what is already in memory, emits it
 * and closes; `run()` returns when all have. Bytes still in the kernel's buffers are not read —
 * TCP syslog has no application-level acknowledgement, so a sender cannot know what was lost.
 */
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Server,
  type Socket,
} from 'node:net';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContextOptions,
  type TlsOptions,
} from 'node:tls';
import {
  defineSource,
  optionChecks,
  type SourceContext,
  SpillwayError,
  WaitClock,
} from '@spillway/core';
import type { Framing } from './internal/frame-decoder.js';
import { listenOrFail } from './internal/listen.js';
import { whenAborted } from './internal/signals.js';
import {
  TcpConnection,
  type TcpConnectionOptions,
  type TcpCounters,
  type TcpDropReason,
} from './internal/tcp-connection.js';
import {
  type NetSourceOptions,
  portResources,
  resolveNetSourceOptions,
  validateNetSourceOptions,
} from './net-source-options.js';

export type { TcpDropReason } from './internal/tcp-connection.js';

/** TLS for the tcp source (RFC 5425 syslog over TLS uses octet counting). */
export interface TcpTlsOptions {
  /** Private key(s), PEM. */
  key: SecureContextOptions['key'];
  /** Certificate chain(s), PEM. */
  cert: SecureContextOptions['cert'];
  /** Passphrase of the key, if it has one. */
  passphrase?: string;
  /** CAs to verify client certificates with (with `requestCert`). */
  ca?: SecureContextOptions['ca'];
  /** Ask clients for a certificate. Default false. */
  requestCert?: boolean;
  /** With `requestCert`: refuse clients whose certificate does not verify. Default true. */
  rejectUnauthorized?: boolean;
  /** Lowest TLS version accepted. Default Node's (`TLSv1.2`). */
  minVersion?: SecureContextOptions['minVersion'];
}

export interface TcpOptions extends NetSourceOptions {
  /**
   * How records are delimited: `newline`, `octet-counting` (`<length> <bytes>`), or `auto`,
   * decided per connection by its first byte (a digit: octet counting). Default `auto` with
   * `format: 'syslog'` (syslog messages start with `<`), `newline` with `format: 'raw'` (a raw
   * line may well start with a digit).
   */
  framing?: Framing | 'auto';
  /** Longest frame, in bytes. Default 64 KiB. */
  maxFrameBytes?: number;
  /**
   * A longer frame is cut to its first `maxFrameBytes` bytes (`truncate`, default; counted as
   * `frames_truncated`) or dropped (`drop`; counted under `drops.oversize`).
   */
  onOversize?: 'truncate' | 'drop';
  /** Connections open at once; more are closed on accept and counted. Default 256. */
  maxConnections?: number;
  /**
   * A connection that sends nothing for this long is closed (after emitting what it sent).
   * Not counted while the source itself is holding the connection back. Default 300 000 (5 min);
   * 0 disables.
   */
  idleTimeoutMs?: number;
  /** Listen with TLS instead of plain TCP. */
  tls?: TcpTlsOptions;
}

const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
const DEFAULT_MAX_CONNECTIONS = 256;
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/**
 * Listens for TCP or TLS connections carrying newline-delimited or octet-counted records.
 *
 * When to use: syslog over TCP/TLS (RFC 6587, RFC 5425) from rsyslog, syslog-ng, network gear;
 * any line protocol whose sender can wait. Prefer it to `udp` whenever the sender supports it: a
 * full pipeline slows the sender instead of losing data.
 *
 * Gotchas: a sender that cannot block (an application logging synchronously over TCP) is slowed
 * down too — that is the point, but put a buffer in front of such senders if they must never
 * wait. Each connection batches on its own, so many connections mean many small batches: keep
 * `batch.lingerMs` small. Frames are ordered within a connection, not across connections. Port 0
 * binds a free port (learn it from `onListening`) and claims no resource.
 *
 * Metrics (besides every source's `batches_out`, `events_out`, `blocked_ms`): `connections_open`,
 * `connections_total`, `connections_refused`, `bytes_received`, `frames_received`,
 * `frames_accepted`, `frames_truncated`, `drops` (frames by {@link TcpDropReason}),
 * `parse_errors`, `framing_errors`, `idle_timeouts`, `tls_errors`, `connection_errors`,
 * `accept_errors`, `paused_ms` (wall time with at least one connection paused),
 * `connections_paused`, `buffered_bytes`, `peak_connection_buffered_bytes`.
 *
 * @example
 * ```ts
 * sources: {
 *   syslog: tcp({ port: 6514, format: 'syslog', tls: { key, cert }, maxConnections: 1000 }),
 * }
 * ```
 */
export const tcp = defineSource<TcpOptions>({
  type: 'tcp',
  validate(o) {
    const problems = validateNetSourceOptions(o);
    const check = optionChecks(problems);
    check.oneOf('framing', o.framing, ['auto', 'newline', 'octet-counting']);
    check.positiveInteger('maxFrameBytes', o.maxFrameBytes);
    check.oneOf('onOversize', o.onOversize, ['truncate', 'drop']);
    check.positiveInteger('maxConnections', o.maxConnections);
    check.nonNegativeNumber('idleTimeoutMs', o.idleTimeoutMs);
    if (o.tls !== undefined && (!o.tls.key || !o.tls.cert)) {
      problems.push('tls needs key and cert');
    }
    return problems;
  },
  resources: (o) => portResources('tcp', o),
  build(o, { name }) {
    const { host, ...decoding } = resolveNetSourceOptions(o);
    if (o.tls) {
      // Fail at build, before anything starts, rather than at the first connection.
      try {
        createSecureContext(o.tls);
      } catch (err) {
        throw new SpillwayError('ERR_INVALID_OPTION', `tcp "${name}": invalid tls key or cert`, {
          cause: err,
        });
      }
    }
    const connectionOptions: TcpConnectionOptions = {
      ...decoding,
      framing: o.framing ?? (decoding.format === 'syslog' ? 'auto' : 'newline'),
      maxFrameBytes: o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      onOversize: o.onOversize ?? 'truncate',
      idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    };
    const counters: TcpCounters = {
      bytesReceived: 0,
      framesReceived: 0,
      framesAccepted: 0,
      framesTruncated: 0,
      parseErrors: 0,
      framingErrors: 0,
      idleTimeouts: 0,
      connectionErrors: 0,
      connectionsPaused: 0,
      peakConnectionBufferedBytes: 0,
      drops: {},
      paused: new WaitClock(),
    };
    const connections = new Set<TcpConnection>();
    let connectionsTotal = 0;
    let refused = 0;
    let tlsErrors = 0;
    let acceptErrors = 0;

    return {
      stats: () => {
        let buffered = 0;
        for (const connection of connections) {
          const held = connection.bufferedBytes;
          buffered += held;
          // Node's readable buffer grows without events while paused: sample it here too.
          if (held > counters.peakConnectionBufferedBytes) {
            counters.peakConnectionBufferedBytes = held;
          }
        }
        return {
          connections_open: connections.size,
          connections_total: connectionsTotal,
          connections_refused: refused,
          bytes_received: counters.bytesReceived,
          frames_received: counters.framesReceived,
          frames_accepted: counters.framesAccepted,
          frames_truncated: counters.framesTruncated,
          drops: { ...counters.drops },
          parse_errors: counters.parseErrors,
          framing_errors: counters.framingErrors,
          idle_timeouts: counters.idleTimeouts,
          tls_errors: tlsErrors,
          connection_errors: counters.connectionErrors,
          accept_errors: acceptErrors,
          paused_ms: counters.paused.ms,
          connections_paused: counters.connectionsPaused,
          buffered_bytes: buffered,
          peak_connection_buffered_bytes: counters.peakConnectionBufferedBytes,
        };
      },

      async run(ctx: SourceContext) {
        const server: Server = o.tls ? createTlsServer(tlsServerOptions(o.tls)) : createTcpServer();
        // Node closes connections beyond maxConnections on accept and tells us with 'drop'.
        server.maxConnections = o.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
        server.on('drop', () => {
          refused++;
        });
        if (o.tls) {
          server.on('tlsClientError', () => {
            tlsErrors++;
          });
        }
        // Every accepted socket, TLS handshake done or not, so a stop can close the stragglers.
        const sockets = new Set<Socket>();
        server.on('connection', (socket: Socket) => {
          sockets.add(socket);
          socket.once('close', () => sockets.delete(socket));
        });
        server.on(o.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
          if (ctx.stopping.aborted) {
            socket.destroy();
            return;
          }
          connectionsTotal++;
          const connection = new TcpConnection(socket, ctx, connectionOptions, counters);
          connections.add(connection);
          void connection.done.then(() => connections.delete(connection));
        });

        await listenOrFail(
          server,
          () => server.listen(o.port, host),
          { source: 'tcp', name: ctx.name, host, port: o.port },
          () => server.close(),
        );
        // After listen: an accept error (EMFILE, …) loses that connection, not the listener.
        server.on('error', () => {
          acceptErrors++;
        });
        o.onListening?.(server.address() as AddressInfo);

        await whenAborted(ctx.stopping, ctx.signal);

        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const connection of connections) connection.stop();
        await Promise.all([...connections].map((c) => c.done));
        // Left: TLS handshakes still in progress, which would hold the server open until
        // their handshake timeout.
        for (const socket of sockets) socket.destroy();
        await closed;
      },
    };
  },
});

function tlsServerOptions(t: TcpTlsOptions): TlsOptions {
  const options: TlsOptions = { key: t.key, cert: t.cert };
  if (t.passphrase !== undefined) options.passphrase = t.passphrase;
  if (t.ca !== undefined) options.ca = t.ca;
  if (t.requestCert !== undefined) options.requestCert = t.requestCert;
  if (t.rejectUnauthorized !== undefined) options.rejectUnauthorized = t.rejectUnauthorized;
  if (t.minVersion !== undefined) options.minVersion = t.minVersion;
  return options;
}

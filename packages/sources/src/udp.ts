/**
 * The udp source: datagrams from a `node:dgram` socket, as raw lines or syslog events.
 *
 * Under pressure it drops newest and counts. UDP has no way to tell a sender to slow down, and
 * a receiver that stops reading only moves the loss into the kernel, where nobody sees it. So the
 * socket callback never waits: it adds the datagram to the open batch and, when a batch is ready,
 * offers it downstream with `ctx.tryEmit`; a batch that finds the downstream buffer full is
 * dropped at once, its datagrams counted under `drops.channel_full` (and its acknowledgement
 * settled as dropped). The loss that happens before the process sees a datagram — the kernel
 * discarding it because the socket's receive buffer was full while the event loop was busy — is
 * read from `/proc/net/udp` and reported as `kernel_drops`, so the two together account for
 * everything that reached the host:
 *
 * ```
 * sent to this host ≈ kernel_drops + datagrams_received
 * datagrams_received = datagrams_accepted + datagrams_dropped (Σ drops by reason)
 *                      + datagrams_pending (in the open batch)
 * ```
 *
 * Memory is bounded by one open batch (`batch.maxBytes` plus one datagram); everything else is
 * in the pipeline's bounded buffers or the kernel's receive buffer (`receiveBufferBytes`).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { defineSource, optionChecks, type SourceContext, SpillwayError } from '@spillway/core';
import { KernelDropReader } from './internal/kernel-drops.js';
import { listenOrFail } from './internal/listen.js';
import { RecordBatcher, type SealedBatch } from './internal/record-batcher.js';
import { whenAborted } from './internal/signals.js';
import {
  type NetSourceOptions,
  portResources,
  resolveNetSourceOptions,
  validateNetSourceOptions,
} from './net-source-options.js';

export interface UdpOptions extends NetSourceOptions {
  /**
   * The socket's receive buffer (SO_RCVBUF), in bytes: how much the kernel holds while the event
   * loop is busy elsewhere. Default: the system's (`net.core.rmem_default`). Linux doubles the
   * value and caps it at `net.core.rmem_max`; the size in effect is reported as
   * `receive_buffer_bytes`.
   */
  receiveBufferBytes?: number;
  /**
   * Datagrams larger than this are dropped and counted (`drops.oversize`). Default 65535 (none:
   * a UDP payload cannot be larger).
   */
  maxMessageBytes?: number;
  /** How often the kernel's drop count is read, in ms (every stats call reads it too). Default 1000. */
  kernelDropsIntervalMs?: number;
}

/** Why the udp source dropped datagrams; the keys of its `drops` stat. */
export type UdpDropReason =
  | 'channel_full'
  | 'channel_closed'
  | 'batch_too_large'
  | 'emit_error'
  | 'parse_error'
  | 'oversize'
  | 'shutdown';

const MAX_UDP_PAYLOAD = 65535;

/**
 * Listens for datagrams; each datagram is one record (with `format: 'raw'`, line breaks inside a
 * datagram make several lines; with `format: 'syslog'`, one message per datagram as RFC 5426 has
 * it, parsed by `parseSyslog`, with the sender's address as attribute `net.peer.address`).
 *
 * When to use: syslog over UDP, statsd-like line protocols — senders that will not wait. For
 * senders that can, prefer `tcp`, where a full pipeline slows the sender instead of losing data.
 *
 * Gotchas: drops are by design — watch `drops` and `kernel_drops`, and size `receiveBufferBytes`
 * for bursts. `kernel_drops` is undefined where `/proc/net/udp` cannot be read (not Linux).
 * Datagrams still in the kernel's buffer when the source stops are lost uncounted. Port 0 binds a
 * free port (learn it from `onListening`) and claims no resource.
 *
 * Metrics (besides every source's `batches_out`, `events_out`): `datagrams_received`,
 * `bytes_received`, `datagrams_accepted`, `datagrams_dropped`, `datagrams_pending` (in the open
 * batch), `drops` (datagrams by {@link UdpDropReason}), `parse_errors`, `socket_errors`,
 * `kernel_drops`, `receive_buffer_bytes`.
 *
 * @example
 * ```ts
 * sources: {
 *   syslog: udp({ host: '0.0.0.0', port: 514, format: 'syslog', receiveBufferBytes: 8 << 20 }),
 * }
 * ```
 */
export const udp = defineSource<UdpOptions>({
  type: 'udp',
  validate(o) {
    const problems = validateNetSourceOptions(o);
    const check = optionChecks(problems);
    check.positiveInteger('receiveBufferBytes', o.receiveBufferBytes);
    check.integerBetween('maxMessageBytes', o.maxMessageBytes, 1, MAX_UDP_PAYLOAD);
    check.positiveNumber('kernelDropsIntervalMs', o.kernelDropsIntervalMs);
    return problems;
  },
  resources: (o) => portResources('udp', o),
  build(o) {
    const { host, batch, ...decoding } = resolveNetSourceOptions(o);
    const maxMessageBytes = o.maxMessageBytes ?? MAX_UDP_PAYLOAD;
    const syslog = decoding.format === 'syslog';
    let datagramsReceived = 0;
    let bytesReceived = 0;
    let accepted = 0;
    let dropped = 0;
    let parseErrors = 0;
    let socketErrors = 0;
    const drops: Partial<Record<UdpDropReason, number>> = {};
    let kernelDrops: number | undefined;
    let receiveBufferBytes: number | undefined;
    let kernel: KernelDropReader | undefined;
    let batcher: RecordBatcher | undefined;

    const drop = (reason: UdpDropReason, datagrams: number) => {
      drops[reason] = (drops[reason] ?? 0) + datagrams;
      dropped += datagrams;
    };

    return {
      stats: () => {
        if (kernel) kernelDrops = kernel.read() ?? kernelDrops;
        return {
          datagrams_received: datagramsReceived,
          bytes_received: bytesReceived,
          datagrams_accepted: accepted,
          datagrams_dropped: dropped,
          datagrams_pending: batcher?.records ?? 0,
          drops: { ...drops },
          parse_errors: parseErrors,
          socket_errors: socketErrors,
          kernel_drops: kernelDrops,
          receive_buffer_bytes: receiveBufferBytes,
        };
      },

      async run(ctx: SourceContext) {
        const socket: Socket = createSocket({
          type: host.includes(':') ? 'udp6' : 'udp4',
          ...(o.receiveBufferBytes !== undefined && { recvBufferSize: o.receiveBufferBytes }),
        });

        /** Offers a batch downstream without waiting; a refused batch is dropped and counted. */
        const handOff = (sealed: SealedBatch) => {
          let reason: UdpDropReason;
          try {
            const result = ctx.tryEmit(sealed.batch);
            if (result.ok) {
              accepted += sealed.records;
              return;
            }
            reason = result.reason === 'full' ? 'channel_full' : 'channel_closed';
          } catch (err) {
            // ERR_ITEM_TOO_LARGE: the batch exceeds the downstream buffer's maxBytes. Nothing
            // may throw out of a socket callback, so any failure to hand off is a counted drop.
            reason = SpillwayError.is(err, 'ERR_ITEM_TOO_LARGE') ? 'batch_too_large' : 'emit_error';
          }
          drop(reason, sealed.records);
          sealed.batch.ack.settle('dropped', `${ctx.name}:${reason}`);
        };

        const open = new RecordBatcher({
          source: ctx.name,
          ...decoding,
          limits: batch,
          onDue: () => {
            const sealed = open.take();
            if (sealed) handOff(sealed);
          },
          onInvalid: (_code, wasDropped) => {
            parseErrors++;
            if (wasDropped) drop('parse_error', 1);
          },
        });
        batcher = open;

        // The hot path: synchronous from the kernel's datagram to tryEmit, never awaiting.
        socket.on('message', (message, remote) => {
          datagramsReceived++;
          bytesReceived += message.length;
          if (message.length > maxMessageBytes) {
            drop('oversize', 1);
            return;
          }
          const sealed = open.add(message, Date.now(), syslog ? remote.address : undefined);
          if (sealed) handOff(sealed);
          if (open.full) handOff(open.take()!);
        });

        await listenOrFail(
          socket,
          () => socket.bind(o.port, host),
          { source: 'udp', name: ctx.name, host, port: o.port },
          () => {
            open.close();
            socket.close();
          },
        );
        const address: AddressInfo = socket.address();
        // After bind: an error on a bound receiving socket does not close it; count and go on.
        socket.on('error', () => {
          socketErrors++;
        });
        receiveBufferBytes = socket.getRecvBufferSize();
        kernel = new KernelDropReader(address);
        kernelDrops = kernel.read();
        // Also read every second, so the last known value (kept once the socket is gone, or if
        // a later read fails) is never older than that.
        const poll = setInterval(() => {
          kernelDrops = kernel?.read() ?? kernelDrops;
        }, o.kernelDropsIntervalMs ?? 1000);
        poll.unref();
        o.onListening?.(address);

        await whenAborted(ctx.stopping, ctx.signal);

        clearInterval(poll);
        // Last reading while the socket still exists; after close its row is gone.
        kernelDrops = kernel.read() ?? kernelDrops;
        kernel = undefined;
        await new Promise<void>((resolve) => socket.close(() => resolve()));
        // A graceful stop may wait for room for what is in hand: nothing more can arrive.
        const last = open.take();
        open.close();
        if (last) {
          try {
            await ctx.emit(last.batch);
            accepted += last.records;
          } catch {
            // The hard deadline passed (or the batch can never fit): the runtime counted it as
            // undelivered; count its datagrams here too, so the datagram books still balance.
            drop('shutdown', last.records);
          }
        }
      },
    };
  },
});

/**
 * The stdin source: lines from the process's standard input (or any readable stream), raw or
 * parsed as syslog — for `tail -F x | spillway run …`, or a program that pipes its output in.
 *
 * Under pressure it stops reading: the stream is consumed by async iteration, which pulls the
 * next chunk only after the previous one's batch was taken by the pipeline. The pipe's buffer
 * then fills and the writing process blocks in `write()` — the pipeline's pressure reaches it,
 * with nothing dropped. Each chunk read (up to the stream's high-water mark, 64 KiB) becomes one
 * batch of its complete lines; a partial last line waits for the next chunk, and is handed on
 * at the end of the stream.
 */
import type { Readable } from 'node:stream';
import { defineSource, optionChecks } from '@spillway/core';
import { FrameDecoder } from './internal/frame-decoder.js';
import { RecordBatcher } from './internal/record-batcher.js';
import type { NetFormat } from './net-source-options.js';

export interface StdinOptions {
  /** `raw` lines (default) or `syslog` events (RFC 5424 / 3164, detected per line). */
  format?: NetFormat;
  /** Longest line handed on whole. Default 1 MiB. */
  maxLineBytes?: number;
  /** Longer lines are `truncate`d (default) or `drop`ped; counted either way. */
  onOversize?: 'truncate' | 'drop';
  /** Lines that are not valid syslog: kept raw with an error attribute (default) or dropped. */
  onParseError?: 'keep-raw' | 'drop';
  /** Time zone of RFC 3164 timestamps, which carry none. Default `local`. */
  rfc3164TimeZone?: 'local' | 'utc';
  /** Read this stream instead of `process.stdin` (tests, or a child process's stdout). */
  stream?: Readable;
}

/**
 * @example
 * ```ts
 * sources: { piped: stdin({ format: 'syslog' }) }
 * ```
 *
 * Gotcha: the source ends when the stream ends, and the pipeline then drains and finishes if no
 * other source is running: `spillway run` exits after `cat file | spillway run …`.
 */
export const stdin = defineSource<StdinOptions>({
  type: 'stdin',
  validate(o) {
    const problems: string[] = [];
    const check = optionChecks(problems);
    check.oneOf('format', o.format, ['raw', 'syslog']);
    check.positiveInteger('maxLineBytes', o.maxLineBytes);
    check.oneOf('onOversize', o.onOversize, ['truncate', 'drop']);
    check.oneOf('onParseError', o.onParseError, ['keep-raw', 'drop']);
    return problems;
  },
  build(o) {
    const stats = {
      bytesRead: 0,
      linesRead: 0,
      linesTruncated: 0,
      linesDropped: 0,
      parseErrors: 0,
    };
    return {
      stats: () => ({ ...stats }),
      async run(ctx) {
        const stream = o.stream ?? process.stdin;
        const decoder = new FrameDecoder({
          framing: 'newline',
          maxFrameBytes: o.maxLineBytes ?? 1024 * 1024,
          onOversize: o.onOversize ?? 'truncate',
          onOversizeFrame: (action) => {
            if (action === 'truncated') stats.linesTruncated++;
            else stats.linesDropped++;
          },
        });
        const batcher = new RecordBatcher({
          source: ctx.name,
          format: o.format ?? 'raw',
          onParseError: o.onParseError ?? 'keep-raw',
          rfc3164TimeZone: o.rfc3164TimeZone ?? 'local',
          // One batch per chunk read: the bounds only split a chunk of many short lines.
          limits: { maxEvents: 4096, maxBytes: 1024 * 1024, lingerMs: 60_000 },
          onDue: () => {},
          onInvalid: (_code, dropped) => {
            stats.parseErrors++;
            if (dropped) stats.linesDropped++;
          },
        });
        // No stopping signal: stdin cannot be read again, so a graceful stop still hands on
        // what is in hand; only the hard stop (the pipeline's own signal) cuts it off.
        const send = async (sealed: ReturnType<RecordBatcher['take']>) => {
          if (sealed) await ctx.emit(sealed.batch);
        };
        const add = async (line: Uint8Array, now: number) => {
          stats.linesRead++;
          await send(batcher.add(line, now));
        };
        // Stopping ends the iteration (and so the reading) at once.
        const stop = () => stream.destroy();
        ctx.stopping.addEventListener('abort', stop, { once: true });
        try {
          for await (const chunk of stream) {
            const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
            stats.bytesRead += bytes.length;
            decoder.push(bytes);
            const now = Date.now();
            for (let frame = decoder.next(); frame; frame = decoder.next()) {
              await add(frame.data, now);
            }
            await send(batcher.take());
          }
          const { frame } = decoder.finish(true);
          if (frame) await add(frame.data, Date.now());
          await send(batcher.take());
        } catch (err) {
          if (!ctx.stopping.aborted) throw err;
        } finally {
          ctx.stopping.removeEventListener('abort', stop);
          batcher.close();
        }
      },
    };
  },
});

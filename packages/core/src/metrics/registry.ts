/**
 * One registry per pipeline: every channel, stage and pool registers a reader of its stats.
 * Readers are pulled on demand, so an idle registry costs nothing, and a snapshot is consistent
 * within one tick of the event loop.
 */
import { defer, type Observable, share, timer } from 'rxjs';
import { map } from 'rxjs/operators';

export type MetricsKind =
  | 'channel'
  | 'source'
  | 'transform'
  | 'sink'
  | 'pool'
  | 'buffer'
  | 'pipeline';

export interface MetricsEntry {
  /** Unique within the registry, e.g. `parse.in` or `http.pool`. */
  readonly id: string;
  readonly kind: MetricsKind;
  readonly stats: Readonly<Record<string, unknown>>;
}

export interface MetricsSnapshot {
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly entries: readonly MetricsEntry[];
}

/**
 * When to use: to read every counter of a pipeline at once (`snapshot()`), or to follow them
 * (`observe()`), e.g. from a dashboard or a Prometheus exporter.
 *
 * Gotcha: `observe()` shares one timer between subscribers; readers run on the event loop, so
 * keep them cheap (they are: each returns counters it already holds).
 */
export class MetricsRegistry {
  readonly #readers = new Map<string, { kind: MetricsKind; read: () => object }>();

  /** Registers a reader; returns a function that removes it. Ids must be unique. */
  register(id: string, kind: MetricsKind, read: () => object): () => void {
    if (this.#readers.has(id)) throw new RangeError(`metrics id "${id}" is already registered`);
    this.#readers.set(id, { kind, read });
    return () => this.#readers.delete(id);
  }

  snapshot(): MetricsSnapshot {
    const entries: MetricsEntry[] = [];
    for (const [id, { kind, read }] of this.#readers) {
      entries.push({ id, kind, stats: read() as Record<string, unknown> });
    }
    return { timestamp: Date.now(), entries };
  }

  /** A snapshot every `periodMs` (first one at once), shared between subscribers. */
  observe(periodMs = 1000): Observable<MetricsSnapshot> {
    return defer(() => timer(0, periodMs)).pipe(
      map(() => this.snapshot()),
      share(),
    );
  }
}

/**
 * Named monotonic counters of one stage. The set of names is fixed by the stage's code, so the
 * map stays small; `add` with an unknown name creates it.
 */
export class Counters {
  readonly #values: Record<string, number> = {};

  add(name: string, n = 1): void {
    this.#values[name] = (this.#values[name] ?? 0) + n;
  }

  get(name: string): number {
    return this.#values[name] ?? 0;
  }

  toJSON(): Record<string, number> {
    return { ...this.#values };
  }
}

/**
 * Time spent waiting, including the wait in progress, so a stage that is blocked right now
 * shows it at once rather than when the wait ends. Overlapping waits count once.
 */
export class WaitClock {
  #active = 0;
  #since = 0;
  #totalMs = 0;

  enter(): void {
    if (this.#active++ === 0) this.#since = performance.now();
  }

  exit(): void {
    if (--this.#active === 0) this.#totalMs += performance.now() - this.#since;
  }

  get ms(): number {
    return this.#totalMs + (this.#active > 0 ? performance.now() - this.#since : 0);
  }
}

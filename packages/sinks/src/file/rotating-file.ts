/**
 * The file a file sink appends to, rotated by size.
 *
 * ```
 *   app.log        the current file, opened for append
 *   app.log.1      the one before
 *   …
 *   app.log.N-1    the oldest kept (N = maxFiles); at the next rotation app.log.N-2 is renamed
 *                  over it, each younger file moves up by one, and app.log starts empty
 * ```
 *
 * Invariants:
 * - Calls never overlap: the sink runs them one at a time (see `InOrder`), so the size tracked
 *   here is the file's size, without a stat per append.
 * - A batch is appended whole to one file. Rotation comes before an append that would take a
 *   non-empty file past `maxBytes`, never inside one; a batch larger than `maxBytes` gets a file
 *   of its own, which is then larger than `maxBytes`.
 * - A failed append leaves no part of its batch behind: the file is truncated back to its size
 *   before the append, and the handle is let go, so the next append starts with a fresh open by
 *   path (the sink keeps working once the cause is fixed).
 * - The current file is found by path. When the file at the path is no longer the one open —
 *   removed, or renamed away by an outside rotation — it is opened again by path: checked by
 *   device and inode at most once per `pathCheckMs`, and at every open.
 * - What was written and not yet synced is synced before a file is let go (rotation, reopen,
 *   close) unless `fsync` is `never`: a rotated file keeps what was acknowledged.
 * - A crash during a rotation loses nothing but the oldest file: each rename moves one whole
 *   file up, so at worst one number is missing from the set until the next rotation.
 */
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SpillwayError } from '@spillway/core';

/** When written data is forced to the disk; see `FileSinkOptions.fsync`. */
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface RotatingFileOptions {
  readonly path: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
  readonly fsync: FsyncPolicy;
  readonly pathCheckMs: number;
}

export interface RotatingFileStats {
  readonly bytesWritten: number;
  readonly rotations: number;
  /** Opens by path after the file there was removed or replaced from outside. */
  readonly reopens: number;
  /** Size of the current file (0 while none is open). */
  readonly fileBytes: number;
  readonly fsyncs: number;
}

export class RotatingFile {
  readonly #o: RotatingFileOptions;
  #handle: FileHandle | undefined;
  #dev = 0n;
  #ino = 0n;
  #size = 0;
  #checkedAt = 0;
  /** Written since the last sync. */
  #dirty = false;
  #closed = false;
  #bytesWritten = 0;
  #rotations = 0;
  #reopens = 0;
  #fsyncs = 0;

  constructor(options: RotatingFileOptions) {
    this.#o = options;
  }

  /** Appends `data` whole; under `fsync: 'always'`, resolves once it is on disk. */
  async append(data: Uint8Array): Promise<void> {
    if (this.#closed) {
      throw new SpillwayError('ERR_CHANNEL_CLOSED', `file ${this.#o.path} is closed`);
    }
    let sizeBefore: number | undefined;
    try {
      const handle = await this.#current(data.byteLength);
      sizeBefore = this.#size;
      await writeAll(handle, data);
      this.#size += data.byteLength;
      if (this.#o.fsync === 'always') await this.#sync(handle);
      else this.#dirty = true;
      this.#bytesWritten += data.byteLength;
    } catch (err) {
      await this.#abandon(sizeBefore);
      throw err;
    }
  }

  /** Forces what was written to the disk (for `fsync: 'interval'`); nothing when clean. */
  async sync(): Promise<void> {
    if (this.#handle && this.#dirty) await this.#sync(this.#handle);
  }

  /** Syncs (unless `fsync` is `never`) and closes; appends after this are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#release();
  }

  stats(): RotatingFileStats {
    return {
      bytesWritten: this.#bytesWritten,
      rotations: this.#rotations,
      reopens: this.#reopens,
      fileBytes: this.#size,
      fsyncs: this.#fsyncs,
    };
  }

  /** The handle to append `bytes` to: opened, followed to the path, rotated as needed. */
  async #current(bytes: number): Promise<FileHandle> {
    if (!this.#handle) await this.#open();
    else if (performance.now() - this.#checkedAt >= this.#o.pathCheckMs) await this.#followPath();
    if (this.#size > 0 && this.#size + bytes > this.#o.maxBytes) await this.#rotate();
    return this.#handle!;
  }

  async #open(): Promise<void> {
    const handle = await open(this.#o.path, 'a');
    try {
      const st = await handle.stat({ bigint: true });
      // The file may be new: under 'always' its directory entry must be on disk as well (and
      // the renames of a rotation, which this open follows).
      if (this.#o.fsync === 'always') await syncDirectory(dirname(this.#o.path));
      this.#handle = handle;
      this.#dev = st.dev;
      this.#ino = st.ino;
      this.#size = Number(st.size);
      this.#checkedAt = performance.now();
    } catch (err) {
      await handle.close().catch(ignore);
      throw err;
    }
  }

  async #followPath(): Promise<void> {
    this.#checkedAt = performance.now();
    const st = await stat(this.#o.path, { bigint: true }).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    });
    if (st && st.dev === this.#dev && st.ino === this.#ino) return;
    this.#reopens++;
    await this.#release();
    await this.#open();
  }

  async #rotate(): Promise<void> {
    await this.#release();
    const name = (n: number) => (n === 0 ? this.#o.path : `${this.#o.path}.${n}`);
    // Oldest first: each rename replaces the file above it, the first one the oldest kept.
    for (let n = this.#o.maxFiles - 1; n >= 1; n--) await renameIfPresent(name(n - 1), name(n));
    if (this.#o.maxFiles === 1) await rm(this.#o.path, { force: true });
    this.#rotations++;
    await this.#open();
  }

  /** Lets the current file go: synced unless `fsync` is `never`, then closed. */
  async #release(): Promise<void> {
    const handle = this.#handle;
    if (!handle) return;
    this.#handle = undefined;
    this.#size = 0;
    try {
      if (this.#dirty && this.#o.fsync !== 'never') await this.#sync(handle);
    } finally {
      this.#dirty = false;
      await handle.close();
    }
  }

  /** After a failed append: cut off what it wrote, and let the handle go. */
  async #abandon(sizeBefore: number | undefined): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#size = 0;
    this.#dirty = false;
    if (!handle) return;
    if (sizeBefore !== undefined) await handle.truncate(sizeBefore).catch(ignore);
    await handle.close().catch(ignore);
  }

  async #sync(handle: FileHandle): Promise<void> {
    // fdatasync: the data and the size, which is what reading the file back needs.
    await handle.datasync();
    this.#dirty = false;
    this.#fsyncs++;
  }
}

/** Writes all of `data`: one write may take only part of it. */
async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.byteLength; ) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function ignore(): void {}

/**
 * The file layer the disk buffer uses, as a small interface so that tests (and odd platforms) can
 * put their own underneath: a layer that fails with ENOSPC after N bytes, one that tears the write
 * in flight at a simulated crash. The default is `node:fs/promises`, whose `FileHandle` already
 * has this shape.
 *
 * Only positional I/O is used (`read`/`write` with an explicit position), so one handle can be
 * shared by the writer and a reader without a file cursor in between.
 */
import * as fs from 'node:fs/promises';

/** One open file. Structurally a subset of `node:fs/promises`' `FileHandle`. */
export interface FileHandle {
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
  /** May write fewer bytes than asked; the caller loops. */
  write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  /** Data (and the size) reaches stable storage: `fdatasync(2)`. */
  datasync(): Promise<void>;
  /** Data and metadata reach stable storage: `fsync(2)`; on a directory, its entries. */
  sync(): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/**
 * The directory-level operations. `open` takes the flags the buffer needs: `r` (read, also used to
 * open a directory for `sync`), `r+` (read and write, no create), `wx` (create, fail if present)
 * and `w+` (create or truncate).
 *
 * Gotcha: errors must carry Node's `code` (`ENOENT`, `EEXIST`, `ENOSPC` …): the buffer tells a
 * missing file from a failing disk by it.
 */
export interface FileSystem {
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  readdir(path: string): Promise<string[]>;
  open(path: string, flags: 'r' | 'r+' | 'wx' | 'w+'): Promise<FileHandle>;
  unlink(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
}

/** The default file layer: `node:fs/promises`. */
export const nodeFileSystem: FileSystem = {
  mkdir: (path, options) => fs.mkdir(path, options),
  readdir: (path) => fs.readdir(path),
  open: (path, flags) => fs.open(path, flags),
  unlink: (path) => fs.unlink(path),
  readFile: (path) => fs.readFile(path),
  writeFile: (path, data) => fs.writeFile(path, data),
};

/** The `code` of a Node system error (`ENOENT` …), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

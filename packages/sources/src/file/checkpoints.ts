/**
 * Checkpoints of the file source: per file identity, the offset up to which every line has been
 * acknowledged end to end.
 *
 * The store is one small JSON file, replaced atomically: write a temporary file, fsync it,
 * rename it over the old one, fsync the directory. A crash at any moment leaves either the old
 * or the new version, never a mix; a file that cannot be parsed (e.g. damaged by a disk fault)
 * is set aside as `<name>.corrupt-<time>` and the source starts over from `startAt`, counted.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** How a file is recognised across renames and restarts. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  /** CRC-32 of the first `fingerprintBytes` bytes of the file (fewer while it is shorter). */
  readonly fingerprint: number;
  readonly fingerprintBytes: number;
}

export interface Checkpoint extends FileIdentity {
  /** Where the file was last seen; informative only (identity is not the path). */
  readonly path: string;
  /** Every byte before this offset has been acknowledged. */
  readonly offset: number;
}

const FORMAT = 1;

/** `dev:ino`: the key of a file's checkpoint and the `stream` of its batches' positions. */
export function identityKey(identity: Pick<FileIdentity, 'dev' | 'ino'>): string {
  return `${identity.dev}:${identity.ino}`;
}

/**
 * When to use: one per file source, to persist acknowledged offsets.
 *
 * Gotcha: `set()` only records; nothing reaches the disk until `flush()`. The source flushes on
 * an interval and at stop, so a crash re-reads at most one interval of acknowledged lines.
 */
export class CheckpointStore {
  readonly path: string;
  readonly #entries: Map<string, Checkpoint>;
  #dirty = false;
  #writes = 0;

  private constructor(path: string, entries: Map<string, Checkpoint>) {
    this.path = path;
    this.#entries = entries;
  }

  /** Loads the store at `path`; a missing file is an empty store, a damaged one is set aside. */
  static async open(path: string): Promise<{ store: CheckpointStore; setAside?: string }> {
    await mkdir(dirname(path), { recursive: true });
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return { store: new CheckpointStore(path, new Map()) };
      }
      throw err;
    }
    const entries = parse(text);
    if (entries) return { store: new CheckpointStore(path, entries) };
    const setAside = `${path}.corrupt-${Date.now()}`;
    await rename(path, setAside);
    return { store: new CheckpointStore(path, new Map()), setAside };
  }

  get size(): number {
    return this.#entries.size;
  }

  get writes(): number {
    return this.#writes;
  }

  get(key: string): Checkpoint | undefined {
    return this.#entries.get(key);
  }

  set(checkpoint: Checkpoint): void {
    this.#entries.set(identityKey(checkpoint), checkpoint);
    this.#dirty = true;
  }

  delete(key: string): void {
    if (this.#entries.delete(key)) this.#dirty = true;
  }

  /** Writes the store if it changed since the last flush. */
  async flush(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const body = JSON.stringify({ format: FORMAT, files: [...this.#entries.values()] });
    const tmp = join(dirname(this.path), `.${basename(this.path)}.tmp`);
    try {
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(body);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.path);
      await syncDirectory(dirname(this.path));
      this.#writes++;
    } catch (err) {
      this.#dirty = true;
      throw err;
    }
  }
}

/** The entries of a store file, or undefined when it is not one we wrote. */
function parse(text: string): Map<string, Checkpoint> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const files = (doc as { format?: unknown; files?: unknown })?.files;
  if ((doc as { format?: unknown })?.format !== FORMAT || !Array.isArray(files)) return undefined;
  const entries = new Map<string, Checkpoint>();
  for (const entry of files as Checkpoint[]) {
    const numbers = [entry?.dev, entry?.ino, entry?.fingerprint, entry?.fingerprintBytes];
    if (!numbers.every(Number.isSafeInteger) || !(entry.offset >= 0)) return undefined;
    entries.set(identityKey(entry), entry);
  }
  return entries;
}

/** A rename is durable only once the directory that holds the name is synced. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

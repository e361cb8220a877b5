/**
 * A hook for the buffer's own tests, outside the package's exports (`index.ts` does not re-export
 * this module): a process crash cannot be simulated in-process without reaching inside.
 */
import type { DiskBuffer } from '../disk-buffer.js';

/** Filled in by `DiskBuffer` itself, which alone can reach its private state. */
export const hooks: { crash?: (buffer: DiskBuffer) => Promise<void> } = {};

/**
 * Drops `buffer` the way a killed process would: what was written stays in the files, nothing
 * more is synced, the ledger is not written and the lock file is left behind (with this pid,
 * which the next `open` takes over). The instance is unusable afterwards.
 */
export function simulateCrash(buffer: DiskBuffer): Promise<void> {
  return hooks.crash!(buffer);
}

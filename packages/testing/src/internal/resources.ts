/**
 * What the process holds open: libuv handles and requests by type
 * (`process.getActiveResourcesInfo()`: `Timeout`, `TCPServerWrap`, `FSReqCallback`…) and, on
 * Linux, file descriptors with what they point to (`/proc/self/fd`).
 *
 * The two complement each other: an open `FileHandle` is no handle to libuv and does not show in
 * the first list, but its descriptor shows in the second; a timer has no descriptor.
 *
 * Limits: timers and handles that were `unref()`ed are not listed by Node, so they go unseen
 * (they do not keep the process alive, but still run); descriptors are only read on Linux.
 * Descriptors of the event loop's own machinery (`anon_inode:` epoll, eventfd…) are ignored:
 * libuv opens some lazily and keeps them.
 */
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { pause, waitUntil } from './timing.js';

const FD_DIR = '/proc/self/fd';

export interface ResourceSnapshot {
  /** Count by resource type. */
  readonly handles: ReadonlyMap<string, number>;
  /** `fd → target`, e.g. `23 → /tmp/out.jsonl`. */
  readonly fds: ReadonlySet<string>;
}

export function snapshotResources(): ResourceSnapshot {
  const handles = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) {
    handles.set(type, (handles.get(type) ?? 0) + 1);
  }
  return { handles, fds: openDescriptors() };
}

/** What `after` holds beyond `before`, one entry per resource: `Timeout`, `fd 23 → /tmp/x`. */
export function leftovers(before: ResourceSnapshot, after: ResourceSnapshot): string[] {
  const extra: string[] = [];
  for (const [type, count] of after.handles) {
    for (let i = before.handles.get(type) ?? 0; i < count; i++) extra.push(type);
  }
  for (const fd of after.fds) if (!before.fds.has(fd)) extra.push(`fd ${fd}`);
  return extra;
}

/**
 * Waits up to `settleMs` for everything opened since `before` to be released (closes finish on
 * a later turn of the event loop); returns what is still open then.
 */
export async function releasedSince(before: ResourceSnapshot, settleMs: number): Promise<string[]> {
  // One turn first: a close() that was awaited may still have its callback queued.
  await pause(1);
  let left: string[] = [];
  await waitUntil(() => {
    left = leftovers(before, snapshotResources());
    return left.length === 0;
  }, settleMs);
  return left;
}

function openDescriptors(): Set<string> {
  const fds = new Set<string>();
  if (!existsSync(FD_DIR)) return fds;
  for (const fd of readdirSync(FD_DIR)) {
    let target: string;
    try {
      target = readlinkSync(`${FD_DIR}/${fd}`);
    } catch {
      continue; // the descriptor of the directory listing itself, closed by now
    }
    if (target.startsWith('anon_inode:')) continue;
    fds.add(`${fd} → ${target}`);
  }
  return fds;
}

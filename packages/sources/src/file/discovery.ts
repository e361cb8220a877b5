/**
 * Finds the regular files that match the file source's globs. Each pattern is walked from its
 * static base directory (`/var/log/app` of `/var/log/app/**\/*.log`), only as deep as the
 * pattern can match, and never further than `maxFiles` results: a glob that matches a huge
 * tree costs a bounded scan, and what it left out is reported.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import picomatch from 'picomatch';

export interface FoundFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
}

export interface DiscoveryResult {
  readonly files: FoundFile[];
  /** True when more files matched than `maxFiles`. */
  readonly truncated: boolean;
}

/** Deepest directory walk for `**` patterns. */
const MAX_DEPTH = 16;

interface Pattern {
  readonly base: string;
  /** Directory levels below `base` the pattern can reach. */
  readonly depth: number;
  readonly match: (path: string) => boolean;
}

/**
 * When to use: the file source's periodic scan. Gotcha: patterns must be absolute paths;
 * symbolic links to files are followed (their target's identity counts), links to directories
 * are not walked (no cycles).
 */
export class Discovery {
  readonly #patterns: Pattern[];
  readonly #exclude: (path: string) => boolean;
  readonly #maxFiles: number;

  constructor(include: readonly string[], exclude: readonly string[], maxFiles: number) {
    this.#patterns = include.map((pattern) => {
      const { base, glob } = picomatch.scan(pattern);
      const depth = glob.includes('**') ? MAX_DEPTH : glob.split('/').length - 1;
      return { base: base || '/', depth, match: picomatch(pattern, { dot: true }) };
    });
    this.#exclude = exclude.length > 0 ? picomatch([...exclude], { dot: true }) : () => false;
    this.#maxFiles = maxFiles;
  }

  /** Every problem with a set of patterns, for `validate()`. */
  static problems(include: readonly string[] | undefined): string[] {
    if (!Array.isArray(include) || include.length === 0) {
      return ['include must list at least one glob'];
    }
    return include
      .filter((p) => typeof p !== 'string' || !isAbsolute(p))
      .map((p) => `include pattern ${JSON.stringify(p)} must be an absolute path`);
  }

  async scan(): Promise<DiscoveryResult> {
    const seen = new Map<string, FoundFile>();
    let truncated = false;
    const visit = async (dir: string, pattern: Pattern, depth: number): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return; // vanished, or not readable: the next scan tries again
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (depth < pattern.depth) await visit(path, pattern, depth + 1);
          continue;
        }
        if (!(entry.isFile() || entry.isSymbolicLink()) || seen.has(path)) continue;
        if (!pattern.match(path) || this.#exclude(path)) continue;
        if (seen.size >= this.#maxFiles) {
          truncated = true;
          return;
        }
        const info = await stat(path).catch(() => undefined);
        if (info?.isFile()) seen.set(path, { path, dev: info.dev, ino: info.ino, size: info.size });
      }
    };
    for (const pattern of this.#patterns) {
      const info = await stat(pattern.base).catch(() => undefined);
      if (info?.isFile()) {
        if (!this.#exclude(pattern.base)) {
          seen.set(pattern.base, {
            path: pattern.base,
            dev: info.dev,
            ino: info.ino,
            size: info.size,
          });
        }
      } else if (info?.isDirectory()) {
        await visit(pattern.base, pattern, 0);
      }
    }
    return { files: [...seen.values()], truncated };
  }
}

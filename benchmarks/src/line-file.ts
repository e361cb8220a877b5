/** Input files for the file-reading scenarios, written once before a race. */
import { open } from 'node:fs/promises';

/**
 * Writes `lines` lines (`lineOf(i)` each, newline added) to `path` in writes of 10,000 lines,
 * syncs the data so that no contender pays for write-back, and returns the bytes written.
 */
export async function writeLineFile(
  path: string,
  lines: number,
  lineOf: (i: number) => string,
): Promise<number> {
  const handle = await open(path, 'w');
  let bytes = 0;
  try {
    const perWrite = 10_000;
    for (let from = 0; from < lines; from += perWrite) {
      let text = '';
      for (let i = from; i < Math.min(lines, from + perWrite); i++) text += `${lineOf(i)}\n`;
      bytes += Buffer.byteLength(text);
      await handle.write(text);
    }
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return bytes;
}

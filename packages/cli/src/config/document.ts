/**
 * A config file read with its source positions: YAML (and JSON, which the YAML parser reads as
 * the subset it is) through the `yaml` package's document API, so that any problem found later
 * — in the file's syntax, its shape, or a stage's options — can be reported at the line and
 * column of the node it is about.
 *
 * Paths: a problem names what it is about as a path from the root, `['sinks', 'out', 'url']`.
 * {@link ConfigDocument.position} finds the deepest node of that path that exists: an option that
 * is missing is reported at its stage, a stage that is missing at its section.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { ConfigProblem } from './errors.js';
import { expandString } from './expand-env.js';

/** Where a value sits in the config: keys and list indexes from the root. */
export type ConfigPath = readonly (string | number)[];

/** Environment variables as `${VAR}` reads them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * A parsed config file: its data (with `${VAR}` expanded) and the positions of its nodes.
 *
 * When to use: through `loadConfig`; directly to map paths to `file:line:col` in a tool of
 * your own.
 */
export class ConfigDocument {
  readonly file: string;
  /** The file's content as plain data, variables expanded. */
  readonly data: unknown;
  readonly #contents: Node | null;
  readonly #lines: LineCounter;

  private constructor(file: string, data: unknown, contents: Node | null, lines: LineCounter) {
    this.file = file;
    this.data = data;
    this.#contents = contents;
    this.#lines = lines;
  }

  /**
   * Parses `text`. On a syntax error or an unset variable, `problems` lists each and there is
   * no document: the rest of the config is not looked at, since its shape cannot be trusted.
   */
  static parse(
    file: string,
    text: string,
    env: Environment,
  ):
    | { document: ConfigDocument; problems: [] }
    | { document: undefined; problems: ConfigProblem[] } {
    const lines = new LineCounter();
    // prettyErrors off: the message stays one sentence; the position is added here, as for
    // every other problem.
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const at = (offset: number) => {
      const { line, col } = lines.linePos(offset);
      return { file, line, column: col };
    };
    if (doc.errors.length > 0) {
      return {
        document: undefined,
        problems: doc.errors.map((err) => ({ ...at(err.pos[0]), message: syntaxMessage(err) })),
      };
    }
    const problems: ConfigProblem[] = [];
    visit(doc, {
      Scalar(key, node) {
        // Keys are names, not values: `${…}` in a key is left as written.
        if (key === 'key' || typeof node.value !== 'string') return;
        const result = expandString(node.value, env);
        if (!result.ok) {
          for (const message of result.problems)
            problems.push({ ...at(node.range?.[0] ?? 0), message });
          return;
        }
        if (result.value === node.value) return;
        // An unquoted scalar reads as YAML would have read the expanded text, so that
        // `port: ${PORT}` is a number; a quoted one stays a string.
        node.value = node.type === 'PLAIN' ? plainScalar(result.value) : result.value;
      },
    });
    if (problems.length > 0) return { document: undefined, problems };
    return { document: new ConfigDocument(file, doc.toJS(), doc.contents, lines), problems: [] };
  }

  /**
   * The line and column of `path`: of the value when it is a scalar, of the key that names it
   * when it is a map or a list (the line an operator reads as "the stage"), or with
   * `{ key: true }` of the key in any case. A path that goes past what exists gives the deepest
   * node that does; the document's start when nothing does.
   */
  position(path: ConfigPath, options: { key?: boolean } = {}): { line: number; column: number } {
    // The deepest node reached, and the key that named it when it was reached through a map.
    let node: unknown = this.#contents;
    let key: Node | undefined;
    let found = 0;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isScalar(p.key) && String(p.key.value) === String(segment),
        );
        if (!pair) break;
        key = pair.key as Node;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
        key = undefined;
        node = node.items[segment];
      } else break;
      found++;
    }
    let target: Node | undefined;
    if (options.key && found === path.length && key) target = key;
    else if (isScalar(node)) target = node;
    else if (key) target = key;
    else if (isMap(node) || isSeq(node)) target = node;
    const offset = target?.range?.[0] ?? 0;
    const { line, col } = this.#lines.linePos(offset);
    return { line, column: col };
  }

  /** A problem at `path` (see {@link position}). */
  problem(path: ConfigPath, message: string, options: { key?: boolean } = {}): ConfigProblem {
    return { file: this.file, ...this.position(path, options), message };
  }
}

/** The parser's sentence without its position, which the problem carries itself. */
function syntaxMessage(err: { code: string; message: string }): string {
  const sentence = err.message.replace(/\s+at line \d+, column \d+.*$/s, '');
  return `YAML syntax error (${err.code}): ${sentence}`;
}

/** The value YAML's core schema gives an unquoted `text`: numbers and booleans; else the text. */
function plainScalar(text: string): string | number | boolean {
  if (/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^(?:true|True|TRUE)$/.test(text)) return true;
  if (/^(?:false|False|FALSE)$/.test(text)) return false;
  return text;
}

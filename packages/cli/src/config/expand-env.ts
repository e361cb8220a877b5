/**
 * `${VAR}` in a config file's string values, as a shell reads it, minus everything a shell does
 * besides:
 *
 * | written            | becomes                                                        |
 * |--------------------|----------------------------------------------------------------|
 * | `${VAR}`           | the variable's value; unset is a problem (the run stops there) |
 * | `${VAR:-fallback}` | the value, or `fallback` when the variable is unset or empty   |
 * | `$${`              | a literal `${` (`$$` is one `$`)                               |
 *
 * Anything else that starts with `${` is a problem rather than text, since it is almost always
 * a mistyped reference; a `$` not followed by `{` is left alone. A fallback is taken as
 * written (no reference inside it is expanded). Unset variables fail the load instead of
 * becoming empty strings, which would otherwise pass validation as, say, an empty token.
 */
import type { Environment } from './document.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `text` with every reference replaced, or every problem with it. */
export function expandString(
  text: string,
  env: Environment,
): { ok: true; value: string } | { ok: false; problems: string[] } {
  if (!text.includes('$')) return { ok: true, value: text };
  const problems: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next !== '{') {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) {
      problems.push(
        `unterminated variable reference "${text.slice(dollar)}": write \${NAME} or \${NAME:-default} ($\${ for a literal \${)`,
      );
      break;
    }
    const inner = text.slice(dollar + 2, close);
    const sep = inner.indexOf(':-');
    const name = sep < 0 ? inner : inner.slice(0, sep);
    if (!NAME.test(name)) {
      problems.push(
        `"\${${inner}}" is not a variable reference: write \${NAME} or \${NAME:-default} ($\${ for a literal \${)`,
      );
    } else {
      const value = env[name];
      if (sep >= 0) out += value === undefined || value === '' ? inner.slice(sep + 2) : value;
      else if (value === undefined) {
        problems.push(
          `environment variable ${name} is not set (write \${${name}:-default} to give it a default)`,
        );
      } else out += value;
    }
    i = close + 1;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: out };
}

/**
 * Syslog with the format detected per message: after `<PRI>`, RFC 5424 has its version and a
 * space (`<34>1 `); anything else is RFC 3164. The detection looks at two bytes, so a receiver
 * that sees both formats pays nothing for not knowing which.
 */
import { withPri } from './common.js';
import { parseRfc3164After } from './rfc3164.js';
import { parseRfc5424After } from './rfc5424.js';

/**
 * Parses one syslog message, RFC 5424 or RFC 3164, into a `LogEvent`: severity from the PRI,
 * facility, hostname, app-name, procid, msgid and structured data as attributes (keys in
 * {@link SYSLOG_ATTRIBUTES}), the message as `message`, and its time (or `options.now` when it
 * has none) as `timestamp`.
 *
 * When to use: on the payload of one datagram or one TCP frame, with transport framing (octet
 * counts, newlines) already removed; trailing CR, LF and NUL bytes are ignored.
 *
 * Gotchas: never throws — garbage gives `{ ok: false, code, error }` with a stable `code`, so the
 * caller keeps the line raw or drops it and counts it. A message that starts `<PRI>1 ` but is
 * malformed further on is reported as an RFC 5424 error, not re-read as RFC 3164; an RFC 3164
 * message whose content starts with `1 ` is read as RFC 5424 (and usually fails).
 *
 * @example
 * ```ts
 * const now = Date.now();
 * const r = parseSyslog(datagram, { now });
 * const event = r.ok
 *   ? r.event
 *   : { timestamp: now, message: String(datagram), attributes: { parse_error: r.error } };
 * ```
 */
export const parseSyslog = withPri((message, options) =>
  // Only version 1 exists; `<13>2 files left` is more likely RFC 3164 content than version 2.
  message.text.charCodeAt(message.start) === 49 /* 1 */ &&
  message.text.charCodeAt(message.start + 1) === 32
    ? parseRfc5424After(message)
    : parseRfc3164After(message, options),
);

/**
 * The option table of every stage type the registry knows, and of the parts of a config that
 * are not stages (buffers, pools, encoders, the top level).
 *
 * Three things read these tables, so they cannot drift apart silently:
 * - the config loader refuses a key a table does not list (a typo such as `urll` is an error
 *   at its line, not an option quietly ignored), and a key marked `codeOnly`;
 * - `spillway config-reference` renders them as docs/configuration.md;
 * - the compiler: each table is an {@link OptionTable} of the factory's own options type, a
 *   mapped type over its keys, so an option added to a stage and missing here (or listed here
 *   and gone from the stage) fails `tsc`.
 *
 * What the compiler cannot check is the prose: keep `default` and `description` as the stage's
 * TSDoc has them.
 */
import type { BufferSpec, OutputPoolOptions, PipelineSpec } from '@spillway/core';
import type { SpillOptions } from '@spillway/disk-buffer';
import type {
  BlackholeOptions,
  ElasticsearchBulkOptions,
  EnvelopeOptions,
  FileSinkOptions,
  HttpSinkOptions,
  JsonArrayOptions,
  LokiOptions,
  NdjsonOptions,
  OtlpEncoderOptions,
  StdoutOptions,
} from '@spillway/sinks';
import type {
  FileSourceOptions,
  GeneratorOptions,
  HttpReceiverOptions,
  HttpSourceOptions,
  NetSourceOptions,
  OtlpOptions,
  StdinOptions,
  TcpOptions,
  UdpOptions,
} from '@spillway/sources';
import type {
  addFields,
  dropFields,
  encode,
  filter,
  map,
  parseJson,
  parseLogfmt,
  parseRegex,
  parseSyslog,
  redact,
  rename,
  sample,
  sql,
} from '@spillway/transforms';
import type { WorkersOptions } from '@spillway/workers';

/** One option, as the reference shows it. */
export interface OptionDoc {
  /** The value's shape, TypeScript-like: `integer`, `string[]`, `"raw" | "syslog"`. */
  readonly type: string;
  /** Absent when the option is required or has no default value. */
  readonly default?: string;
  readonly required?: true;
  /** One or two sentences: what it does, and what to know. */
  readonly description: string;
  /**
   * Only a TypeScript config can set it (a function, a stream): a config file naming it is
   * refused with a sentence saying so.
   */
  readonly codeOnly?: true;
}

/** Exactly one entry per option of `O`: the compiler checks both directions. */
export type OptionTable<O> = { readonly [K in keyof O & string]-?: OptionDoc };

/** The options of the factory `F`. */
type OptionsOf<F> = F extends (options: infer O) => unknown ? O : never;

// --- shared pieces ----------------------------------------------------------------------------

const onListening: OptionDoc = {
  type: 'function',
  codeOnly: true,
  description:
    'Called with the bound address once the source listens (the way to learn a port-0 port).',
};

const netOptions: OptionTable<NetSourceOptions> = {
  host: {
    type: 'string',
    default: '"0.0.0.0"',
    description: 'Address to listen on; `::` for IPv6.',
  },
  port: {
    type: 'integer',
    required: true,
    description: 'Port to listen on, 0–65535; `0` picks a free one and claims no resource.',
  },
  format: {
    type: '"raw" | "syslog"',
    default: '"raw"',
    description:
      '`raw`: newline-delimited bytes, no per-line objects. `syslog`: each record parsed (RFC 5424 or 3164) into an event.',
  },
  rfc3164TimeZone: {
    type: '"local" | "utc"',
    default: '"local"',
    description: 'With `format: syslog`: the zone of RFC 3164 dates, which carry none.',
  },
  onParseError: {
    type: '"keep-raw" | "drop"',
    default: '"keep-raw"',
    description:
      'With `format: syslog`: a record that is not syslog is kept as received (with `parse_error` attributes) or dropped; counted either way.',
  },
  batch: {
    type: '{ maxEvents?, maxBytes?, lingerMs? }',
    default: '{ maxEvents: 1024, maxBytes: 262144, lingerMs: 20 }',
    description:
      'How batches are cut: at `maxEvents` records, `maxBytes` bytes, or `lingerMs` after the first record, whichever comes first.',
  },
  onListening,
};

const receiverOptions: OptionTable<HttpReceiverOptions> = {
  host: {
    type: 'string',
    default: '"127.0.0.1"',
    description: 'Interface to listen on; `0.0.0.0` or `::` to accept remote clients.',
  },
  port: { type: 'integer', description: 'TCP port; `0` picks a free one.' },
  maxBodyBytes: {
    type: 'integer',
    default: '10485760 (10 MiB)',
    description:
      'Largest request body, enforced on Content-Length, on the bytes read and on the inflated size of a gzip body; above it: 413.',
  },
  maxInFlightBytes: {
    type: 'integer',
    default: '67108864 (64 MiB)',
    description:
      'Bytes accepted and not yet acknowledged end to end, at most; above it: 429 with Retry-After.',
  },
  retryAfterSec: {
    type: '{ min?, max? }',
    default: '{ min: 1, max: 5 }',
    description: 'Bounds of the advised Retry-After, in seconds.',
  },
  authToken: {
    type: 'string',
    description:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config files' ${VAR}, literally.
      'Require `Authorization: Bearer <token>` (compared in constant time). Write `${VAR}` to take it from the environment.',
  },
  tls: {
    type: '{ key, cert, passphrase?, ca? }',
    description: 'Serve HTTPS with this key and certificate (PEM text).',
  },
  emitTimeoutMs: {
    type: 'number',
    default: '5000',
    description: 'How long a request may wait for room in the pipeline before it is answered 503.',
  },
  requestTimeoutMs: {
    type: 'number',
    default: '30000',
    description: 'Time to receive a whole request; Node answers 408 after it.',
  },
  maxConnections: {
    type: 'integer',
    default: '1024',
    description: 'Open connections at most; further ones are closed at once.',
  },
  batchSize: {
    type: 'integer',
    default: '1024',
    description: 'Events per batch: a large request becomes several batches.',
  },
  onListening,
};

const parseOptions = {
  field: {
    type: 'string',
    default: '"message"',
    description:
      'What to parse: the message, or the name of an attribute (replaced by what came out of it).',
  },
  onError: {
    type: '"keep" | "drop"',
    default: '"keep"',
    description:
      'A line that does not parse is kept unchanged with an `error` attribute, or dropped; counted as `parse_errors` either way.',
  },
} satisfies Record<string, OptionDoc>;

const promotionOptions = {
  messageField: {
    type: 'string',
    default: '`msg`, then `message`',
    description: 'The key whose string value becomes the message.',
  },
  timestampField: {
    type: 'string',
    default: '`time`, `timestamp`, `ts`, `@timestamp`',
    description: 'The key whose value becomes the timestamp.',
  },
  severityField: {
    type: 'string',
    default: '`level`, then `severity`',
    description: 'The key whose value becomes the severity.',
  },
} satisfies Record<string, OptionDoc>;

const deadLetterFile: OptionDoc = {
  type: '{ path, maxBytes? }',
  description:
    'Where batches that failed for good are written (NDJSON); replay them with `spillway dlq replay`. Without it they are counted only.',
};

// --- sources ----------------------------------------------------------------------------------

const generatorOptions: OptionTable<GeneratorOptions> = {
  count: {
    type: 'integer',
    default: 'unbounded',
    description: 'Events to make in all; without it, until the pipeline stops.',
  },
  batchSize: { type: 'integer', default: '1024', description: 'Events per batch.' },
  ratePerSec: {
    type: 'number',
    default: 'as fast as taken',
    description: 'Events per second at most.',
  },
  format: {
    type: '"events" | "raw"',
    default: '"events"',
    description:
      '`events`: structured events with a `seq` attribute; `raw`: NDJSON bytes, as a file tail would give.',
  },
  message: {
    type: 'function',
    codeOnly: true,
    description: 'The message of event number `seq`.',
  },
};

const fileOptions: OptionTable<FileSourceOptions> = {
  include: {
    type: 'string[]',
    required: true,
    description: 'Absolute globs of the files to tail, e.g. `/var/log/app/*.log`.',
  },
  exclude: { type: 'string[]', default: '[]', description: 'Globs of files to leave out.' },
  dataDir: {
    type: 'string',
    required: true,
    description:
      'Where checkpoints are kept (`<dataDir>/<stage>.checkpoints.json`): a restart or a reload resumes from them.',
  },
  startAt: {
    type: '"beginning" | "end"',
    default: '"beginning"',
    description:
      'Where to start in a file that has no checkpoint and was there at the first scan; files that appear later are read whole.',
  },
  chunkBytes: { type: 'integer', default: '262144 (256 KiB)', description: 'Bytes per read.' },
  maxLineBytes: {
    type: 'integer',
    default: '1048576 (1 MiB)',
    description: 'Longest line handed on whole.',
  },
  longLines: {
    type: '"split" | "truncate"',
    default: '"split"',
    description: 'What longer lines become: several lines (nothing lost) or one cut line; counted.',
  },
  scanIntervalMs: {
    type: 'integer',
    default: '1000',
    description: 'How often the globs are scanned for new, rotated and deleted files.',
  },
  pollIntervalMs: {
    type: 'integer',
    default: '250',
    description: 'How long to wait when every file is at its end.',
  },
  checkpointIntervalMs: {
    type: 'integer',
    default: '1000',
    description: 'How often changed checkpoints are written (and always at stop).',
  },
  maxOpenFiles: {
    type: 'integer',
    default: '1024',
    description: 'Files held open at most; more matches wait their turn, counted.',
  },
  maxInFlightBatches: {
    type: 'integer',
    default: '64',
    description: 'Unacknowledged batches per file at most; reading that file waits beyond.',
  },
  fingerprintBytes: {
    type: 'integer',
    default: '256',
    description: "Bytes of a file's start that identify it (with device and inode).",
  },
  releaseAfterMs: {
    type: 'integer',
    default: '1000',
    description:
      'A rotated-away or deleted file is released once it has been at its end this long.',
  },
};

const udpOptions: OptionTable<UdpOptions> = {
  ...netOptions,
  receiveBufferBytes: {
    type: 'integer',
    default: "the system's",
    description:
      "The socket's receive buffer (SO_RCVBUF): what the kernel holds while the process is busy.",
  },
  maxMessageBytes: {
    type: 'integer',
    default: '65535',
    description: 'Larger datagrams are dropped and counted (`drops.oversize`).',
  },
  kernelDropsIntervalMs: {
    type: 'number',
    default: '1000',
    description: "How often the kernel's drop count is read (Linux).",
  },
};

const tcpOptions: OptionTable<TcpOptions> = {
  ...netOptions,
  framing: {
    type: '"auto" | "newline" | "octet-counting"',
    default: '`auto` with syslog, `newline` with raw',
    description: 'How records are delimited; `auto` decides per connection by its first byte.',
  },
  maxFrameBytes: { type: 'integer', default: '65536', description: 'Longest frame, in bytes.' },
  onOversize: {
    type: '"truncate" | "drop"',
    default: '"truncate"',
    description: 'What a longer frame becomes; counted either way.',
  },
  maxConnections: {
    type: 'integer',
    default: '256',
    description: 'Connections open at once; more are closed on accept and counted.',
  },
  idleTimeoutMs: {
    type: 'number',
    default: '300000',
    description: 'A connection that sends nothing for this long is closed; 0 disables.',
  },
  tls: {
    type: '{ key, cert, passphrase?, ca?, requestCert?, rejectUnauthorized?, minVersion? }',
    description: 'Listen with TLS (PEM text) instead of plain TCP.',
  },
};

const otlpOptions: OptionTable<OtlpOptions> = {
  ...receiverOptions,
  port: { type: 'integer', default: '4318', description: 'TCP port; `0` picks a free one.' },
  path: { type: 'string', default: '"/v1/logs"', description: 'Path served.' },
  maxEventBytes: {
    type: 'integer',
    default: '1048576 (1 MiB)',
    description: "A larger record is rejected alone, in the response's partialSuccess.",
  },
};

const httpSourceOptions: OptionTable<HttpSourceOptions> = {
  ...receiverOptions,
  port: {
    type: 'integer',
    required: true,
    description: 'TCP port; `0` picks a free one.',
  },
  path: { type: 'string', default: '"/"', description: 'Path served.' },
  messageField: {
    type: 'string',
    default: '"message"',
    description: "The field whose value is the event's message.",
  },
  timestampField: {
    type: 'string',
    default: '"timestamp"',
    description: 'The field holding the event time (epoch milliseconds or an ISO 8601 string).',
  },
  maxEventBytes: {
    type: 'integer',
    default: '1048576 (1 MiB)',
    description: 'A larger object is rejected alone and listed in the response.',
  },
};

const stdinOptions: OptionTable<StdinOptions> = {
  format: {
    type: '"raw" | "syslog"',
    default: '"raw"',
    description: '`raw` lines, or `syslog` events (RFC 5424 / 3164, detected per line).',
  },
  maxLineBytes: {
    type: 'integer',
    default: '1048576 (1 MiB)',
    description: 'Longest line handed on whole.',
  },
  onOversize: {
    type: '"truncate" | "drop"',
    default: '"truncate"',
    description: 'What longer lines become; counted either way.',
  },
  onParseError: {
    type: '"keep-raw" | "drop"',
    default: '"keep-raw"',
    description: 'Lines that are not valid syslog: kept raw with an error attribute, or dropped.',
  },
  rfc3164TimeZone: {
    type: '"local" | "utc"',
    default: '"local"',
    description: 'Time zone of RFC 3164 timestamps, which carry none.',
  },
  stream: {
    type: 'Readable',
    codeOnly: true,
    description: 'Read this stream instead of `process.stdin`.',
  },
};

// --- transforms -------------------------------------------------------------------------------

const parseJsonOptions: OptionTable<OptionsOf<typeof parseJson>> = {
  ...parseOptions,
  ...promotionOptions,
};

const parseLogfmtOptions: OptionTable<OptionsOf<typeof parseLogfmt>> = {
  ...parseOptions,
  ...promotionOptions,
  maxKeys: {
    type: 'integer',
    default: '256',
    description: 'Most distinct keys kept per line; further ones are counted in `dropped_keys`.',
  },
};

const parseSyslogOptions: OptionTable<OptionsOf<typeof parseSyslog>> = {
  ...parseOptions,
  rfc3164TimeZone: {
    type: '"local" | "utc"',
    default: '"local"',
    description: 'The zone of RFC 3164 dates, which carry none.',
  },
};

const parseRegexOptions: OptionTable<OptionsOf<typeof parseRegex>> = {
  ...parseOptions,
  pattern: {
    type: 'string',
    required: true,
    description: 'A regular expression with at least one named group `(?<name>…)`.',
  },
  flags: {
    type: 'string',
    description: 'Its flags, e.g. `i`; `g` and `y` are refused.',
  },
};

const filterOptions: OptionTable<OptionsOf<typeof filter>> = {
  where: {
    type: 'string',
    description:
      "A SQL boolean expression over the event, e.g. `severity = 'error' OR status >= 500`. Exactly one of `where` and `when`.",
  },
  when: {
    type: '{ module, export? }',
    description:
      'A module (file URL or package name) exporting `(event) => boolean`; a function only from TypeScript.',
  },
};

const mapOptions: OptionTable<OptionsOf<typeof map>> = {
  fn: {
    type: '{ module, export? }',
    required: true,
    description:
      'A module (file URL or package name) exporting `(event) => event | null`; a function only from TypeScript.',
  },
};

const addFieldsOptions: OptionTable<OptionsOf<typeof addFields>> = {
  fields: {
    type: 'object',
    required: true,
    description: 'Attribute name → JSON value.',
  },
  overwrite: {
    type: 'boolean',
    default: 'true',
    description: 'Replace an attribute the event already has; false keeps the event’s own.',
  },
};

const dropFieldsOptions: OptionTable<OptionsOf<typeof dropFields>> = {
  fields: { type: 'string[]', required: true, description: 'Attribute names to remove.' },
};

const renameOptions: OptionTable<OptionsOf<typeof rename>> = {
  fields: { type: 'object', required: true, description: 'Attribute name → its new name.' },
};

const sampleOptions: OptionTable<OptionsOf<typeof sample>> = {
  rate: {
    type: 'integer',
    required: true,
    description: 'Keep 1 in `rate` (1 keeps everything), deterministically by `key`.',
  },
  key: {
    type: 'string',
    default: 'the message',
    description: 'The attribute whose value is hashed.',
  },
};

const redactOptions: OptionTable<OptionsOf<typeof redact>> = {
  patterns: {
    type: '(string | { name })[]',
    required: true,
    description:
      'Regular expressions, or built-ins by name: `email`, `ipv4`, `credit-card`, `bearer`.',
  },
  fields: {
    type: 'string[]',
    default: 'the message and every string attribute',
    description: 'Where to look: `message` and attribute names.',
  },
  replacement: {
    type: 'string',
    default: '"[REDACTED]"',
    description: 'What a match becomes (inserted as written).',
  },
};

const sqlOptions: OptionTable<OptionsOf<typeof sql>> = {
  query: {
    type: 'string',
    required: true,
    description:
      'The query, e.g. `SELECT *, upper(severity) AS level FROM logs WHERE status >= 500`.',
  },
};

const encodeOptions: OptionTable<OptionsOf<typeof encode>> = {
  format: {
    type: '"ndjson" | "json" | "msgpack"',
    required: true,
    description: 'The bytes the events become (the batch is raw from here on).',
  },
  flatten: {
    type: 'boolean',
    default: 'false',
    description:
      'Attributes beside `timestamp`, `message` and `severity` instead of under `attributes`.',
  },
};

const workersOptions: OptionTable<WorkersOptions> = {
  steps: {
    type: '{ type, ...options }[]',
    required: true,
    description:
      'The transforms each batch goes through, in one worker hop: each written as a transform stage is, without `inputs` (any type above but `workers`).',
  },
  threads: {
    type: 'integer',
    default: 'the number of cores',
    description: 'Worker threads, 1–256.',
  },
  minThreads: {
    type: 'integer',
    default: '`threads`',
    description: 'Threads kept alive when idle.',
  },
  idleTimeoutMs: {
    type: 'integer',
    default: '60000',
    description: 'Milliseconds before an idle thread above `minThreads` ends.',
  },
  inFlight: {
    type: 'integer',
    default: '2 × threads',
    description: 'Batches in flight (running or queued for a thread).',
  },
  taskTimeoutMs: {
    type: 'integer',
    default: '30000',
    description: 'A task running longer is abandoned and its thread terminated.',
  },
  resourceLimits: {
    type: '{ maxOldGenerationSizeMb?, maxYoungGenerationSizeMb?, stackSizeMb? }',
    description: 'Heap and stack limits of each thread; a thread over them dies and is replaced.',
  },
  deadLetters: deadLetterFile,
};

// --- sinks ------------------------------------------------------------------------------------

const httpSinkOptions: OptionTable<HttpSinkOptions> = {
  url: {
    type: 'string',
    required: true,
    description:
      'The endpoint, http or https; `{tenant}` in it is replaced by each request’s tenant.',
  },
  method: { type: '"POST" | "PUT"', default: '"POST"', description: 'The request method.' },
  encoder: {
    type: '{ type, ...options }',
    default: '{ type: ndjson }',
    description: 'The wire format: one of the encoders below, by `type`.',
  },
  headers: {
    type: 'object',
    description: 'Sent with every request (`content-type` and the id header win).',
  },
  token: {
    type: '{ env } | { file }',
    description:
      'A bearer token, read once at start from an environment variable or a file; never written in the config.',
  },
  compression: {
    type: '"none" | "gzip"',
    default: '"none"',
    description: '`gzip` compresses off the main thread.',
  },
  tls: {
    type: '{ ca?, cert?, key?, rejectUnauthorized?, servername? }',
    description: 'Trust and client certificates; each PEM as text or `{ file }`.',
  },
  proxy: {
    type: '"env" | "none" | string | { url, tls? }',
    default: '"env"',
    description: '`env` follows HTTP(S)_PROXY and NO_PROXY.',
  },
  tenant: {
    type: '{ field, allowed, header?, fallback? }',
    description:
      'Multi-tenant routing: the attribute naming each event’s tenant, and every tenant allowed.',
  },
  batch: {
    type: '{ maxEvents?, maxBytes?, lingerMs? }',
    default: '{ maxEvents: 10000, maxBytes: 4194304, lingerMs: 200 }',
    description: 'How records from many batches are gathered into one request.',
  },
  retry: {
    type: '{ initialMs?, multiplier?, maxMs?, maxAttempts?, maxElapsedMs?, maxRetryAfterMs?, budget? }',
    default:
      '{ initialMs: 250, multiplier: 2, maxMs: 30000, maxAttempts: 8, maxElapsedMs: 120000 }',
    description:
      'Backoff with full jitter, Retry-After as floor, and a retry budget (`{ ratio, minPerSecond }`).',
  },
  whenExhausted: {
    type: '"requeue" | "dead-letter"',
    default: '"requeue"',
    description:
      'When attempts run out on transient failures: give the batches back to the buffer (to disk with `spill`), or dead-letter them.',
  },
  concurrency: {
    type: '"adaptive" | integer | { adaptive: { … } }',
    default: '"adaptive"',
    description: 'Requests in flight: AIMD from 1 up to 32, or a fixed number.',
  },
  maxConnections: {
    type: 'integer',
    default: 'the concurrency’s maximum',
    description: 'Connections per origin.',
  },
  timeoutMs: {
    type: 'number',
    default: '30000',
    description: 'One attempt’s time limit, connect to last byte of the answer.',
  },
  health: {
    type: '{ downAfter?, window? }',
    default: '{ downAfter: 5, window: 20 }',
    description: 'When the backend counts as down (then one probe at a time).',
  },
  deadLetters: deadLetterFile,
  writeSlots: {
    type: 'integer',
    default: '16',
    description: 'Batches the pipeline may have in this sink at once (its output pool’s size).',
  },
  idHeader: {
    type: 'string',
    default: '"x-spillway-batch-id"',
    description: 'The header carrying the batch id, the same on every retry.',
  },
  maxResponseBytes: {
    type: 'integer',
    default: '4194304 (4 MiB)',
    description: 'The most response body read, for per-item results and dead letters.',
  },
};

const fileSinkOptions: OptionTable<FileSinkOptions> = {
  path: {
    type: 'string',
    required: true,
    description: 'Absolute path of the current file; its directory must exist.',
  },
  maxBytes: {
    type: 'integer',
    default: '104857600 (100 MiB)',
    description: 'Size after which the file is rotated.',
  },
  maxFiles: {
    type: 'integer',
    default: '5',
    description: 'Files kept, the current one included (`app.log`, `app.log.1`, …).',
  },
  fsync: {
    type: '"always" | "interval" | "never"',
    default: '"interval"',
    description: 'When written data is forced to the disk.',
  },
  fsyncIntervalMs: {
    type: 'number',
    default: '1000',
    description: 'With `fsync: interval`: how long written data may stay unsynced.',
  },
  pathCheckMs: {
    type: 'number',
    default: '1000',
    description: 'How often the path is checked for a file removed or replaced from outside.',
  },
};

const stdoutOptions: OptionTable<StdoutOptions> = {
  stream: {
    type: 'Writable',
    codeOnly: true,
    description: 'Write to this stream instead of `process.stdout`.',
  },
};

const blackholeOptions: OptionTable<BlackholeOptions> = {
  delayMs: {
    type: 'number',
    default: '0',
    description:
      'Milliseconds each write takes before it acknowledges, as a slow destination would.',
  },
};

/**
 * The option table of each source type, by type: what the registry checks a config file's keys
 * against and the reference lists.
 */
export const sourceOptions = {
  generator: generatorOptions,
  file: fileOptions,
  udp: udpOptions,
  tcp: tcpOptions,
  otlp: otlpOptions,
  http: httpSourceOptions,
  stdin: stdinOptions,
} as const;

/** The option table of each transform type (every verb, and `workers`), by type. */
export const transformOptions = {
  parseJson: parseJsonOptions,
  parseLogfmt: parseLogfmtOptions,
  parseSyslog: parseSyslogOptions,
  parseRegex: parseRegexOptions,
  filter: filterOptions,
  map: mapOptions,
  addFields: addFieldsOptions,
  dropFields: dropFieldsOptions,
  rename: renameOptions,
  sample: sampleOptions,
  redact: redactOptions,
  sql: sqlOptions,
  encode: encodeOptions,
  workers: workersOptions,
} as const;

/** The option table of each sink type, by type. */
export const sinkOptions = {
  http: httpSinkOptions,
  file: fileSinkOptions,
  stdout: stdoutOptions,
  blackhole: blackholeOptions,
} as const;

// --- the HTTP sink's encoders -----------------------------------------------------------------

/** The encoders an HTTP sink's `encoder: { type, … }` names, with their options. */
export const encoderOptions: Readonly<
  Record<
    string,
    { readonly summary: string; readonly options: Readonly<Record<string, OptionDoc>> }
  >
> = {
  ndjson: {
    summary: 'One JSON object per line (the default).',
    options: {
      rawLines: {
        type: '"verbatim" | "message"',
        default: '"verbatim"',
        description:
          'What a raw line becomes: its bytes as they are, or `{"timestamp","message"}`.',
      },
      flatten: {
        type: 'boolean',
        default: 'false',
        description: 'Attributes beside `timestamp`, `message` and `severity`.',
      },
    } satisfies OptionTable<NdjsonOptions>,
  },
  jsonArray: {
    summary: 'One JSON array per request.',
    options: {
      flatten: {
        type: 'boolean',
        default: 'false',
        description: 'Attributes beside `timestamp`, `message` and `severity`.',
      },
    } satisfies OptionTable<JsonArrayOptions>,
  },
  envelope: {
    summary: 'Each record inside a JSON document of the receiver’s design (Splunk HEC, webhooks).',
    options: {
      template: {
        type: 'object',
        required: true,
        description:
          'The document per record; string values may be `{{record}}`, `{{message}}`, `{{timestamp}}`, `{{severity}}`, `{{attributes.<key>}}`.',
      },
      framing: {
        type: '"ndjson" | "array"',
        default: '"ndjson"',
        description: 'One document per line, or one JSON array of them.',
      },
      flatten: {
        type: 'boolean',
        default: 'false',
        description: 'For `{{record}}`: attributes beside `timestamp`, `message` and `severity`.',
      },
    } satisfies OptionTable<EnvelopeOptions>,
  },
  loki: {
    summary: 'Grafana Loki push API (JSON).',
    options: {
      labels: {
        type: 'string[]',
        required: true,
        description:
          'Attribute keys whose values become labels; may be empty when `staticLabels` names one.',
      },
      staticLabels: { type: 'object', description: 'Labels every stream carries.' },
      maxStreams: {
        type: 'integer',
        default: '100',
        description: 'Distinct streams one request may hold; more splits the request.',
      },
      line: {
        type: '"message" | "json"',
        default: '"message"',
        description: 'The log line: the message, or the whole record as JSON.',
      },
    } satisfies OptionTable<LokiOptions>,
  },
  elasticsearchBulk: {
    summary: 'Elasticsearch / OpenSearch `_bulk`, with per-item results.',
    options: {
      index: {
        type: 'string',
        required: true,
        description: 'The index, data stream or alias every record goes to.',
      },
      action: {
        type: '"create" | "index"',
        default: '"create"',
        description: '`create` is the only action a data stream takes.',
      },
    } satisfies OptionTable<ElasticsearchBulkOptions>,
  },
  otlp: {
    summary: 'OTLP/HTTP logs, protobuf or JSON.',
    options: {
      encoding: {
        type: '"protobuf" | "json"',
        required: true,
        description: 'The OTLP encoding (`application/x-protobuf` or `application/json`).',
      },
    } satisfies OptionTable<OtlpEncoderOptions>,
  },
};

// --- the parts of a config that are not stages ------------------------------------------------

/** The in-memory buffer (`BufferSpec` without `create`). */
export const memoryBufferOptions: OptionTable<Exclude<BufferSpec, { create: unknown }>> = {
  capacity: { type: 'integer', default: '16', description: 'Batches held at most.' },
  maxBytes: { type: 'integer', default: '16777216 (16 MiB)', description: 'Bytes held at most.' },
  whenFull: {
    type: '"block" | "drop-newest" | "drop-oldest"',
    default: '"block"',
    description:
      'What a sender meets when the buffer is full: it waits, or a batch is dropped and counted.',
  },
};

/** The disk buffer (`buffer: { type: spill, … }`). */
export const spillBufferOptions: OptionTable<SpillOptions> = {
  dir: {
    type: 'string',
    required: true,
    description:
      'Parent directory; the stage’s buffer lives in `<dir>/<stage>.in`, locked by one process.',
  },
  memory: {
    type: '{ capacity?, maxBytes? }',
    default: '{ capacity: 16, maxBytes: 16777216 }',
    description: 'The memory part, used before anything goes to disk.',
  },
  maxBytes: {
    type: 'integer',
    default: '1073741824 (1 GiB)',
    description: 'Most bytes of segment files on disk.',
  },
  segmentBytes: {
    type: 'integer',
    default: '16777216 (16 MiB)',
    description: 'Size at which a segment is sealed; also the largest record. At least 4096.',
  },
  fsync: {
    type: '"always" | "interval" | "never"',
    default: '"interval"',
    description: 'When appended data is forced to the disk.',
  },
  fsyncIntervalMs: { type: 'number', default: '1000', description: 'With `fsync: interval`.' },
  whenFull: {
    type: '"block" | "drop-oldest"',
    default: '"block"',
    description:
      'When the disk bound is reached: senders wait (pressure goes upstream), or the oldest segment is deleted, counted.',
  },
  maxInFlight: {
    type: 'integer',
    default: '1024',
    description: 'Records read back and not yet acknowledged, at most.',
  },
  fs: { type: 'FileSystem', codeOnly: true, description: 'The file layer (tests).' },
  onError: {
    type: 'function',
    codeOnly: true,
    description: 'Sees every counted write error.',
  },
};

/** A sink's output pool. */
export const poolOptions: OptionTable<OutputPoolOptions> = {
  minWorkers: { type: 'integer', default: '1', description: 'Workers kept when idle.' },
  maxWorkers: {
    type: 'integer',
    default: 'the sink’s concurrency, else 4',
    description: 'Writes open at once; at `maxWorkers` busy the sink’s buffer fills.',
  },
  idleTimeoutMs: {
    type: 'number',
    default: '30000',
    description: 'A worker idle this long is reaped, down to `minWorkers`.',
  },
};

/** The top level of a config. */
export const pipelineOptions: OptionTable<PipelineSpec> = {
  name: {
    type: 'string',
    default: '"pipeline"',
    description: 'Shown in messages, metrics and the dashboard.',
  },
  sources: {
    type: 'object',
    required: true,
    description: 'Sources by name, each `{ type, ...options }`.',
  },
  transforms: {
    type: 'object',
    description: 'Transforms by name, each `{ type, inputs, buffer?, ...options }`.',
  },
  sinks: {
    type: 'object',
    required: true,
    description: 'Sinks by name, each `{ type, inputs, buffer?, pool?, ...options }`.',
  },
  defaultBuffer: {
    type: 'buffer',
    default: 'in memory, 16 batches, 16 MiB, block',
    description: 'The buffer of every transform and sink that names none.',
  },
  fanOut: {
    type: '"isolated" | "lockstep"',
    default: '"isolated"',
    description:
      '`isolated`: consumers of one producer must not hold each other back (each needs a spill or drop-* buffer). `lockstep`: all move at the pace of the slowest.',
  },
};

/** The keys of a stage that are the pipeline's rather than the stage's options. */
export const stageKeyOptions: Readonly<Record<'type' | 'inputs' | 'buffer' | 'pool', OptionDoc>> = {
  type: { type: 'string', required: true, description: 'The stage type: one of those below.' },
  inputs: {
    type: 'string[]',
    required: true,
    description: 'Transforms and sinks: the stages it reads from.',
  },
  buffer: {
    type: 'buffer',
    default: '`defaultBuffer`',
    description: 'Transforms and sinks: the bounded buffer in front of the stage (see Buffers).',
  },
  pool: {
    type: '{ minWorkers?, maxWorkers?, idleTimeoutMs? }',
    default: 'see Output pool',
    description: 'Sinks: the output pool of concurrent writes.',
  },
};

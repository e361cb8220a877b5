// The HTTP sink against real loopback servers that misbehave: stalls, bursts of 503 with and
// without Retry-After, 429, resets mid-request, slow bodies, 413, 404 for unexpected fields,
// a self-signed TLS server, a CONNECT proxy, an Elasticsearch-style partial failure. Across
// all of them: nothing accepted is lost, retries carry the same batch id, and rejected records
// land in the dead letters with their status.
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, mock } from 'node:test';
import {
  type Batch,
  type BuildContext,
  Counters,
  createEventBatch,
  createRawBatch,
  type Sink,
  type SinkOutcome,
} from '@spillway/core';
import { type DeadLetter, readDeadLetters } from '@spillway/disk-buffer';
import {
  type Backend,
  basicAuth,
  bulkResponder,
  parseNdjson,
  startBackend,
  startConnectProxy,
  testCertificates,
} from '@spillway/testing';
import { replayDeadLetters } from '../src/dead-letters/replay.js';
import { elasticsearchBulk } from '../src/encoders/elasticsearch-bulk.js';
import { type HttpSinkOptions, http } from '../src/http/http-sink.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-http-'));
  dirs.push(dir);
  return dir;
};

const events = (
  n: number,
  from = 0,
  attributes: (i: number) => Record<string, unknown> = () => ({}),
) =>
  createEventBatch({
    source: 'test',
    events: Array.from({ length: n }, (_, i) => ({
      timestamp: 1_700_000_000_000 + from + i,
      message: `m${from + i}`,
      attributes: { seq: from + i, ...attributes(from + i) },
    })),
  });

/** Fast schedules, so that a test with retries takes milliseconds. */
const FAST: Partial<HttpSinkOptions> = {
  batch: { lingerMs: 5 },
  retry: { initialMs: 5, maxMs: 20, budget: { ratio: 10 } },
};

interface Built {
  sink: Sink;
  counters: Counters;
  write(batch: Batch): Promise<SinkOutcome>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function build(options: HttpSinkOptions): Promise<Built> {
  const definition = http(options);
  assert.deepEqual(definition.validate(), []);
  const counters = new Counters();
  const hard = new AbortController();
  setMaxListeners(0, hard.signal);
  const ctx: BuildContext = { name: 'out', signal: hard.signal, counters };
  const sink = await definition.build(ctx);
  return {
    sink,
    counters,
    write: (batch) => sink.write(batch, hard.signal),
    async [Symbol.asyncDispose]() {
      await sink.close?.(AbortSignal.timeout(2000));
      hard.abort();
    },
  };
}

const seqsOf = (backend: Backend) =>
  backend.requests
    .filter((r) => r.complete)
    .flatMap((r) =>
      parseNdjson(r.body).map((e) => (e as { attributes: { seq: number } }).attributes.seq),
    );

async function lettersIn(path: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for await (const letter of readDeadLetters(path)) letters.push(letter);
  return letters;
}

const stats = (built: Built) => built.sink.stats?.() as Record<string, unknown>;

describe('http sink: delivery', () => {
  it('merges batches into one NDJSON request and sends raw lines as they are', async () => {
    await using backend = await startBackend();
    await using out = await build({
      url: `${backend.url}ingest`,
      ...FAST,
      batch: { lingerMs: 50 },
    });
    const outcomes = await Promise.all([out.write(events(3, 0)), out.write(events(3, 3))]);
    assert.deepEqual(outcomes, [undefined, undefined]);
    assert.equal(backend.requests.length, 1, 'two batches, one request');
    const [request] = backend.requests;
    assert.equal(request!.url, '/ingest');
    assert.equal(request!.headers['content-type'], 'application/x-ndjson');
    assert.match(String(request!.headers['x-spillway-batch-id']), /^m-[0-9a-f]{24}$/);
    assert.deepEqual(seqsOf(backend), [0, 1, 2, 3, 4, 5]);

    const raw = createRawBatch({ source: 'file', data: Buffer.from('{"a":1}\n{"a":2}') });
    assert.equal(await out.write(raw), undefined);
    assert.equal(backend.requests[1]!.body.toString(), '{"a":1}\n{"a":2}\n');
    assert.equal(backend.requests[1]!.headers['x-spillway-batch-id'], raw.id, 'one batch: its id');
  });

  it('takes its encoder as plain data, for config files and worker threads', async () => {
    await using backend = await startBackend();
    await using out = await build({ url: backend.url, ...FAST, encoder: { type: 'jsonArray' } });
    await out.write(events(2));
    assert.equal(backend.requests[0]!.headers['content-type'], 'application/json');
    assert.equal((JSON.parse(backend.requests[0]!.body.toString()) as unknown[]).length, 2);
    assert.deepEqual(http({} as never).validate(), [
      'url must be an absolute http(s) URL, not undefined',
    ]);
    const problems = http({ url: backend.url, encoder: { type: 'yaml' } as never }).validate();
    assert.deepEqual(problems, ['encoder: unknown type "yaml"']);
  });

  it('gzips the body when asked', async () => {
    await using backend = await startBackend();
    await using out = await build({ url: backend.url, ...FAST, compression: 'gzip' });
    await out.write(events(50));
    assert.equal(backend.requests[0]!.headers['content-encoding'], 'gzip');
    assert.ok(backend.requests[0]!.bytes < backend.requests[0]!.body.byteLength, 'compressed');
    assert.deepEqual(
      seqsOf(backend),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it('sends the bearer token from the environment, and never shows it', async () => {
    process.env.SPILLWAY_TEST_TOKEN = 's3cret-token\n';
    await using backend = await startBackend();
    await using out = await build({
      url: backend.url,
      ...FAST,
      token: { env: 'SPILLWAY_TEST_TOKEN' },
    });
    await out.write(events(1));
    assert.equal(backend.requests[0]!.headers.authorization, 'Bearer s3cret-token');
    assert.doesNotMatch(JSON.stringify(stats(out)), /s3cret/);
    delete process.env.SPILLWAY_TEST_TOKEN;
    const tokenFile = join(await tempDir(), 'token');
    await writeFile(tokenFile, 'from-a-file\n');
    await using fromFile = await build({ url: backend.url, ...FAST, token: { file: tokenFile } });
    await fromFile.write(events(1));
    assert.equal(backend.requests[1]!.headers.authorization, 'Bearer from-a-file');
    await assert.rejects(
      async () =>
        http({ url: backend.url, token: { env: 'SPILLWAY_NO_SUCH_TOKEN' } }).build({
          name: 'x',
          signal: new AbortController().signal,
          counters: new Counters(),
        }),
      { code: 'ERR_INVALID_OPTION', message: /SPILLWAY_NO_SUCH_TOKEN is not set/ },
    );
  });
});

describe('http sink: transient failures', () => {
  it('retries a burst of 503 (with and without Retry-After), resets and closes, same batch id', async () => {
    await using backend = await startBackend();
    backend.push(
      { status: 503 },
      { status: 503, retryAfter: 0 },
      { kind: 'reset', afterBytes: 10 },
      { kind: 'close-without-response' },
      { status: 429 },
    );
    await using out = await build({ url: backend.url, ...FAST });
    const batch = events(5);
    assert.equal(await out.write(batch), undefined);
    const ids = new Set(backend.requests.map((r) => r.headers['x-spillway-batch-id']));
    assert.deepEqual([...ids], [batch.id], 'every attempt carried the same id');
    assert.equal(backend.requests.length, 6);
    assert.deepEqual(seqsOf(backend).slice(-5), [0, 1, 2, 3, 4]);
    assert.equal(out.counters.get('retries'), 5);
  });

  it('a retry budget keeps an outage from multiplying the load', async () => {
    await using backend = await startBackend({ script: () => ({ status: 503 }) });
    await using out = await build({
      url: backend.url,
      batch: { lingerMs: 0, maxEvents: 1 },
      retry: {
        initialMs: 1,
        maxMs: 5,
        maxAttempts: 1000,
        maxElapsedMs: 300,
        // Bucket: 0.1 × 100 = 10 tokens to start, and 0.1 per first attempt.
        budget: { ratio: 0.1, minPerSecond: 0 },
      },
      health: { downAfter: 1e6 },
    });
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => out.write(events(1, i))),
    );
    assert.ok(outcomes.every((o) => o?.status === 'requeue'));
    const retries = backend.requests.length - 50;
    assert.ok(retries <= 10 + 5, `${retries} retries for 50 requests, within the budget of 15`);
    assert.ok(out.counters.get('retries_deferred_by_budget') > 0);
  });

  it('gives up on a stalled backend after timeoutMs and retries elsewhere in time', async () => {
    await using backend = await startBackend();
    backend.push({ kind: 'stall' });
    await using out = await build({ url: backend.url, ...FAST, timeoutMs: 200 });
    assert.equal(await out.write(events(2)), undefined);
    assert.equal(backend.requests.length >= 1, true);
    assert.equal((stats(out) as { transport_errors: number }).transport_errors, 1);
  });

  it('reads a slowly dribbled answer to the end', async () => {
    await using backend = await startBackend();
    backend.push({ kind: 'slow-body', body: '{"ok":true}', chunkBytes: 3, intervalMs: 5 });
    await using out = await build({ url: backend.url, ...FAST });
    assert.equal(await out.write(events(2)), undefined);
  });

  it('gives a batch back (requeue) when attempts run out, or dead-letters it when told to', async () => {
    await using backend = await startBackend({ script: () => ({ status: 503 }) });
    await using out = await build({
      url: backend.url,
      ...FAST,
      retry: { ...FAST.retry, maxAttempts: 3 },
    });
    assert.deepEqual(await out.write(events(2)), {
      status: 'requeue',
      reason: 'retries_exhausted',
    });
    assert.equal(backend.requests.length, 3);

    const dlq = join(await tempDir(), 'out.dlq');
    await using dead = await build({
      url: backend.url,
      ...FAST,
      retry: { ...FAST.retry, maxAttempts: 2 },
      whenExhausted: 'dead-letter',
      deadLetters: { path: dlq },
    });
    const outcome = await dead.write(events(2));
    assert.equal(outcome?.status, 'rejected');
    const letters = await lettersIn(dlq);
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.reason, 'retries_exhausted');
    assert.equal(letters[0]!.status, 503);
    assert.equal(letters[0]!.attempts, 2);
  });

  it('waits out the backoff schedule: full jitter steps and Retry-After as a floor (fake timers)', async () => {
    await using backend = await startBackend();
    backend.push({ status: 503 }, { status: 503 }, { status: 429, retryAfter: 5 }, { status: 503 });
    mock.method(Math, 'random', () => 1);
    // Date too: a Retry-After also holds later attempts off until a time on the clock.
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() });
    try {
      await using out = await build({
        url: backend.url,
        batch: { lingerMs: 0 },
        retry: { initialMs: 100, multiplier: 3, maxMs: 1000, budget: { ratio: 10 } },
      });
      const writing = out.write(events(1));
      mock.timers.tick(0);
      const waitFor = async (n: number) => {
        await backend.waitForRequests(n, AbortSignal.timeout(5000));
        // Let the sink read the answer and park in its backoff.
        for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      };
      // Steps with random() = 1: 100, 300, then Retry-After 5 s over 900, then 1000 (capped).
      for (const [n, step] of [
        [1, 100],
        [2, 300],
        [3, 5000],
        [4, 1000],
      ] as const) {
        await waitFor(n);
        mock.timers.tick(step - 1);
        await waitFor(n);
        assert.equal(backend.requests.length, n, `no attempt ${n + 1} before ${step} ms`);
        mock.timers.tick(1);
      }
      await waitFor(5);
      assert.equal(await writing, undefined);
    } finally {
      mock.timers.reset();
      mock.restoreAll();
    }
  });
});

describe('http sink: rejections and splits', () => {
  it('dead-letters a 404 for an unexpected field and retries nothing', async () => {
    await using backend = await startBackend();
    backend.push({ status: 404, body: { error: 'unknown field "seq"' } });
    const dlq = join(await tempDir(), 'out.dlq');
    await using out = await build({ url: backend.url, ...FAST, deadLetters: { path: dlq } });
    const outcome = await out.write(events(3));
    assert.deepEqual(outcome, { status: 'rejected', reason: 'dead_lettered:rejected:404' });
    assert.equal(backend.requests.length, 1, 'nothing retried');
    const [letter] = await lettersIn(dlq);
    assert.equal(letter!.status, 404);
    assert.match(letter!.response ?? '', /unknown field/);
    assert.deepEqual(
      letter!.records.map((r) => r.message),
      ['m0', 'm1', 'm2'],
    );
    assert.equal(out.counters.get('dead_lettered_events'), 3);
  });

  it('splits on 413 until each half fits, and dead-letters a single record that never does', async () => {
    // Accepts at most three records per request, and never m9.
    const fits = (body: Buffer) => {
      const records = parseNdjson(body) as { message: string }[];
      return records.length <= 3 && !records.some((r) => r.message === 'm9');
    };
    await using backend = await startBackend({
      script: () => (request) => (fits(request.body) ? { status: 200 } : { status: 413 }),
    });
    const dlq = join(await tempDir(), 'out.dlq');
    await using out = await build({ url: backend.url, ...FAST, deadLetters: { path: dlq } });
    const batch = events(10);
    const outcome = await out.write(batch);
    assert.equal(outcome?.status, 'rejected', 'm9 never fits');
    const accepted = backend.requests.filter((r) => fits(r.body));
    assert.deepEqual(
      accepted.flatMap((r) => seqsOfBody(r.body)).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8],
      'every other record delivered once',
    );
    const ids = backend.requests.map((r) => String(r.headers['x-spillway-batch-id']));
    assert.ok(
      ids.every((id) => id.startsWith(batch.id)),
      `halves are named after their batch: ${ids.join(' ')}`,
    );
    const letters = await lettersIn(dlq);
    assert.deepEqual(
      letters.flatMap((l) => l.records.map((r) => r.message)),
      ['m9'],
    );
    assert.equal(letters[0]!.reason, 'too_large:413');
  });

  it('Elasticsearch partial failure: retries the items that got 429, dead-letters the 400s', async () => {
    await using backend = await startBackend();
    let round = 0;
    backend.script(() => {
      round++;
      return bulkResponder((item) => {
        const seq = (item.doc as { seq: number }).seq;
        if (round === 1 && seq % 3 === 0) return 429;
        if (seq === 4) return 400;
        return 201;
      });
    });
    const dlq = join(await tempDir(), 'out.dlq');
    await using out = await build({
      url: `${backend.url}_bulk`,
      ...FAST,
      encoder: elasticsearchBulk({ index: 'logs' }),
      deadLetters: { path: dlq },
    });
    const outcome = await out.write(events(7));
    assert.equal(outcome?.status, 'rejected', 'one item was dead-lettered');
    assert.equal(backend.requests.length, 2);
    const retried = parseNdjson(backend.requests[1]!.body).filter((_, i) => i % 2 === 1);
    assert.deepEqual(
      retried.map((d) => (d as { seq: number }).seq),
      [0, 3, 6],
      'only the 429 items went again',
    );
    const letters = await lettersIn(dlq);
    assert.deepEqual(
      letters.flatMap((l) => l.records.map((r) => r.attributes?.seq)),
      [4],
    );
    assert.match(letters[0]!.reason, /^item_rejected:400:/);
  });
});

describe('http sink: unreadable per-item answers', () => {
  it('sends a _bulk request again when its 200 answer cannot be read, rather than guess', async () => {
    await using backend = await startBackend();
    backend.push({ status: 200, body: '{"took":1,"errors":true,"ite' });
    backend.script(() => bulkResponder());
    await using out = await build({
      url: `${backend.url}_bulk`,
      ...FAST,
      encoder: elasticsearchBulk({ index: 'logs' }),
    });
    assert.equal(await out.write(events(3)), undefined);
    assert.equal(backend.requests.length, 2, 'sent again');
    assert.equal(out.counters.get('unreadable_item_results'), 1);
  });
});

describe('http sink: TLS and proxies', () => {
  it('trusts a self-signed backend with its CA supplied, and refuses it without', async () => {
    const certs = await testCertificates();
    await using backend = await startBackend({ tls: true });
    await using trusted = await build({ url: backend.url, ...FAST, tls: { ca: certs.ca } });
    assert.equal(await trusted.write(events(1)), undefined);
    await using untrusted = await build({
      url: backend.url,
      ...FAST,
      retry: { ...FAST.retry, maxAttempts: 2 },
    });
    assert.equal((await untrusted.write(events(1)))?.status, 'requeue');
    assert.equal(backend.requests.length, 1, 'no request got through without the CA');
  });

  it('presents a client certificate to a backend that asks for one', async () => {
    const certs = await testCertificates();
    await using backend = await startBackend({ tls: 'mutual' });
    await using out = await build({
      url: backend.url,
      ...FAST,
      tls: { ca: certs.ca, cert: certs.client.cert, key: certs.client.key },
    });
    assert.equal(await out.write(events(1)), undefined);
    assert.equal(backend.requests.length, 1);
  });

  it('goes through an explicit CONNECT proxy with credentials, to an HTTPS backend', async () => {
    const certs = await testCertificates();
    await using backend = await startBackend({ tls: true });
    await using proxy = await startConnectProxy({ auth: { username: 'u', password: 'p w' } });
    const proxyUrl = new URL(proxy.url);
    proxyUrl.username = 'u';
    proxyUrl.password = encodeURIComponent('p w');
    await using out = await build({
      url: backend.url,
      ...FAST,
      tls: { ca: certs.ca },
      proxy: proxyUrl.toString(),
    });
    assert.equal(await out.write(events(2)), undefined);
    assert.deepEqual(proxy.tunnels, [new URL(backend.origin).host]);
    assert.equal(basicAuth('u', 'p w').length > 0, true);
  });

  it('takes HTTP_PROXY from the environment and honours NO_PROXY', async () => {
    await using backend = await startBackend();
    await using proxy = await startConnectProxy();
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTP_PROXY = proxy.url;
    try {
      delete process.env.NO_PROXY;
      await using via = await build({ url: backend.url, ...FAST });
      assert.equal(await via.write(events(1)), undefined);
      const proxied = proxy.tunnels.length + proxy.forwarded.length;
      assert.equal(proxied, 1, 'went through the proxy');
      process.env.NO_PROXY = '127.0.0.1';
      await using direct = await build({ url: backend.url, ...FAST });
      assert.equal(await direct.write(events(1)), undefined);
      assert.equal(proxy.tunnels.length + proxy.forwarded.length, 1, 'NO_PROXY went direct');
      assert.equal(backend.requests.length, 2);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe('http sink: tenants', () => {
  it('routes each event to its tenant by header and URL, and dead-letters unknown tenants', async () => {
    await using backend = await startBackend();
    const dlq = join(await tempDir(), 'out.dlq');
    await using out = await build({
      url: `${backend.url}{tenant}/push`,
      ...FAST,
      tenant: { field: 'team', allowed: ['red', 'blue'], header: 'X-Scope-OrgID' },
      deadLetters: { path: dlq },
    });
    const teams = ['red', 'blue', 'red', 'Red', 'blue'];
    const outcome = await out.write(events(5, 0, (i) => ({ team: teams[i] })));
    assert.equal(outcome?.status, 'rejected', 'the typo was not delivered');
    const byTenant = Object.fromEntries(
      backend.requests.map((r) => [r.headers['x-scope-orgid'], [r.url, seqsOfBody(r.body)]]),
    );
    assert.deepEqual(byTenant, { red: ['/red/push', [0, 2]], blue: ['/blue/push', [1, 4]] });
    const letters = await lettersIn(dlq);
    assert.deepEqual(
      letters.map((l) => [l.reason, l.records.map((r) => r.attributes?.team)]),
      [['unknown_tenant', ['Red']]],
    );
  });

  it('answers for a batch only once every piece of it has an outcome, each piece with its own id', async () => {
    await using backend = await startBackend();
    await using out = await build({
      url: `${backend.url}{tenant}`,
      ...FAST,
      batch: { lingerMs: 20, maxEvents: 2 },
      tenant: { field: 'team', allowed: ['red'], header: 'x-tenant' },
    });
    const batch = events(6, 0, (i) => ({ team: i === 5 ? 'nobody' : 'red' }));
    const outcome = await out.write(batch);
    assert.deepEqual(outcome, { status: 'rejected', reason: 'unknown_tenant' });
    assert.equal(backend.requests.length, 3, 'the routed pieces were sent before the answer');
    const ids = backend.requests.map((r) => String(r.headers['x-spillway-batch-id']));
    assert.equal(new Set(ids).size, 3, `distinct ids: ${ids.join(' ')}`);
    assert.ok(ids.every((id) => id.startsWith(`${batch.id}/red#`)));
    assert.equal(out.counters.get('rejected_events_lost'), 1, 'no dead letters: counted as lost');
  });

  it('refuses a tenant configuration that could misroute', () => {
    const problems = http({
      url: 'http://127.0.0.1/{tenant}',
      tenant: { field: 'team', allowed: ['ok', 'a/b'], fallback: 'other' },
    }).validate();
    assert.ok(problems.some((p) => p.includes('"a/b"')));
    assert.ok(problems.some((p) => p.includes('fallback')));
    assert.ok(
      http({ url: 'http://x/{tenant}' })
        .validate()
        .some((p) => p.includes('{tenant}')),
    );
  });
});

const seqsOfBody = (body: Buffer) =>
  parseNdjson(body).map((e) => (e as { attributes: { seq: number } }).attributes.seq);

describe('dead letters: replay', () => {
  it('replays a dead-letter file into a sink once the cause is fixed, with the same batch ids', async () => {
    await using refusing = await startBackend({ script: () => ({ status: 400 }) });
    const dlq = join(await tempDir(), 'out.dlq');
    const first = events(3, 0);
    const second = events(2, 3);
    {
      await using out = await build({ url: refusing.url, ...FAST, deadLetters: { path: dlq } });
      await out.write(first);
      await out.write(second);
    }
    await using fixed = await startBackend();
    const report = await replayDeadLetters(dlq, http({ url: fixed.url, ...FAST }), {
      concurrency: 1,
    });
    assert.deepEqual(report, {
      entries: 2,
      skipped: 0,
      delivered: 2,
      deliveredRecords: 5,
      failed: {},
      damaged: 0,
    });
    assert.deepEqual([...seqsOf(fixed)].sort(), [0, 1, 2, 3, 4]);
    assert.deepEqual(
      fixed.requests.map((r) => r.headers['x-spillway-batch-id']),
      [first.id, second.id],
      'each entry keeps its batch id',
    );

    await using stillRefusing = await startBackend({ script: () => ({ status: 422 }) });
    const again = await replayDeadLetters(dlq, http({ url: stillRefusing.url, ...FAST }), {
      filter: (letter) => letter.batch.id === first.id,
    });
    assert.equal(again.skipped, 1);
    assert.deepEqual(again.failed, { 'rejected:rejected:422': 1 });
  });
});

describe('http sink: adaptive concurrency', () => {
  /** A backend that serves three requests at a time in 10 ms and answers 503 beyond that. */
  async function narrowBackend() {
    let inFlight = 0;
    const counts = { ok: 0, refused: 0 };
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (inFlight >= 3) {
          counts.refused++;
          res.writeHead(503).end();
          return;
        }
        inFlight++;
        setTimeout(() => {
          inFlight--;
          counts.ok++;
          res.writeHead(200).end('{}');
        }, 10);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/`,
      counts,
      async [Symbol.asyncDispose]() {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  const drive = async (options: Partial<HttpSinkOptions>) => {
    await using backend = await narrowBackend();
    await using out = await build({
      url: backend.url,
      batch: { maxEvents: 10, lingerMs: 1 },
      retry: { initialMs: 5, maxMs: 50, maxAttempts: 1000, budget: { minPerSecond: 1e6 } },
      writeSlots: 64,
      ...options,
    });
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) => out.write(events(10, i * 10))),
    );
    assert.ok(
      outcomes.every((o) => o === undefined),
      'everything delivered in the end',
    );
    const share = backend.counts.refused / (backend.counts.ok + backend.counts.refused);
    return { share, limit: (stats(out).concurrency as { limit: number }).limit };
  };

  it('settles near what the backend can take, where a fixed limit keeps overloading it', async () => {
    const adaptive = await drive({ concurrency: 'adaptive' });
    const fixed = await drive({ concurrency: 16 });
    assert.equal(fixed.limit, 16);
    assert.ok(adaptive.limit <= 8, `adaptive limit ${adaptive.limit} stays near the backend's 3`);
    assert.ok(
      adaptive.share < fixed.share,
      `503 share adaptive ${adaptive.share.toFixed(2)} < fixed ${fixed.share.toFixed(2)}`,
    );
  });
});

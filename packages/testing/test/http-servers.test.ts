// The loopback servers the HTTP sink's tests stand on, checked from the client the sink uses
// (undici): each scripted behaviour as a client sees it, the recorded requests, TLS with the
// generated certificates (and without them), and the proxy in both of its modes. If these are
// wrong, the sink's tests prove nothing.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Agent, type Dispatcher, ProxyAgent, request } from 'undici';
import {
  basicAuth,
  bulkResponder,
  parseNdjson,
  startBackend,
  startConnectProxy,
  testCertificates,
} from '../src/index.js';

// One agent for the plain-HTTP cases, so no test leaves connections in undici's global one.
const agent = new Agent();
after(() => agent.destroy());

const json = { 'content-type': 'application/json' };

/** A request's status, headers and body text, through `dispatcher`. */
async function send(
  url: string,
  options: {
    method?: Dispatcher.HttpMethod;
    body?: string | Buffer;
    headers?: Record<string, string>;
  },
  dispatcher: Dispatcher = agent,
) {
  const res = await request(url, { method: 'POST', ...options, dispatcher });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** The error `promise` rejects with, which must have one of `codes`. */
async function failsWith(promise: Promise<unknown>, codes: string[]): Promise<Error> {
  const err = await promise.then(
    () => assert.fail('expected the request to fail'),
    (e: unknown) => e as Error & { code?: string },
  );
  assert.ok(codes.includes(err.code ?? ''), `${err.code}: ${err.message}`);
  return err;
}

describe('startBackend', () => {
  it('records each request and answers 200 {} by default', async () => {
    await using backend = await startBackend();
    const before = performance.now();
    const res = await send(`${backend.origin}/logs?x=1`, { body: '{"a":1}', headers: json });
    assert.deepEqual([res.status, res.text], [200, '{}']);
    const [req] = await backend.waitForRequests(1);
    assert.ok(req);
    assert.equal(req.index, 0);
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/logs?x=1');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.body.toString(), '{"a":1}');
    assert.equal(req.bytes, 7);
    assert.equal(req.complete, true);
    assert.ok(req.at >= before && req.at <= performance.now());
    assert.equal(backend.url, `${backend.origin}/`);
    assert.match(backend.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers queued plans first, then the script, then the default', async () => {
    await using backend = await startBackend();
    const date = new Date('2030-01-02T03:04:05Z');
    backend.push({ status: 503, retryAfter: 2 }, { status: 429, retryAfter: date, body: 'slow' });
    const first = await send(backend.url, {});
    assert.equal(first.status, 503);
    assert.equal(first.headers['retry-after'], '2');
    const second = await send(backend.url, {});
    assert.equal(second.status, 429);
    assert.equal(second.headers['retry-after'], 'Wed, 02 Jan 2030 03:04:05 GMT');
    assert.equal(second.text, 'slow');

    const seen: number[] = [];
    backend.script((req, n) => {
      seen.push(n);
      return { status: req.url === '/teapot' ? 418 : 201, headers: { 'X-N': String(n) } };
    });
    assert.equal((await send(`${backend.origin}/teapot`, {})).status, 418);
    const fourth = await send(backend.url, {});
    assert.deepEqual([fourth.status, fourth.headers['x-n']], [201, '3']);
    assert.deepEqual(seen, [2, 3]);

    backend.script(undefined);
    assert.equal((await send(backend.url, {})).status, 200);
    assert.equal(backend.requests.length, 5);
  });

  it('decodes a gzip body and counts the bytes as sent', async () => {
    await using backend = await startBackend();
    const text = 'line\n'.repeat(1000);
    const gz = gzipSync(text);
    await send(backend.url, { body: gz, headers: { 'content-encoding': 'gzip' } });
    const [req] = backend.requests;
    assert.equal(req?.body.toString(), text);
    assert.equal(req?.bytes, gz.length);
    assert.equal(req?.decodeError, undefined);
  });

  it('keeps an undecodable gzip body raw and says why', async () => {
    await using backend = await startBackend();
    await send(backend.url, { body: 'not gzip', headers: { 'content-encoding': 'gzip' } });
    const [req] = backend.requests;
    assert.equal(req?.body.toString(), 'not gzip');
    assert.ok(req?.decodeError instanceof Error);
  });

  it('resets the connection after the body: the client sees a socket error', async () => {
    await using backend = await startBackend();
    backend.push({ kind: 'reset' });
    await failsWith(send(backend.url, { body: 'x' }), ['ECONNRESET', 'UND_ERR_SOCKET']);
    assert.equal(backend.requests[0]?.complete, true);
    // The connection is gone, not the server: the next request is answered.
    assert.equal((await send(backend.url, {})).status, 200);
  });

  it('resets mid-body after afterBytes and records the part it read', async () => {
    await using backend = await startBackend();
    backend.push({ kind: 'reset', afterBytes: 1024 });
    const body = Buffer.alloc(8 * 1024 * 1024, 'a');
    await failsWith(send(backend.url, { body }), ['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);
    const [req] = await backend.waitForRequests(1);
    assert.equal(req?.complete, false);
    assert.ok(req && req.bytes >= 1024 && req.bytes < body.length, `read ${req?.bytes}`);
  });

  it('closes without a response: the client sees the other side close', async () => {
    await using backend = await startBackend();
    backend.push({ kind: 'close-without-response' });
    await failsWith(send(backend.url, { body: 'x' }), ['UND_ERR_SOCKET']);
    assert.equal(backend.requests.length, 1);
  });

  it('stalls until released, then answers `answer`', async () => {
    await using backend = await startBackend();
    backend.push({ kind: 'stall', answer: { status: 202, body: { late: true } } });
    let answered = false;
    const pending = send(backend.url, { body: 'x' }).finally(() => {
      answered = true;
    });
    await backend.waitForRequests(1, AbortSignal.timeout(5000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(answered, false);
    assert.equal(backend.releaseStalls(), 1);
    const res = await pending;
    assert.deepEqual([res.status, res.text], [202, '{"late":true}']);
    assert.equal(backend.releaseStalls(), 0);
  });

  it('close() ends a stalled request instead of hanging', async () => {
    const backend = await startBackend();
    backend.push({ kind: 'stall' });
    const pending = send(backend.url, {});
    await backend.waitForRequests(1, AbortSignal.timeout(5000));
    await backend.close();
    await failsWith(pending, ['UND_ERR_SOCKET', 'ECONNRESET']);
    await backend.close();
  });

  it('a stalled request whose client gives up is no longer counted as stalled', async () => {
    await using backend = await startBackend();
    backend.push({ kind: 'stall' });
    const gaveUp = send(backend.url, {}, new Agent({ headersTimeout: 100 }));
    await failsWith(gaveUp, ['UND_ERR_HEADERS_TIMEOUT']);
    // The undici agent closes the socket on a headers timeout; give the server a moment to see.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(backend.releaseStalls(), 0);
  });

  it('waits delayMs before answering', async () => {
    await using backend = await startBackend();
    backend.push({ status: 200, delayMs: 150 });
    const started = performance.now();
    await send(backend.url, {});
    assert.ok(performance.now() - started >= 140);
  });

  it('sends headers at once and dribbles a slow body', async () => {
    await using backend = await startBackend();
    backend.push({ kind: 'slow-body', body: 'abcdef', chunkBytes: 2, intervalMs: 80 });
    const started = performance.now();
    const res = await request(backend.url, { dispatcher: agent });
    const headersAfter = performance.now() - started;
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'abcdef');
    const bodyAfter = performance.now() - started;
    assert.ok(headersAfter < 70, `headers after ${headersAfter} ms`);
    assert.ok(bodyAfter >= 3 * 75, `body after ${bodyAfter} ms`);
  });

  it('a slow body trips the client body timeout', async () => {
    await using backend = await startBackend();
    // undici checks body timeouts on a timer with a one-second resolution, so the gap between
    // chunks must be well over a second for the timeout to fire in a 100 ms window's place.
    backend.push({ kind: 'slow-body', body: 'abc', intervalMs: 5000 });
    const impatient = new Agent({ bodyTimeout: 100 });
    try {
      const res = await request(backend.url, { dispatcher: impatient });
      await failsWith(res.body.text(), ['UND_ERR_BODY_TIMEOUT']);
    } finally {
      await impatient.destroy();
    }
  });

  it('waitForRequests rejects on its signal and on close', async () => {
    const backend = await startBackend();
    await assert.rejects(backend.waitForRequests(1, AbortSignal.timeout(20)), {
      message: 'waited for 1 requests, saw 0',
    });
    const waiting = backend.waitForRequests(2);
    await backend.close();
    await assert.rejects(waiting, /waited for 2 requests, saw 0/);
    await assert.rejects(backend.waitForRequests(1), /saw 0/);
  });

  it('answers a _bulk request item by item', async () => {
    await using backend = await startBackend();
    backend.script(() =>
      bulkResponder((item, i) => (i === 1 ? 429 : item.op === 'delete' ? 200 : 201)),
    );
    const ndjson = [
      { create: { _index: 'logs' } },
      { message: 'a' },
      { create: { _index: 'logs' } },
      { message: 'b' },
      { delete: { _index: 'logs', _id: '7' } },
      { index: { _index: 'other' } },
      { message: 'c' },
    ]
      .map((line) => JSON.stringify(line))
      .join('\n');
    const res = await send(`${backend.origin}/_bulk`, { body: `${ndjson}\n` });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), {
      took: 1,
      errors: true,
      items: [
        { create: { _index: 'logs', status: 201 } },
        {
          create: {
            _index: 'logs',
            status: 429,
            error: {
              type: 'es_rejected_execution_exception',
              reason: 'item failed with 429 (test backend)',
            },
          },
        },
        { delete: { _index: 'logs', status: 200 } },
        { index: { _index: 'other', status: 201 } },
      ],
    });
    assert.equal(parseNdjson(backend.requests[0]?.body ?? '').length, 7);

    backend.script(() => bulkResponder());
    const ok = await send(`${backend.origin}/_bulk`, { body: `${ndjson}\n` });
    assert.equal(JSON.parse(ok.text).errors, false);
  });

  it('answers 500 with the error when a plan throws', async () => {
    await using backend = await startBackend();
    backend.push(bulkResponder());
    const res = await send(backend.url, { body: 'not json' });
    assert.equal(res.status, 500);
    assert.match(res.text, /^backend: SyntaxError/);
  });
});

describe('startBackend with TLS', () => {
  it('serves HTTPS that a client trusting the generated CA accepts', async () => {
    const { ca } = await testCertificates();
    await using backend = await startBackend({ tls: true });
    assert.match(backend.origin, /^https:\/\/127\.0\.0\.1:\d+$/);
    const trusting = new Agent({ connect: { ca } });
    try {
      assert.equal((await send(backend.url, { body: 'x' }, trusting)).status, 200);
      const localhost = backend.url.replace('127.0.0.1', 'localhost');
      assert.equal((await send(localhost, {}, trusting)).status, 200);
    } finally {
      await trusting.destroy();
    }
  });

  it('is refused by a client that does not trust the CA', async () => {
    await using backend = await startBackend({ tls: true });
    const err = await failsWith(send(backend.url, {}), [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
    ]);
    assert.ok(err);
    assert.equal(backend.requests.length, 0);
  });

  it('resets a TLS connection with a TCP reset', async () => {
    const { ca } = await testCertificates();
    await using backend = await startBackend({ tls: true });
    backend.push({ kind: 'reset' });
    const trusting = new Agent({ connect: { ca } });
    try {
      await failsWith(send(backend.url, { body: 'x' }, trusting), ['ECONNRESET']);
    } finally {
      await trusting.destroy();
    }
  });

  it('with mutual TLS, accepts the generated client certificate and nothing less', async () => {
    const { ca, client } = await testCertificates();
    await using backend = await startBackend({ tls: 'mutual' });
    const withCert = new Agent({ connect: { ca, ...client } });
    const without = new Agent({ connect: { ca } });
    try {
      assert.equal((await send(backend.url, { body: 'x' }, withCert)).status, 200);
      await assert.rejects(send(backend.url, {}, without));
      assert.equal(backend.requests.length, 1);
    } finally {
      await withCert.destroy();
      await without.destroy();
    }
  });
});

describe('testCertificates', () => {
  it('is made once per process: a CA, a server and a client certificate it signed', async () => {
    const certs = await testCertificates();
    assert.equal(await testCertificates(), certs);
    const ca = new X509Certificate(certs.ca);
    const server = new X509Certificate(certs.server.cert);
    const client = new X509Certificate(certs.client.cert);
    assert.ok(ca.ca);
    assert.ok(server.verify(ca.publicKey));
    assert.ok(client.verify(ca.publicKey));
    assert.ok(server.checkIP('127.0.0.1'));
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.match(client.keyUsage?.join() ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.2/);
  });
});

describe('startConnectProxy', () => {
  it('tunnels an HTTP target with CONNECT, as ProxyAgent does by default', async () => {
    await using backend = await startBackend();
    await using proxy = await startConnectProxy();
    const via = new ProxyAgent({ uri: proxy.url });
    try {
      assert.equal((await send(backend.url, { body: 'x' }, via)).status, 200);
      assert.deepEqual(proxy.tunnels, [backend.origin.replace('http://', '')]);
      assert.equal(backend.requests[0]?.body.toString(), 'x');
    } finally {
      await via.destroy();
    }
  });

  it('forwards an absolute-URI request when tunnelling is off', async () => {
    await using backend = await startBackend();
    await using proxy = await startConnectProxy();
    const via = new ProxyAgent({ uri: proxy.url, proxyTunnel: false });
    try {
      const res = await send(`${backend.origin}/_bulk`, { body: 'x' }, via);
      assert.deepEqual([res.status, res.text], [200, '{}']);
      assert.deepEqual(proxy.forwarded, [{ method: 'POST', url: `${backend.origin}/_bulk` }]);
      assert.deepEqual(proxy.tunnels, []);
      assert.equal(backend.requests[0]?.url, '/_bulk');
      assert.equal(backend.requests[0]?.body.toString(), 'x');
    } finally {
      await via.destroy();
    }
  });

  it('tunnels an HTTPS target', async () => {
    const { ca } = await testCertificates();
    await using backend = await startBackend({ tls: true });
    await using proxy = await startConnectProxy();
    const via = new ProxyAgent({ uri: proxy.url, requestTls: { ca } });
    try {
      assert.equal((await send(backend.url, { body: 'x' }, via)).status, 200);
      assert.deepEqual(proxy.tunnels, [backend.origin.replace('https://', '')]);
    } finally {
      await via.destroy();
    }
  });

  it('answers 407 without the credentials it requires, and proxies with them', async () => {
    await using backend = await startBackend();
    await using proxy = await startConnectProxy({ auth: { username: 'u', password: 'p' } });
    const anonymous = new ProxyAgent({ uri: proxy.url });
    const anonymousPlain = new ProxyAgent({ uri: proxy.url, proxyTunnel: false });
    const wrong = new ProxyAgent({ uri: proxy.url, token: basicAuth('u', 'nope') });
    const good = new ProxyAgent({ uri: proxy.url, token: basicAuth('u', 'p') });
    const fromUrl = new ProxyAgent({ uri: proxy.url.replace('//', '//u:p@') });
    try {
      await assert.rejects(send(backend.url, {}, anonymous), /Proxy response \(407\)/);
      await assert.rejects(send(backend.url, {}, wrong), /Proxy response \(407\)/);
      // undici turns a 407 to an absolute-URI request into an error as well.
      await assert.rejects(send(backend.url, {}, anonymousPlain), /\(407\)/);
      assert.equal(proxy.refused, 3);
      assert.equal((await send(backend.url, {}, good)).status, 200);
      assert.equal((await send(backend.url, {}, fromUrl)).status, 200);
      assert.equal(proxy.tunnels.length, 2);
      assert.equal(backend.requests.length, 2);
    } finally {
      await Promise.all([anonymous, anonymousPlain, wrong, good, fromUrl].map((a) => a.destroy()));
    }
  });

  it('answers a CONNECT to a closed port with 502', async () => {
    const closed = await startBackend();
    const origin = closed.origin;
    await closed.close();
    await using proxy = await startConnectProxy();
    const via = new ProxyAgent({ uri: proxy.url });
    try {
      await assert.rejects(send(origin, {}, via), /Proxy response \(502\)/);
      assert.deepEqual(proxy.tunnels, []);
    } finally {
      await via.destroy();
    }
  });

  it('close() destroys an open tunnel', async () => {
    await using backend = await startBackend();
    backend.push({ kind: 'stall' });
    const proxy = await startConnectProxy();
    const via = new ProxyAgent({ uri: proxy.url });
    try {
      const pending = send(backend.url, {}, via);
      await backend.waitForRequests(1, AbortSignal.timeout(5000));
      await proxy.close();
      await failsWith(pending, ['UND_ERR_SOCKET', 'ECONNRESET']);
    } finally {
      await via.destroy();
    }
  });
});

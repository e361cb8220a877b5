// A forward HTTP proxy on 127.0.0.1 for the HTTP sink's proxy tests. It tunnels CONNECT
// requests (how clients reach HTTPS targets, and undici's ProxyAgent by default any target) and
// forwards absolute-URI requests (`GET http://host/path`, what ProxyAgent sends for HTTP targets
// with `proxyTunnel: false`), and records which targets each was asked for. It is not a
// general proxy: no keep-alive upstream, no caching, and only `Basic` credentials.
//
// Invariant: every socket it accepts or opens is tracked until closed, so `close()` can destroy
// the lot and a test ends even with a tunnel still open.
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

/** Options of {@link startConnectProxy}. */
export interface ProxyOptions {
  /**
   * Require `Proxy-Authorization: Basic <base64(username:password)>`; anything else is answered
   * 407 and counted in `refused`.
   */
  readonly auth?: { readonly username: string; readonly password: string };
}

/** An absolute-URI request the proxy forwarded. */
export interface ForwardedRequest {
  readonly method: string;
  /** The absolute URI, e.g. `http://127.0.0.1:4123/_bulk`. */
  readonly url: string;
}

/**
 * Starts a forward proxy on 127.0.0.1 and an ephemeral port.
 *
 * When to use: tests of the HTTP sink's proxy support. Point undici's `ProxyAgent` at `url`;
 * `tunnels` lists each CONNECT target as `host:port`, `forwarded` each absolute-URI request.
 *
 * Gotchas: an upstream it cannot reach gets 502 (plain) or a 502 before the tunnel opens
 * (CONNECT); `refused` counts 407s of both kinds.
 *
 * @example
 * await using proxy = await startConnectProxy({ auth: { username: 'u', password: 'p' } });
 * const dispatcher = new ProxyAgent({ uri: proxy.url, token: basicAuth('u', 'p') });
 */
export async function startConnectProxy(options: ProxyOptions = {}): Promise<ConnectProxy> {
  const proxy = new ConnectProxy(options);
  await proxy.listen();
  return proxy;
}

/** `Basic <base64(username:password)>`, the `Proxy-Authorization` value for `auth`. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** A running proxy from {@link startConnectProxy}. */
export class ConnectProxy implements AsyncDisposable {
  readonly #server = http.createServer();
  readonly #expected: string | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #tunnels: string[] = [];
  readonly #forwarded: ForwardedRequest[] = [];
  #refused = 0;
  #closed: Promise<void> | undefined;

  /** @internal Use {@link startConnectProxy}. */
  constructor(options: ProxyOptions) {
    this.#expected = options.auth && basicAuth(options.auth.username, options.auth.password);
    this.#server.on('connection', (socket: Socket) => this.#track(socket));
    this.#server.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) =>
      this.#tunnel(req, socket, head),
    );
    this.#server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) =>
      this.#forward(req, res),
    );
  }

  /** @internal */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** `http://127.0.0.1:<port>`, without credentials. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The `host:port` of each tunnel the proxy opened, in order. */
  get tunnels(): readonly string[] {
    return this.#tunnels;
  }

  /** Each absolute-URI request the proxy accepted, in order. */
  get forwarded(): readonly ForwardedRequest[] {
    return this.#forwarded;
  }

  /** How many requests, CONNECT or plain, were answered 407. */
  get refused(): number {
    return this.#refused;
  }

  /** Stops listening and destroys every socket, tunnels included; safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const socket of this.#sockets) socket.destroy();
      await stopped;
    })();
    return this.#closed;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #authorized(req: http.IncomingMessage): boolean {
    return this.#expected === undefined || req.headers['proxy-authorization'] === this.#expected;
  }

  #tunnel(req: http.IncomingMessage, client: Socket, head: Buffer): void {
    // Without a listener a client that resets its end would crash the test run.
    client.on('error', () => client.destroy());
    if (!this.#authorized(req)) {
      this.#refused++;
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\n' +
          'Proxy-Authenticate: Basic realm="spillway-test"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const target = req.url ?? '';
    const colon = target.lastIndexOf(':');
    const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(target.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(port)) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, host);
    this.#track(upstream);
    let open = false;
    upstream.once('connect', () => {
      open = true;
      this.#tunnels.push(target);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      // Refused before the tunnel opened: say so, as a client closed without an answer
      // (undici's ProxyAgent) may take that for a dropped connection and try again forever.
      if (!open) {
        client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      } else client.destroy();
    });
    client.once('close', () => upstream.destroy());
    // Before the tunnel opened, the client is ended with the 502 instead, which this would cut.
    upstream.once('close', () => open && client.destroy());
  }

  #forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!this.#authorized(req)) {
      this.#refused++;
      res
        .writeHead(407, {
          'proxy-authenticate': 'Basic realm="spillway-test"',
          'content-length': 0,
        })
        .end();
      return;
    }
    const url = req.url ?? '';
    // Only `http:` targets: clients reach `https:` ones through CONNECT.
    if (!url.startsWith('http://')) {
      res.writeHead(400, { 'content-length': 0 }).end();
      return;
    }
    this.#forwarded.push({ method: req.method ?? 'GET', url });
    const headers = { ...req.headers };
    // Hop-by-hop headers are the proxy's business, not the target's.
    for (const name of ['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive']) {
      delete headers[name];
    }
    const upstream = http.request(url, { method: req.method, headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('socket', (socket: Socket) => this.#track(socket));
    upstream.on('error', () => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-length': 0 }).end();
    });
    req.pipe(upstream);
  }
}

/**
 * The undici side of the HTTP sinks: one dispatcher per sink, holding a pool of keep-alive
 * connections per origin (undici's `Agent` keeps a `Pool` per origin), bounded by
 * `maxConnections`; TLS material for self-signed backends and client certificates; a proxy —
 * explicit, or taken from `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` as curl reads them.
 *
 * Secrets (the bearer token, a proxy's credentials) are read here once and never put into an
 * error message, a metric or a dead letter.
 */
import { readFileSync } from 'node:fs';
import { SpillwayError } from '@spillway/core';
import { Agent, type Dispatcher, EnvHttpProxyAgent, ProxyAgent } from 'undici';

/** PEM text, or `{ file }` to read it from a path when the sink is built. */
export type Pem = string | { readonly file: string };

export interface TlsOptions {
  /** CA certificates to trust instead of the system's (a self-signed backend's CA). */
  ca?: Pem;
  /** Client certificate and key, for backends that ask for one (mutual TLS). */
  cert?: Pem;
  key?: Pem;
  /** Default true. Turning it off is for tests only: say so in review. */
  rejectUnauthorized?: boolean;
  /** The name to verify the certificate against, when it differs from the URL's host. */
  servername?: string;
}

/**
 * `'env'` (default): `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (either case) as the environment
 * has them, no proxy when none is set. `'none'`: never a proxy. A URL: that proxy, for every
 * request (credentials in the URL become `Proxy-Authorization`).
 */
export type ProxyOption = 'env' | 'none' | string | { url: string; tls?: TlsOptions };

/** A secret from the environment or a file (trailing whitespace trimmed), never inline. */
export type SecretSource = { readonly env: string } | { readonly file: string };

export interface ClientOptions {
  tls?: TlsOptions;
  proxy?: ProxyOption;
  maxConnections: number;
  /** Idle keep-alive connections are closed after this. Default 30 000 ms. */
  keepAliveTimeoutMs?: number;
}

function readPem(pem: Pem | undefined, what: string): string | undefined {
  if (pem === undefined || typeof pem === 'string') return pem;
  try {
    return readFileSync(pem.file, 'utf8');
  } catch (cause) {
    throw new SpillwayError('ERR_INVALID_OPTION', `tls.${what}: cannot read ${pem.file}`, {
      cause,
    });
  }
}

function tlsConnectOptions(tls: TlsOptions | undefined) {
  if (!tls) return {};
  const ca = readPem(tls.ca, 'ca');
  const cert = readPem(tls.cert, 'cert');
  const key = readPem(tls.key, 'key');
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
  };
}

/** Reads a secret. Throws `ERR_INVALID_OPTION` naming the source, never the value. */
export function readSecret(source: SecretSource, what: string): string {
  if ('env' in source) {
    const value = process.env[source.env];
    if (!value) {
      throw new SpillwayError(
        'ERR_INVALID_OPTION',
        `${what}: environment variable ${source.env} is not set`,
      );
    }
    return value.trim();
  }
  try {
    return readFileSync(source.file, 'utf8').trim();
  } catch (cause) {
    throw new SpillwayError('ERR_INVALID_OPTION', `${what}: cannot read ${source.file}`, { cause });
  }
}

/** The dispatcher a sink sends through. Close it when the sink closes. */
export function createDispatcher(options: ClientOptions): Dispatcher {
  const connect = tlsConnectOptions(options.tls);
  const agentOptions = {
    connections: options.maxConnections,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    connect,
  };
  const proxy = options.proxy ?? 'env';
  if (proxy === 'none') return new Agent(agentOptions);
  if (proxy === 'env') {
    const env = process.env;
    const httpProxy = env.http_proxy ?? env.HTTP_PROXY;
    const httpsProxy = env.https_proxy ?? env.HTTPS_PROXY;
    if (!httpProxy && !httpsProxy) return new Agent(agentOptions);
    // The agent's options go to each of its proxy agents too; `requestTls` is what a proxy
    // agent uses for the TLS session with the backend, through the tunnel.
    return new EnvHttpProxyAgent({ ...agentOptions, requestTls: connect });
  }
  const { url, tls } = typeof proxy === 'string' ? { url: proxy, tls: undefined } : proxy;
  const parsed = new URL(url);
  const token =
    parsed.username || parsed.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`
      : undefined;
  parsed.username = '';
  parsed.password = '';
  return new ProxyAgent({
    ...agentOptions,
    uri: parsed.toString(),
    ...(token === undefined ? {} : { token }),
    requestTls: connect,
    proxyTls: tlsConnectOptions(tls),
  });
}

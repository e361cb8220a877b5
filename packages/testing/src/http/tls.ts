// Throwaway TLS material for the loopback servers, made at test time with the `openssl` CLI
// rather than committed: a committed certificate expires and then fails every TLS test on one
// morning, and a committed private key invites reuse outside tests. One CA signs a server
// certificate valid for 127.0.0.1 and localhost and a client certificate for mutual TLS. Keys
// are P-256, which openssl makes in milliseconds, where RSA keys would slow every run.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

/** PEM strings from {@link testCertificates}. */
export interface TestCertificates {
  /** The CA certificate a client (or a server checking client certificates) must trust. */
  readonly ca: string;
  /** Valid for `IP:127.0.0.1` and `DNS:localhost`, for server authentication. */
  readonly server: KeyPair;
  /** Signed by the same CA, for client authentication (mutual TLS). */
  readonly client: KeyPair;
}

let cached: Promise<TestCertificates> | undefined;

/**
 * A throwaway CA with a server and a client certificate signed by it, valid for two days.
 * Made once per process and shared by every caller.
 *
 * When to use: any test that needs HTTPS or mutual TLS on 127.0.0.1; `startBackend({ tls })`
 * calls it for you, and a client trusts `ca`.
 *
 * Gotchas: needs the `openssl` CLI on `PATH` and rejects with a message saying so when it is
 * missing. A failure is not cached, so a later call tries again.
 *
 * @example
 * const { ca } = await testCertificates();
 * const agent = new Agent({ connect: { ca } });
 */
export function testCertificates(): Promise<TestCertificates> {
  cached ??= generate().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function generate(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-tls-'));
  try {
    const file = (name: string) => join(dir, name);
    await openssl([
      'req',
      '-x509',
      ...newKey(file('ca.key')),
      '-subj',
      '/CN=spillway test CA',
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      file('ca.crt'),
    ]);
    const server = await leaf(file, 'server', '/CN=127.0.0.1', [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'extendedKeyUsage=serverAuth',
    ]);
    const client = await leaf(file, 'client', '/CN=spillway test client', [
      'extendedKeyUsage=clientAuth',
    ]);
    return { ca: await readFile(file('ca.crt'), 'utf8'), server, client };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A key and a certificate request for `subject`, then the CA's signature with `extensions`. */
async function leaf(
  file: (name: string) => string,
  name: string,
  subject: string,
  extensions: string[],
): Promise<KeyPair> {
  await openssl([
    'req',
    '-new',
    ...newKey(file(`${name}.key`)),
    '-subj',
    subject,
    '-out',
    file(`${name}.csr`),
  ]);
  await writeFile(
    file(`${name}.ext`),
    ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', ...extensions].join('\n'),
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    file(`${name}.csr`),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    // A random serial, so two runs' certificates are never confused for one another.
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-extfile',
    file(`${name}.ext`),
    '-out',
    file(`${name}.crt`),
  ]);
  return {
    cert: await readFile(file(`${name}.crt`), 'utf8'),
    key: await readFile(file(`${name}.key`), 'utf8'),
  };
}

const newKey = (keyFile: string) => [
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:prime256v1',
  // No passphrase on the key: Node reads it as is.
  '-nodes',
  '-keyout',
  keyFile,
];

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'the openssl CLI is not on PATH: the TLS tests make their certificates with it at test time (install the openssl package)',
        { cause: err },
      );
    }
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause: err });
  }
}

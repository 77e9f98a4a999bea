// The HTTP client's transport options against real servers on loopback: a TLS server that requires
// a client certificate (made with openssl for each run), and plain HTTP for the header rules.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Redactor, systemClock } from '@adci/common';
import { startFakeService } from '../../../test/fakes/service.ts';
import { runSmoke, SMOKE_DEFAULTS } from './engine.ts';
import { createHttpClient, TransportError, type HttpClient, type LoadSender } from './http.ts';
import { runLoad } from './load.ts';
import { parseChecksDocument } from './spec.ts';

interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from another CA, which the server must refuse. */
  strangerCert: string;
  strangerKey: string;
}

/** A CA, a server certificate for the name `apiserver.test` only, and client certificates. */
function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'adci-pki-'));
  const path = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string) =>
    openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.crt`),
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
    ]);
  const signed = (name: string, by: string, extensions: string) => {
    openssl(['req', ...ec, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', `/CN=${name}`]);
    writeFileSync(path(`${name}.ext`), extensions);
    openssl([
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path(`${by}.crt`),
      '-CAkey',
      path(`${by}.key`),
      '-set_serial',
      String(Date.now()),
      '-days',
      '1',
      '-out',
      path(`${name}.crt`),
      '-extfile',
      path(`${name}.ext`),
    ]);
  };
  try {
    ca('adci-test-ca');
    ca('stranger-ca');
    signed('apiserver', 'adci-test-ca', 'subjectAltName=DNS:apiserver.test\nextendedKeyUsage=serverAuth\n');
    signed('adci-deployer', 'adci-test-ca', 'extendedKeyUsage=clientAuth\n');
    signed('stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
    const read = (name: string) => readFileSync(path(name), 'utf8');
    return {
      ca: read('adci-test-ca.crt'),
      serverCert: read('apiserver.crt'),
      serverKey: read('apiserver.key'),
      clientCert: read('adci-deployer.crt'),
      clientKey: read('adci-deployer.key'),
      strangerCert: read('stranger.crt'),
      strangerKey: read('stranger.key'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Seen {
  client: string | undefined;
  authorization: string | undefined;
  extra: string | undefined;
}

/** Answers each request with who the client certificate says it is and what credentials came. */
function recorder(seen: Seen[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as Partial<TLSSocket>;
    const peer = socket.getPeerCertificate?.();
    const entry: Seen = {
      client: typeof peer?.subject?.CN === 'string' ? peer.subject.CN : undefined,
      authorization: req.headers.authorization,
      extra: req.headers['x-extra'] as string | undefined,
    };
    seen.push(entry);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(entry));
  };
}

let pki: Pki;
let origin: string;
const seenTls: Seen[] = [];
let closeTls: () => Promise<void>;

before(async () => {
  pki = makePki();
  const server = createHttpsServer(
    { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
    recorder(seenTls),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeTls = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
});
after(() => closeTls());

const identity = () => ({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: 'apiserver.test' });

async function withClient<T>(client: HttpClient, use: (client: HttpClient) => Promise<T>): Promise<T> {
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

const get = (client: HttpClient, path = '/api/v1/namespaces/shop/services/web:80/proxy/healthz') =>
  client.send({ method: 'GET', url: new URL(path, origin), headers: {}, timeoutMs: 5000 });

test('checks reach a server that requires a client certificate, with the CA, servername and headers', async () => {
  const headers = { authorization: 'Bearer t0ken-for-the-api-server', 'x-extra': 'yes' };
  const response = await withClient(createHttpClient({ tls: identity(), headers }), (client) => get(client));
  assert.equal(response.status, 200);
  assert.deepEqual(JSON.parse(response.body), {
    client: 'adci-deployer',
    authorization: 'Bearer t0ken-for-the-api-server',
    extra: 'yes',
  });
});

async function refusal(options: Parameters<typeof createHttpClient>[0]): Promise<TransportError> {
  const error = await withClient(createHttpClient(options), (client) =>
    get(client).then(
      () => undefined,
      (e: unknown) => e,
    ),
  );
  assert.ok(error instanceof TransportError, `expected a TransportError, got ${String(error)}`);
  return error;
}

test('fail closed: no client certificate, another CA, an unknown server CA or the wrong name are refused', async () => {
  const { ca, servername } = identity();
  // The server refuses during or right after the handshake (TLS 1.3 sends its alert after it).
  assert.match((await refusal({ tls: { ca, servername } })).kind, /^(tls|connection-reset)$/);
  const stranger = { ca, servername, cert: pki.strangerCert, key: pki.strangerKey };
  assert.match((await refusal({ tls: stranger })).kind, /^(tls|connection-reset)$/);
  // The client's own checks: the server's CA is not trusted, or its certificate is not for 127.0.0.1.
  const noCa = await refusal({ tls: { cert: pki.clientCert, key: pki.clientKey, servername } });
  assert.equal(noCa.kind, 'tls');
  assert.match(noCa.message, /self-signed|unable to (get|verify)|certificate/i);
  const noName = await refusal({ tls: { ca, cert: pki.clientCert, key: pki.clientKey } });
  assert.equal(noName.kind, 'tls');
  assert.match(noName.message, /altnames|IP: 127\.0\.0\.1/i);
});

test('bad transport options are refused before any request, without showing a header value', () => {
  assert.throws(() => createHttpClient({ tls: { cert: pki.clientCert } }), /tls\.cert and tls\.key go together/);
  assert.throws(
    () => createHttpClient({ headers: { authorization: 'Bearer a\r\nx-injected: 1' } }),
    (error: Error) =>
      /header 'authorization' is not a valid header/.test(error.message) && !/Bearer/.test(error.message),
  );
  assert.throws(() => createHttpClient({ headers: { 'bad name': 'v' } }), /header 'bad name'/);
});

function fireAll(sender: LoadSender, count: number, headers: Record<string, string> = {}): Promise<number[]> {
  const request = { origin, path: '/load', method: 'GET', headers };
  return Promise.all(
    Array.from(
      { length: count },
      () => new Promise<number>((resolve) => sender.fire(request, 5000, (status) => resolve(status))),
    ),
  );
}

test('load requests, shared and dedicated, carry the TLS identity and the headers', async () => {
  seenTls.length = 0;
  const headers = { authorization: 'Bearer load-token-0001' };
  await withClient(createHttpClient({ tls: identity(), headers }), async (client) => {
    assert.deepEqual(await fireAll(client, 5, { 'X-Extra': 'per-request' }), [200, 200, 200, 200, 200]);
    assert.deepEqual(await fireAll(client.dedicated(), 5), [200, 200, 200, 200, 200]);
  });
  assert.equal(seenTls.length, 10);
  assert.ok(seenTls.every((s) => s.client === 'adci-deployer' && s.authorization === 'Bearer load-token-0001'));
  assert.equal(seenTls.filter((s) => s.extra === 'per-request').length, 5);
});

test('a load phase (closed model) through the TLS transport counts every request as answered', async () => {
  seenTls.length = 0;
  const { load } = await parseChecksDocument('load:\n  connections: 2\n  duration: 300ms\n  path: /load\n', 'checks');
  assert.ok(load);
  const client = createHttpClient({ tls: identity(), headers: { authorization: 'Bearer closed-model-1' } });
  const result = await withClient(client, () =>
    runLoad(
      load,
      { baseUrl: new URL(origin), headers: {}, timeoutMs: 5000, lookup: () => undefined },
      { client, clock: systemClock },
    ),
  );
  assert.ok(result.completed > 0);
  assert.equal(result.errors, 0);
  assert.equal(seenTls.length, result.completed);
  assert.ok(seenTls.every((s) => s.client === 'adci-deployer' && s.authorization === 'Bearer closed-model-1'));
});

test('to a plain http: target, transport headers reach every load request (no raw fast path that would drop them)', async () => {
  const seen: Seen[] = [];
  const server = createHttpServer(recorder(seen));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const { load } = await parseChecksDocument('load:\n  connections: 2\n  duration: 200ms\n  path: /load\n', 'checks');
    assert.ok(load);
    const client = createHttpClient({ headers: { 'x-extra': 'transport' } });
    assert.equal(client.allowsRawHttp, false);
    assert.equal(createHttpClient().allowsRawHttp, true);
    const result = await withClient(client, () =>
      runLoad(
        load,
        { baseUrl: url, headers: { 'X-Extra': 'target' }, timeoutMs: 5000, lookup: () => undefined },
        { client, clock: systemClock },
      ),
    );
    assert.ok(result.completed > 0);
    assert.equal(seen.length, result.completed);
    // The transport's header wins over the same name from the target, whatever its case.
    assert.ok(seen.every((s) => s.extra === 'transport'));
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('runSmoke masks the transport header values in results, even when the service echoes them', async () => {
  const service = await startFakeService();
  const token = 'kube-sa-token-5f1e9c0b7a';
  const client = createHttpClient({ headers: { authorization: `Bearer ${token}`, 'x-api-key': 'key-8c2d4e6f' } });
  try {
    assert.deepEqual(client.secrets, [`Bearer ${token}`, token, 'key-8c2d4e6f']);
    const { checks } = await parseChecksDocument('- { name: echo, path: /echo, expect: { status: 418 } }\n', 'checks');
    const logged: string[] = [];
    const logger = {
      debug: (m: string) => logged.push(m),
      info: (m: string) => logged.push(m),
      warning: (m: string) => logged.push(m),
      error: (m: string) => logged.push(m),
    };
    const result = await runSmoke(
      { ...SMOKE_DEFAULTS, baseUrl: service.url, headers: {}, checks },
      { client, redactor: new Redactor(), logger },
    );
    assert.equal(result.checks[0]?.outcome, 'failed');
    // The echo shows that the header was sent, and that it was masked on the way out.
    assert.match(result.checks[0]?.excerpt ?? '', /"authorization":"\*\*\*"/);
    const shown = JSON.stringify(result) + logged.join('\n');
    assert.doesNotMatch(shown, new RegExp(`${token}|key-8c2d4e6f`));
  } finally {
    await client.close();
    await service.close();
  }
});

test('every certificate verification failure counts as a TLS error', async () => {
  const { classifyError } = await import('./http.ts');
  // Node's codes for "unable to verify the first certificate" (an API server whose CA is not
  // trusted), expired, not yet valid, self-signed, a name mismatch, and a TLS alert from the peer.
  for (const code of [
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'CERT_HAS_EXPIRED',
    'CERT_NOT_YET_VALID',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  ]) {
    assert.equal(classifyError(Object.assign(new Error(code), { code })), 'tls', code);
  }
});

test('exactly maxBodyBytes of a body are kept, whatever the chunking; the cap is reported when cut', async () => {
  const server = createHttpServer((req, res) => {
    const size = Number(req.url?.slice(1));
    res.writeHead(200, { 'content-type': 'text/plain' });
    // Several writes so the body arrives in more than one chunk.
    for (let sent = 0; sent < size; sent += 7) res.write('a'.repeat(Math.min(7, size - sent)));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createHttpClient({ maxBodyBytes: 20 });
  try {
    const send = (size: number) =>
      client.send({ method: 'GET', url: new URL(`${origin}/${size}`), headers: {}, timeoutMs: 5000 });
    const exact = await send(20);
    assert.deepEqual([exact.body.length, exact.truncated, exact.truncatedAt], [20, false, undefined]);
    const longer = await send(50);
    assert.deepEqual([longer.body.length, longer.truncated, longer.truncatedAt], [20, true, 20]);
  } finally {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

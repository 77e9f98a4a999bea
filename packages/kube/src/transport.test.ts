// The API server connection of a kubeconfig read by adci, against real TLS servers on loopback: one
// speaking HTTP/2 (as the API server does), one only HTTP/1.1 (a proxy in front of it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TLS_CERT, TLS_KEY } from '../../../test/fakes/service-tls.ts';
import type { KubeAccess } from './kubeconfig.ts';
import { AccessTransport, type Answer } from './transport.ts';

interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
  version: string;
}

type Handler = (seen: Seen, respond: (status: number, body: string) => void) => void;

const echo: Handler = (seen, respond) => respond(200, JSON.stringify(seen));

/** A TLS server answering with `handler`; it counts the connections it accepted. */
async function serve(kind: 'h2' | 'http1', handler: Handler = echo) {
  const sessions: ServerHttp2Session[] = [];
  const sockets = new Set<TLSSocket>();
  const onRequest = (
    req: {
      method?: string;
      url?: string;
      headers: Record<string, unknown>;
      httpVersion: string;
    } & AsyncIterable<Buffer>,
    res: { writeHead(status: number, headers: Record<string, string>): void; end(body: string): void },
  ): void => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk);
      const seen: Seen = {
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization as string | undefined,
        body: Buffer.concat(chunks).toString('utf8'),
        version: req.httpVersion,
      };
      handler(seen, (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      });
    })();
  };
  let server: Http2SecureServer | HttpsServer;
  if (kind === 'h2') {
    const h2 = createSecureServer({ key: TLS_KEY, cert: TLS_CERT, allowHTTP1: false }, onRequest as never);
    h2.on('session', (session: ServerHttp2Session) => sessions.push(session));
    server = h2;
  } else {
    // ALPN offers http/1.1 only, as a proxy that does not speak HTTP/2.
    const https = createHttpsServer({ key: TLS_KEY, cert: TLS_CERT, ALPNProtocols: ['http/1.1'] }, onRequest as never);
    server = https;
  }
  server.on('secureConnection', (socket: TLSSocket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    sessions,
    connections: () => sockets.size,
    async close() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function access(server: string): KubeAccess {
  return { server, skipTLSVerify: false, ca: Buffer.from(TLS_CERT), headers: { Authorization: 'Bearer t0ken' } };
}

async function text(answer: Answer): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of answer.body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const deadline = () => AbortSignal.timeout(5000);

for (const kind of ['h2', 'http1'] as const) {
  test(`${kind}: calls side by side get their answers; headers and bodies arrive`, async (t) => {
    const server = await serve(kind);
    t.after(() => server.close());
    const transport = new AccessTransport(access(server.url));
    const paths = ['/version', '/api/v1/namespaces/a/services', '/apis/apps/v1/namespaces/a/deployments/x?limit=5'];
    const answers = await Promise.all(
      paths.map(async (path) => {
        const answer = await transport.send(
          new URL(server.url + path),
          'GET',
          { Authorization: 'Bearer t0ken', accept: 'application/json' },
          undefined,
          deadline(),
        );
        return { status: answer.status, seen: JSON.parse(await text(answer)) as Seen };
      }),
    );
    assert.deepEqual(
      answers.map((a) => [a.status, a.seen.method, a.seen.path, a.seen.authorization]),
      paths.map((p) => [200, 'GET', p, 'Bearer t0ken']),
    );
    assert.equal(answers[0]?.seen.version, kind === 'h2' ? '2.0' : '1.1');
    const posted = await transport.send(
      new URL(`${server.url}/apis/authorization.k8s.io/v1/selfsubjectrulesreviews`),
      'POST',
      { 'content-type': 'application/json' },
      '{"spec":{"namespace":"é"}}',
      deadline(),
    );
    assert.equal((JSON.parse(await text(posted)) as Seen).body, '{"spec":{"namespace":"é"}}');
    // HTTP/2: one connection for everything; HTTP/1.1: a connection per call in flight at once.
    if (kind === 'h2') assert.equal(server.connections(), 1);
    else assert.ok(server.connections() >= 1 && server.connections() <= 3, String(server.connections()));
  });
}

test('h2: an aborted call rejects with its signal reason and the connection serves the next one', async (t) => {
  const server = await serve('h2', (seen, respond) => {
    if (seen.path !== '/never') respond(200, '{}');
  });
  t.after(() => server.close());
  const transport = new AccessTransport(access(server.url));
  const stop = new AbortController();
  const pending = transport.send(new URL(`${server.url}/never`), 'GET', {}, undefined, stop.signal);
  setTimeout(() => stop.abort(new Error('gave up waiting')), 50);
  await assert.rejects(pending, /gave up waiting/);
  const next = await transport.send(new URL(`${server.url}/ok`), 'GET', {}, undefined, deadline());
  assert.equal(next.status, 200);
  await text(next);
  assert.equal(server.connections(), 1);
});

test('h2: a connection the server ends is replaced at the next call', async (t) => {
  const server = await serve('h2');
  t.after(() => server.close());
  const transport = new AccessTransport(access(server.url));
  await text(await transport.send(new URL(`${server.url}/a`), 'GET', {}, undefined, deadline()));
  await new Promise<void>((resolve) => (server.sessions[0] as ServerHttp2Session).close(resolve));
  // The client sees the GOAWAY and the close; the next call connects again.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const again = await transport.send(new URL(`${server.url}/b`), 'GET', {}, undefined, deadline());
  assert.equal(again.status, 200);
  await text(again);
  assert.equal(server.connections(), 2);
});

test('a server nobody listens on: the error carries its code (a transient one), and a wrong CA is refused', async (t) => {
  const server = await serve('h2');
  const url = server.url;
  await server.close();
  const refused = new AccessTransport(access(url));
  await assert.rejects(refused.send(new URL(`${url}/version`), 'GET', {}, undefined, deadline()), {
    code: 'ECONNREFUSED',
  });

  const live = await serve('h2');
  t.after(() => live.close());
  const stranger = new AccessTransport({ ...access(live.url), ca: undefined });
  await assert.rejects(stranger.send(new URL(`${live.url}/version`), 'GET', {}, undefined, deadline()), {
    code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
  });
});

test('ready: connects once, before any call; the calls then use that connection', async (t) => {
  for (const kind of ['h2', 'http1'] as const) {
    const server = await serve(kind);
    t.after(() => server.close());
    const transport = new AccessTransport(access(server.url));
    await transport.ready(new URL(server.url), deadline());
    const answer = await transport.send(new URL(`${server.url}/version`), 'GET', {}, undefined, deadline());
    assert.equal(answer.status, 200);
    await text(answer);
    // HTTP/2 serves the call on the connection made ready; HTTP/1.1 learned the protocol from it and
    // serves the call from its pool (the first connection was closed, perhaps before the server saw it).
    if (kind === 'h2') assert.equal(server.connections(), 1);
    else assert.ok([1, 2].includes(server.connections()), String(server.connections()));
  }
  const gone = await serve('h2');
  await gone.close();
  await assert.rejects(new AccessTransport(access(gone.url)).ready(new URL(gone.url), deadline()), {
    code: 'ECONNREFUSED',
  });
});

test('a server that accepts and never answers: the connect times out (a transient error) and holds nothing', async (t) => {
  const silent = createTcpServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    silent.close();
    return undefined;
  });
  const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const transport = new AccessTransport(access(url), { connectTimeoutMs: 200 });
  const started = Date.now();
  await assert.rejects(transport.send(new URL(`${url}/version`), 'GET', {}, undefined, deadline()), {
    code: 'ETIMEDOUT',
    message: /timed out after 200 ms/,
  });
  assert.ok(Date.now() - started < 2000);
});

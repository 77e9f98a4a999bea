import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { systemClock } from '@adci/common';
import { RawHttpConnection, RawHttpPool, encodeRawRequest, type RawRequest } from './raw-http.ts';
import { createHttpClient, type LoadRequest, type TransportErrorKind } from './http.ts';
import { runLoad } from './load.ts';
import { parseChecksDocument } from './spec.ts';

interface Listening {
  port: number;
  /** Connections accepted so far. */
  connections: () => number;
  /** Connections the client has closed or reset. */
  ended: () => number;
  close: () => Promise<void>;
}

async function listen(server: Server): Promise<Listening> {
  let accepted = 0;
  let ended = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => {
      if (sockets.delete(socket)) ended++;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => accepted,
    ended: () => ended,
    close: async () => {
      const open = [...sockets];
      sockets.clear();
      for (const socket of open) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const httpServer = (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> =>
  listen(createHttpServer({ keepAliveTimeout: 60_000 }, handler));

/** A server that answers each request (a read ending in an empty line) with `respond`. */
const rawServer = (respond: (socket: Socket, request: number) => void | Promise<void>): Promise<Listening> => {
  let requests = 0;
  return listen(
    createNetServer((socket) => {
      socket.setNoDelay(true);
      let seen = '';
      socket.on('data', (chunk) => {
        seen += chunk.toString('latin1');
        while (seen.includes('\r\n\r\n')) {
          seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
          void respond(socket, requests++);
        }
      });
      socket.on('error', () => undefined);
    }),
  );
};

function rawRequest(port: number, request: Partial<LoadRequest> = {}): RawRequest {
  const raw = encodeRawRequest({
    origin: `http://127.0.0.1:${port}`,
    path: '/',
    method: 'GET',
    headers: {},
    ...request,
  });
  assert.ok(raw);
  return raw;
}

/** One request; asserts the callback is never synchronous. */
function send(
  connection: RawHttpConnection,
  raw: RawRequest,
  timeoutMs = 5000,
): Promise<{ status: number; kind: TransportErrorKind | undefined }> {
  return new Promise((resolve) => {
    let returned = false;
    connection.send(raw, timeoutMs, (status, kind) => {
      assert.ok(returned, 'called back synchronously');
      resolve({ status, kind });
    });
    returned = true;
  });
}

async function withConnection<T>(port: number, body: (connection: RawHttpConnection) => Promise<T>): Promise<T> {
  const connection = new RawHttpConnection('127.0.0.1', port);
  try {
    return await body(connection);
  } finally {
    connection.close();
  }
}

/** Writes `text` one byte per write, each after a pause, so every byte arrives in its own read. */
async function trickle(socket: Socket, text: string): Promise<void> {
  for (const byte of Buffer.from(text, 'latin1')) {
    if (socket.destroyed) return;
    socket.write(Buffer.from([byte]));
    await delay(1);
  }
}

test('a content-length body, and the request as the server sees it', async () => {
  const seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string } = {};
  const server = await httpServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      Object.assign(seen, { method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(201, { 'content-length': '5' });
      res.end('hello');
    });
  });
  try {
    const raw = rawRequest(server.port, {
      method: 'POST',
      path: '/api/x?q=1',
      headers: { 'x-token': 'abc', 'content-type': 'application/json' },
      body: '{"k":"é"}',
    });
    const result = await withConnection(server.port, (c) => send(c, raw));
    assert.deepEqual(result, { status: 201, kind: undefined });
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/api/x?q=1');
    assert.equal(seen.body, '{"k":"é"}');
    assert.equal(seen.headers?.['x-token'], 'abc');
    assert.equal(seen.headers?.host, `127.0.0.1:${server.port}`);
    assert.equal(seen.headers?.['content-length'], String(Buffer.byteLength('{"k":"é"}')));
  } finally {
    await server.close();
  }
});

test('a chunked body with extensions and trailers, then the next response on the same socket', async () => {
  const server = await rawServer((socket) => {
    socket.write(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n' +
        '5;name=value;q="a b"\r\nhello\r\n' +
        'A\r\n0123456789\r\n' +
        '0;last\r\nx-sum: 15\r\nx-other: y\r\n\r\n',
    );
  });
  try {
    await withConnection(server.port, async (c) => {
      const raw = rawRequest(server.port);
      assert.deepEqual(await send(c, raw), { status: 200, kind: undefined });
      assert.deepEqual(await send(c, raw), { status: 200, kind: undefined });
    });
    assert.equal(server.connections(), 1);
  } finally {
    await server.close();
  }
});

test('responses split byte by byte: heads, content-length and chunked bodies, 1xx', async () => {
  const responses = [
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nt: 1\r\n\r\n',
    'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n',
  ];
  const server = await rawServer((socket, n) => trickle(socket, responses[n] as string));
  try {
    await withConnection(server.port, async (c) => {
      const raw = rawRequest(server.port);
      assert.deepEqual(await send(c, raw), { status: 200, kind: undefined });
      assert.deepEqual(await send(c, raw), { status: 202, kind: undefined });
      assert.deepEqual(await send(c, raw), { status: 404, kind: undefined });
    });
    assert.equal(server.connections(), 1);
  } finally {
    await server.close();
  }
});

test('204, 304 and HEAD responses have no body, whatever their headers say', async () => {
  const server = await httpServer((req, res) => {
    if (req.url === '/204') res.writeHead(204).end();
    else if (req.url === '/304') res.writeHead(304, { etag: '"x"' }).end();
    else res.writeHead(200, { 'content-length': '1000' }).end(req.method === 'HEAD' ? undefined : 'x'.repeat(1000));
  });
  try {
    await withConnection(server.port, async (c) => {
      assert.deepEqual(await send(c, rawRequest(server.port, { path: '/204' })), { status: 204, kind: undefined });
      assert.deepEqual(await send(c, rawRequest(server.port, { path: '/304' })), { status: 304, kind: undefined });
      const head = rawRequest(server.port, { method: 'HEAD', path: '/h' });
      assert.deepEqual(await send(c, head), { status: 200, kind: undefined });
      assert.deepEqual(await send(c, rawRequest(server.port, { path: '/h' })), { status: 200, kind: undefined });
    });
    assert.equal(server.connections(), 1);
  } finally {
    await server.close();
  }
});

test('connection: close from the server, then the next request reconnects', async () => {
  const server = await httpServer((req, res) => {
    res.writeHead(200, { 'content-length': '2', connection: req.url === '/close' ? 'close' : 'keep-alive' });
    res.end('ok');
  });
  try {
    await withConnection(server.port, async (c) => {
      assert.deepEqual(await send(c, rawRequest(server.port, { path: '/close' })), { status: 200, kind: undefined });
      assert.deepEqual(await send(c, rawRequest(server.port)), { status: 200, kind: undefined });
      assert.deepEqual(await send(c, rawRequest(server.port)), { status: 200, kind: undefined });
    });
    assert.equal(server.connections(), 2);
  } finally {
    await server.close();
  }
});

test('a body without length or chunking runs until the server closes', async () => {
  const server = await rawServer((socket) => {
    socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of this is the body');
  });
  try {
    await withConnection(server.port, async (c) => {
      assert.deepEqual(await send(c, rawRequest(server.port)), { status: 200, kind: undefined });
      assert.deepEqual(await send(c, rawRequest(server.port)), { status: 200, kind: undefined });
    });
    assert.equal(server.connections(), 2);
  } finally {
    await server.close();
  }
});

test('a reset or a close mid-response fails the request as connection-reset, and the next reconnects', async () => {
  const server = await rawServer(async (socket, n) => {
    if (n === 0) {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npart');
      await delay(20);
      socket.resetAndDestroy();
    } else if (n === 1) {
      socket.end('HTTP/1.1 200 OK\r\ncontent-le');
    } else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  });
  try {
    await withConnection(server.port, async (c) => {
      assert.deepEqual(await send(c, rawRequest(server.port)), { status: 0, kind: 'connection-reset' });
      assert.deepEqual(await send(c, rawRequest(server.port)), { status: 0, kind: 'connection-reset' });
      assert.deepEqual(await send(c, rawRequest(server.port)), { status: 200, kind: undefined });
    });
    assert.equal(server.connections(), 3);
  } finally {
    await server.close();
  }
});

test('malformed responses fail as other and the socket is replaced', async () => {
  const bad = [
    'HTTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n',
    'HTTX/1.1 200 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\ncontent-length: 12a\r\n\r\n',
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nbad header line\r\n\r\n',
    'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok',
  ];
  const server = await rawServer((socket, n) => {
    socket.write(bad[n] ?? 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });
  try {
    await withConnection(server.port, async (c) => {
      for (const _ of bad) assert.deepEqual(await send(c, rawRequest(server.port)), { status: 0, kind: 'other' });
      assert.deepEqual(await send(c, rawRequest(server.port)), { status: 200, kind: undefined });
    });
    assert.equal(server.connections(), bad.length + 1);
  } finally {
    await server.close();
  }
});

test('a response that never comes times out, and a refused connection is reported as such', async () => {
  const server = await rawServer(() => undefined);
  try {
    const started = performance.now();
    const result = await withConnection(server.port, (c) => send(c, rawRequest(server.port), 100));
    const took = performance.now() - started;
    assert.deepEqual(result, { status: 0, kind: 'timeout' });
    assert.ok(took >= 100 && took < 1000, `timed out after ${took}ms`);
  } finally {
    await server.close();
  }
  // The port is free again: nothing listens.
  const refused = await withConnection(server.port, (c) => send(c, rawRequest(server.port)));
  assert.deepEqual(refused, { status: 0, kind: 'connection-refused' });
});

test('a slow body that keeps arriving is not a timeout (as undici, the clock restarts on data)', async () => {
  const server = await rawServer(async (socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n');
    for (let i = 0; i < 6; i++) {
      await delay(40);
      socket.write('x');
    }
  });
  try {
    const result = await withConnection(server.port, (c) => send(c, rawRequest(server.port), 100));
    assert.deepEqual(result, { status: 200, kind: undefined });
  } finally {
    await server.close();
  }
});

test('1xx interim responses before the final one are skipped', async () => {
  const server = await rawServer((socket) => {
    socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    setTimeout(() => {
      socket.write(
        'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
      );
    }, 10);
  });
  try {
    const result = await withConnection(server.port, (c) => send(c, rawRequest(server.port)));
    assert.deepEqual(result, { status: 200, kind: undefined });
  } finally {
    await server.close();
  }
});

test('1000 sequential requests reuse one keep-alive socket', async () => {
  let requests = 0;
  const server = await httpServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
  try {
    await withConnection(server.port, async (c) => {
      const raw = rawRequest(server.port);
      for (let i = 0; i < 1000; i++) assert.deepEqual(await send(c, raw), { status: 200, kind: undefined });
    });
    assert.equal(requests, 1000);
    assert.equal(server.connections(), 1);
  } finally {
    await server.close();
  }
});

test('requests this client does not handle are left to undici', () => {
  const base = { origin: 'http://127.0.0.1:8080', path: '/', method: 'GET', headers: {} };
  assert.ok(encodeRawRequest(base));
  assert.equal(encodeRawRequest({ ...base, origin: 'https://127.0.0.1:8443' }), undefined);
  assert.equal(encodeRawRequest({ ...base, headers: { 'transfer-encoding': 'chunked' } }), undefined);
  assert.equal(encodeRawRequest({ ...base, headers: { Connection: 'close' } }), undefined);
  assert.equal(encodeRawRequest({ ...base, headers: { 'x-a': 'b\r\nx-injected: 1' } }), undefined);
  assert.equal(encodeRawRequest({ ...base, method: 'CONNECT' }), undefined);
  const withHost = encodeRawRequest({ ...base, headers: { Host: 'api.example' } });
  assert.equal(withHost?.bytes.toString('latin1').match(/^host:/gim)?.length, 1);
  assert.deepEqual(encodeRawRequest({ ...base, origin: 'http://[::1]:9' }) && { host: '::1', port: 9 }, {
    host: '::1',
    port: 9,
  });
});

const closedLoad = async (yaml: string) => {
  const load = (await parseChecksDocument(`load:\n${yaml}`, 'checks')).load;
  assert.ok(load);
  return load;
};

test('the closed model sends through raw connections: one socket per connection, statuses counted', async () => {
  let requests = 0;
  const server = await httpServer((req, res) => {
    requests++;
    res.writeHead(req.url === '/a' ? 200 : 503, { 'content-length': '2' }).end('ok');
  });
  const client = createHttpClient();
  try {
    const load = await closedLoad('  connections: 3\n  duration: 300ms\n  requests:\n    - path: /a\n    - path: /b\n');
    const result = await runLoad(
      load,
      { baseUrl: new URL(`http://127.0.0.1:${server.port}`), headers: {}, timeoutMs: 1000, lookup: () => undefined },
      { client, clock: systemClock },
    );
    assert.equal(server.connections(), 3);
    assert.equal(result.completed, requests);
    assert.ok(result.completed > 30);
    assert.equal((result.statusCounts[200] ?? 0) + (result.statusCounts[503] ?? 0), result.completed);
    assert.equal(result.errorKinds['unexpected-status'], result.statusCounts[503]);
  } finally {
    await client.close();
    await server.close();
  }
});

test('cancelling the closed model destroys its raw sockets at once; requests in flight are unfinished', async () => {
  const server = await rawServer(() => undefined); // never answers
  const controller = new AbortController();
  const client = createHttpClient();
  try {
    const load = await closedLoad('  connections: 4\n  duration: 30s\n  path: /\n');
    const running = runLoad(
      load,
      { baseUrl: new URL(`http://127.0.0.1:${server.port}`), headers: {}, timeoutMs: 10_000, lookup: () => undefined },
      { client, clock: systemClock, signal: controller.signal },
    );
    await delay(100);
    assert.equal(server.connections(), 4);
    const cancelled = performance.now();
    controller.abort();
    await delay(50);
    assert.equal(server.ended(), 4, 'the sockets were not closed');
    const result = await running;
    assert.ok(performance.now() - cancelled < 2000);
    assert.equal(result.aborted, true);
    assert.equal(result.abortReason, 'cancelled');
    assert.equal(result.errorKinds.unfinished, 4);
  } finally {
    await client.close();
    await server.close();
  }
});

const openLoad = async (yaml: string) => {
  const load = (await parseChecksDocument(`load:\n${yaml}`, 'checks')).load;
  assert.ok(load);
  return load;
};

test('the open model opens its connections before the schedule starts, and none waits at a service that keeps up', async () => {
  let connectionsAtFirstRequest = -1;
  let server: Listening | undefined = undefined;
  server = await httpServer((_req, res) => {
    if (connectionsAtFirstRequest < 0) connectionsAtFirstRequest = (server as Listening).connections();
    res.writeHead(200, { 'content-length': '2' }).end('ok');
  });
  const client = createHttpClient();
  try {
    // 40/s: 40 connections ahead (a second of arrivals).
    const load = await openLoad('  rate: 40/s\n  duration: 500ms\n  path: /\n');
    const result = await runLoad(
      load,
      { baseUrl: new URL(`http://127.0.0.1:${server.port}`), headers: {}, timeoutMs: 1000, lookup: () => undefined },
      { client, clock: systemClock },
    );
    assert.equal(result.preopenedConnections, 40);
    // Every connection was connected before the first request was sent (the server may not
    // have seen all of them accepted yet when the first request arrived).
    assert.ok(connectionsAtFirstRequest >= 1);
    assert.equal(result.completed, 20);
    assert.equal(result.errors, 0);
    assert.equal(result.waitedForConnection, 0);
    assert.equal(result.openedConnections, 40);
    assert.ok(server.connections() <= (result.openedConnections ?? 0));
  } finally {
    await client.close();
    await server.close();
  }
});

test('open-model requests that find every connection busy wait for one and are counted; latency runs from the schedule', async () => {
  // The service holds every response until 1.5 s after the first request, then answers at once.
  let releaseAt = 0;
  let connectionsAtRelease = 0;
  const held: ServerResponse[] = [];
  let server: Listening | undefined = undefined;
  server = await httpServer((_req, res) => {
    if (releaseAt === 0) {
      releaseAt = performance.now() + 1500;
      setTimeout(() => {
        connectionsAtRelease = (server as Listening).connections();
        for (const r of held.splice(0)) r.writeHead(200, { 'content-length': '0' }).end();
      }, 1500);
    }
    if (performance.now() < releaseAt) held.push(res);
    else res.writeHead(200, { 'content-length': '0' }).end();
  });
  const client = createHttpClient();
  try {
    // 20/s: 20 connections ahead; none more while the service answers nothing.
    const load = await openLoad('  rate: 20/s\n  duration: 2s\n  max-in-flight: 100\n  path: /\n');
    const result = await runLoad(
      load,
      { baseUrl: new URL(`http://127.0.0.1:${server.port}`), headers: {}, timeoutMs: 5000, lookup: () => undefined },
      { client, clock: systemClock },
    );
    assert.equal(result.completed, 40);
    assert.equal(result.errors, 0);
    assert.equal(result.preopenedConnections, 20);
    // 30 arrivals came during the hold: the first 20 went on the connections opened ahead.
    assert.ok((result.waitedForConnection ?? 0) >= 8, `waited ${result.waitedForConnection}`);
    // No connection was opened while the service answered nothing (it might be frozen, with a
    // full accept backlog); more came once it answered.
    assert.equal(connectionsAtRelease, 20);
    assert.ok((result.openedConnections ?? 0) >= 20 && (result.openedConnections ?? 0) <= 100);
    // The first request waited the whole hold, from its scheduled time.
    assert.ok(result.latency.max >= 1450, `max ${result.latency.max}`);
  } finally {
    await client.close();
    await server.close();
  }
});

test('the pool: a request waiting past its timeout fails as timeout; with no service every request fails as refused', async () => {
  const server = await rawServer(() => undefined);
  const request = encodeRawRequest({
    origin: `http://127.0.0.1:${server.port}`,
    path: '/',
    method: 'GET',
    headers: {},
  });
  assert.ok(request);
  const pool = new RawHttpPool('127.0.0.1', server.port, 1);
  try {
    assert.equal(await pool.preopen(5), 1);
    const outcomes: (TransportErrorKind | undefined)[] = [];
    const finished = new Promise<void>((resolve) => {
      const done = (_status: number, kind: TransportErrorKind | undefined): void => {
        outcomes.push(kind);
        if (outcomes.length === 2) resolve();
      };
      assert.equal(pool.send(request, 100, done), false);
      assert.equal(pool.send(request, 100, done), true);
    });
    await finished;
    assert.deepEqual(outcomes, ['timeout', 'timeout']);
  } finally {
    pool.close();
    await server.close();
  }

  const refused = new RawHttpPool('127.0.0.1', server.port, 4);
  try {
    assert.equal(await refused.preopen(2), 0);
    const kinds = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<TransportErrorKind | undefined>((resolve) =>
            refused.send(request, 1000, (_s, kind) => resolve(kind)),
          ),
      ),
    );
    assert.deepEqual(kinds, ['connection-refused', 'connection-refused', 'connection-refused']);
  } finally {
    refused.close();
  }
});

test('the pool does not reuse a connection idle past its keep-alive limit: a server may be closing it', async () => {
  // Servers close idle keep-alive connections (Node after 5 s, uvicorn after 5 s); a request written
  // as the server's FIN is on its way fails as connection-reset. As undici does without a hint, the
  // pool retires a connection idle for 4 s (here 100 ms) and sends on a fresh one.
  const server = await httpServer((_req, res) => res.end('ok'));
  const request = encodeRawRequest({
    origin: `http://127.0.0.1:${server.port}`,
    path: '/',
    method: 'GET',
    headers: {},
  });
  assert.ok(request);
  const pool = new RawHttpPool('127.0.0.1', server.port, 4, { idleLimitMs: 100 });
  const get = (): Promise<[number, TransportErrorKind | undefined]> =>
    new Promise((resolve) => pool.send(request, 2000, (status, kind) => resolve([status, kind])));
  try {
    assert.equal(await pool.preopen(1), 1);
    assert.deepEqual(await get(), [200, undefined]);
    assert.deepEqual(await get(), [200, undefined]);
    assert.equal(server.connections(), 1, 'a connection used within the limit is reused');
    await delay(250);
    assert.deepEqual(await get(), [200, undefined]);
    assert.equal(server.connections(), 2, 'the idle connection was retired and a new one opened');
    assert.equal(server.ended(), 1);
  } finally {
    pool.close();
    await server.close();
  }
});

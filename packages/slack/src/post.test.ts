// post.ts through deliverMessage against a real local server: one POST through node:http, never the
// global fetch (its HTTP stack costs notify's start-up tens of milliseconds), with fetch's outcomes kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverMessage } from './deliver.ts';

async function serve(answer: (res: ServerResponse) => void): Promise<{
  url: string;
  server: Server;
  received: { headers: IncomingHttpHeaders; body: string }[];
}> {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, server, received };
}

async function withoutGlobalFetch<T>(work: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  globalThis.fetch = () => Promise.reject(new Error('the global fetch was used'));
  try {
    return await work();
  } finally {
    globalThis.fetch = original;
  }
}

test('a message is delivered with one POST of JSON, without the global fetch', async () => {
  const { url, server, received } = await serve((res) => res.end('ok'));
  try {
    const result = await withoutGlobalFetch(() => deliverMessage(url, { text: 'hello' }, { timeoutMs: 5000 }));
    assert.deepEqual(result, { ok: true, statusCode: 200, attempts: 1, waits: [] });
    assert.equal(received.length, 1);
    assert.equal(received[0]?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(received[0]?.body ?? ''), { text: 'hello' });
  } finally {
    server.close();
  }
});

test('a 429 waits as Retry-After says, a 4xx is final with Slack advice, a redirect is not followed', async () => {
  const answers = [
    (res: ServerResponse) => res.writeHead(429, { 'retry-after': '0' }).end('rate_limited'),
    (res: ServerResponse) => res.writeHead(404).end('no_service'),
  ];
  const { url, server, received } = await serve((res) => (answers.shift() ?? ((r) => r.end('ok')))(res));
  try {
    const result = await withoutGlobalFetch(() => deliverMessage(url, { text: 'x' }, { timeoutMs: 5000 }));
    assert.equal(received.length, 2);
    assert.equal(result.ok, false);
    assert.equal(result.statusCode, 404);
    assert.equal(result.slackError, 'no_service');
    assert.deepEqual(result.waits, [0]);
  } finally {
    server.close();
  }
  const moved = await serve((res) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end());
  try {
    const result = await withoutGlobalFetch(() =>
      deliverMessage(moved.url, { text: 'x' }, { timeoutMs: 1500, baseBackoffMs: 10_000 }),
    );
    assert.equal(result.ok, false);
    assert.equal(result.statusCode, 0);
    assert.match(result.error ?? '', /the webhook never answered/);
  } finally {
    moved.server.close();
  }
});

test('a refused connection and a hung one are network errors named as fetch names them', async () => {
  const refused = await withoutGlobalFetch(() =>
    deliverMessage('http://127.0.0.1:1/hook', { text: 'x' }, { timeoutMs: 1200, baseBackoffMs: 10_000 }),
  );
  assert.equal(refused.ok, false);
  assert.match(refused.error ?? '', /timeout ran out; the webhook never answered/);
  const hung = await serve(() => undefined);
  try {
    const logged: string[] = [];
    const result = await withoutGlobalFetch(() =>
      deliverMessage(
        hung.url,
        { text: 'x' },
        {
          timeoutMs: 3000,
          attemptTimeoutMs: 1000,
          baseBackoffMs: 10,
          logger: { debug: () => {}, info: (m) => logged.push(m), warning: () => {}, error: () => {} },
        },
      ),
    );
    assert.equal(result.ok, false);
    assert.match(logged[0] ?? '', /attempt 1 timed out after 1000 ms/);
  } finally {
    hung.server.closeAllConnections();
    hung.server.close();
  }
});

test("behind a proxy: with NODE_USE_ENV_PROXY=1 the POST goes through HTTP_PROXY, as Node's fetch's would", async () => {
  const { url: proxyUrl, server, received } = await serve((res) => res.end('ok'));
  try {
    const script = `
      import { deliverMessage } from ${JSON.stringify(new URL('./deliver.ts', import.meta.url).href)};
      const result = await deliverMessage('http://hooks.example.invalid/services/T/B/x', { text: 'via proxy' }, { timeoutMs: 5000 });
      process.stdout.write(JSON.stringify(result));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, NODE_USE_ENV_PROXY: '1', HTTP_PROXY: new URL(proxyUrl).origin, NO_PROXY: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await once(child, 'close');
    assert.deepEqual(JSON.parse(stdout), { ok: true, statusCode: 200, attempts: 1, waits: [] });
    assert.equal(received.length, 1);
    assert.equal(received[0]?.headers.host, 'hooks.example.invalid');
    assert.deepEqual(JSON.parse(received[0]?.body ?? ''), { text: 'via proxy' });
  } finally {
    server.close();
  }
});

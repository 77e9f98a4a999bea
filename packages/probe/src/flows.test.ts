// Virtual users' flows against a real HTTP server on loopback: captures carried from one request
// to the next, Artillery's expectations, weights, per-user data, and which failures end a flow.
// The recorder is the load phase's port (load.ts implements it); here it writes down what it is told.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '@adci/common';
import { createFlowRunner, hasProperty, loadRequests, type FlowRecorder } from './flows.ts';
import { createHttpClient } from './http.ts';
import type { FlowStep, LoadFlow, LoadSpec } from './types.ts';

let server: Server;
let base: URL;
const seen: string[] = [];
const client = createHttpClient();

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`.trim());
      const json = (status: number, value: unknown, type = 'application/json'): void => {
        res.writeHead(status, { 'content-type': type });
        res.end(JSON.stringify(value));
      };
      if (req.url === '/login') return json(201, { token: `t-${seen.length}`, user: { id: 7 } });
      if (req.url?.startsWith('/items/')) return json(200, { items: [{ id: 1 }] });
      if (req.url === '/text') return json(200, 'plain', 'text/plain');
      if (req.url === '/missing') return json(404, { error: 'no' });
      return json(200, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});
after(async () => {
  await client.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Recorded {
  ends: { status: number; kind?: string; ok: boolean; failure?: string }[];
  errors: string[];
}

function recorder(haltAfter = Infinity): FlowRecorder & Recorded {
  const r: Recorded = { ends: [], errors: [] };
  let begun = 0;
  return {
    ...r,
    begin: () => ++begun,
    end: (_token, status, kind, ok, failure) =>
      r.ends.push({ status, ok, ...(kind ? { kind } : {}), ...(failure ? { failure } : {}) }),
    error: (kind) => r.errors.push(kind),
    halted: () => begun >= haltAfter,
  };
}

type RequestStep = Extract<FlowStep, { kind: 'request' }>;

const get = (path: string, extra: Partial<RequestStep> = {}): RequestStep => ({
  kind: 'request',
  request: { method: 'GET', path, headers: {} },
  capture: {},
  expect: { hasProperty: [] },
  ...extra,
});

const spec = (flows: LoadFlow[], data?: LoadSpec['data']): LoadSpec => ({
  model: { kind: 'open', ratePerSecond: 1, maxInFlight: 10 },
  durationMs: 1000,
  requests: [],
  flows,
  ...(data ? { data } : {}),
  thresholds: [],
  abortOnFail: false,
});

const target = () => ({ baseUrl: base, headers: {}, timeoutMs: 2000, lookup: (): undefined => undefined });

test('a capture feeds the next request; expectations are judged; a failed capture ends the flow', async () => {
  seen.length = 0;
  const flow: LoadFlow = {
    name: 'journey',
    weight: 1,
    steps: [
      get('/login', {
        request: {
          method: 'POST',
          path: '/login',
          headers: {},
          json: { user: '{{ who }}' },
          status: { codes: [201], classes: [], text: '201' },
        },
        capture: { token: '$.token' },
      }),
      { kind: 'think', ms: 20 },
      get('/items/{{ token }}', { expect: { contentType: 'json', hasProperty: ['items[0].id'] } }),
      get('/text', { expect: { contentType: 'json', hasProperty: [] } }),
      get('/missing'),
      get('/login', { capture: { nothing: '$.missing' } }),
      get('/never'),
    ],
  };
  const rec = recorder();
  const runner = createFlowRunner(
    spec([flow], { variables: { who: ['ann'] }, rows: [], order: 'sequence' }),
    target(),
    client,
    systemClock,
    rec,
  );
  assert.ok(runner);
  assert.equal(runner.thinkMs, 20);
  await runner.run(systemClock.now());
  assert.deepEqual(seen, ['POST /login {"user":"ann"}', 'GET /items/t-1', 'GET /text', 'GET /missing', 'GET /login']);
  assert.deepEqual(rec.ends, [
    { status: 201, ok: true },
    { status: 200, ok: true },
    { status: 200, ok: false, failure: 'failed-expectation' },
    { status: 404, ok: false },
    { status: 201, ok: false, failure: 'failed-capture' },
  ]);
});

test('flows alternate by weight; payload rows go to users in order', async () => {
  seen.length = 0;
  const runner = createFlowRunner(
    spec(
      [
        { name: 'a', weight: 2, steps: [get('/a?user={{ user }}')] },
        { name: 'b', weight: 1, steps: [get('/b?user={{ user }}')] },
      ],
      { variables: {}, rows: [{ user: 'u1' }, { user: 'u2' }], order: 'sequence' },
    ),
    target(),
    client,
    systemClock,
    recorder(),
  );
  assert.ok(runner);
  for (let i = 0; i < 6; i++) await runner.run(systemClock.now());
  assert.deepEqual(seen, [
    'GET /a?user=u1',
    'GET /b?user=u2',
    'GET /a?user=u1',
    'GET /a?user=u2',
    'GET /b?user=u1',
    'GET /a?user=u2',
  ]);
});

test('a placeholder with no value is a template error; a refused connection ends the flow; halting stops it', async () => {
  const missing = recorder();
  await createFlowRunner(
    spec([{ name: 'x', weight: 1, steps: [get('/{{ env.NONE }}')] }]),
    target(),
    client,
    systemClock,
    missing,
  )?.run(0);
  assert.deepEqual([missing.errors, missing.ends], [['template'], []]);

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = recorder();
  const unreachable: FlowStep = {
    ...get('/'),
    request: { method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {} },
  };
  await createFlowRunner(
    spec([{ name: 'x', weight: 1, steps: [unreachable, get('/never')] }]),
    target(),
    client,
    systemClock,
    refused,
  )?.run(0);
  assert.equal(refused.ends.length, 1);
  assert.equal(refused.ends[0]?.kind, 'connection-refused');

  seen.length = 0;
  const halted = recorder(1);
  await createFlowRunner(
    spec([{ name: 'x', weight: 1, steps: [get('/one'), get('/two')] }]),
    target(),
    client,
    systemClock,
    halted,
  )?.run(0);
  assert.deepEqual(seen, ['GET /one']);
  assert.equal(createFlowRunner(spec([]), target(), client, systemClock, recorder()), undefined, 'no flows, no runner');
});

test('hasProperty follows lodash paths; loadRequests lists the requests and every flow request', () => {
  const doc = { items: [{ id: 1, tags: { a: null } }], n: 0 };
  assert.equal(hasProperty(doc, 'items[0].id'), true);
  assert.equal(hasProperty(doc, 'items.0.tags.a'), true, 'a null value exists');
  assert.equal(hasProperty(doc, 'n'), true);
  assert.equal(hasProperty(doc, 'items[1]'), false);
  assert.equal(hasProperty(doc, 'items[0].id.x'), false);
  assert.equal(hasProperty(doc, 'toString'), false, 'own properties only');
  const load = spec([{ name: 'a', weight: 1, steps: [get('/a'), { kind: 'think', ms: 5 }, get('/b')] }]);
  load.requests = [{ method: 'GET', path: '/r', headers: {} }];
  assert.deepEqual(
    loadRequests(load).map((r) => r.path),
    ['/r', '/a', '/b'],
  );
});

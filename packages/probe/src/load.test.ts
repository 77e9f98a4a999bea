import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '@adci/common';
import { runLoad } from './load.ts';
import { parseChecksDocument } from './spec.ts';
import { createHttpClient, type HttpClient, type LoadCallback, type LoadRequest } from './http.ts';

/** A client whose responses are released by the test, so counts do not depend on timing. */
function heldClient(answer?: (request: LoadRequest) => number) {
  const pending: LoadCallback[] = [];
  const seen: LoadRequest[] = [];
  const client: HttpClient = {
    send: () => Promise.reject(new Error('not used')),
    fire(request, _timeout, done) {
      seen.push(request);
      if (answer) setImmediate(() => done(answer(request), undefined));
      else pending.push(done);
    },
    dedicated: () => client,
    close: () => Promise.resolve(),
  };
  return { client, pending, seen };
}

const loadOf = async (yaml: string) => {
  const load = (await parseChecksDocument(`load:\n${yaml}`, 'checks')).load;
  assert.ok(load);
  return load;
};

const target = {
  baseUrl: new URL('http://127.0.0.1:1/api'),
  headers: { 'x-common': 'c' },
  timeoutMs: 200,
  lookup: () => 'v9',
};

test('the open model drops arrivals beyond max-in-flight instead of queueing them', async () => {
  const { client, pending } = heldClient();
  const load = await loadOf('  rate: 100/s\n  duration: 500ms\n  max-in-flight: 5\n  path: /x\n');
  const running = runLoad(load, { ...target, timeoutMs: 50 }, { client, clock: systemClock });
  const result = await running;
  assert.equal(result.sent, 5);
  assert.equal(result.dropped, 45);
  // Never answered: counted as unfinished errors, not silently ignored.
  assert.equal(result.errors, 5);
  assert.equal(result.errorKinds.unfinished, 5);
  assert.equal(pending.length, 5);
});

test('requests rotate, placeholders are filled once, and statuses are judged', async () => {
  const { client, seen } = heldClient((r) => (r.path.endsWith('/b') ? 503 : 200));
  const load = await loadOf(
    '  rate: 200/s\n  duration: 200ms\n  requests:\n    - path: /a/{{ id }}\n    - { method: POST, path: /b, json: { k: "{{ id }}" }, expect: { status: [200, 503] } }\n  thresholds: [ error_rate<0.01, dropped==0 ]\n',
  );
  const result = await runLoad(load, target, { client, clock: systemClock });
  assert.equal(result.sent, 40);
  assert.equal(result.completed, 40);
  assert.equal(result.errors, 0);
  assert.deepEqual(result.statusCounts, { 200: 20, 503: 20 });
  assert.equal(seen[0]?.path, '/api/a/v9');
  assert.equal(seen[1]?.body, '{"k":"v9"}');
  assert.equal(seen[1]?.headers['content-type'], 'application/json');
  assert.equal(seen[0]?.headers['x-common'], 'c');
  assert.equal(result.passed, true);
});

test('unexpected statuses count as errors and fail an error_rate threshold', async () => {
  const { client } = heldClient(() => 500);
  const load = await loadOf('  connections: 2\n  duration: 100ms\n  path: /\n  thresholds: [ error_rate<0.5 ]\n');
  const result = await runLoad(load, target, { client, clock: systemClock });
  assert.equal(result.model, 'closed');
  assert.ok(result.completed > 0);
  assert.equal(result.errors, result.completed);
  assert.equal(result.errorKinds['unexpected-status'], result.completed);
  assert.deepEqual(
    result.thresholds.map((t) => [t.threshold, t.passed, t.actual]),
    [['error_rate<0.5', false, 1]],
  );
  assert.equal(result.passed, false);
});

test('refused connections in the closed model are counted, not crashed on', async () => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const client = createHttpClient();
  try {
    const load = await loadOf('  connections: 2\n  duration: 300ms\n  path: /\n');
    const result = await runLoad(
      load,
      { ...target, baseUrl: new URL(`http://127.0.0.1:${port}`) },
      { client, clock: systemClock },
    );
    assert.ok(result.completed > 0);
    assert.equal(result.errorKinds['connection-refused'], result.completed);
    assert.equal(result.errorRate, 1);
  } finally {
    await client.close();
  }
});

test('abort-on-fail catches a service that stops answering, before any request times out', async () => {
  const { client, pending } = heldClient();
  const load = await loadOf(
    '  rate: 50/s\n  duration: 60s\n  path: /\n  thresholds: [ p(99)<500ms ]\n  abort-on-fail: true\n',
  );
  const result = await runLoad(load, { ...target, timeoutMs: 30_000 }, { client, clock: systemClock });
  assert.equal(result.aborted, true);
  assert.match(result.abortReason ?? '', /threshold p\(99\)<500ms breached/);
  // Stopped at the first judgement that could see requests older than 500 ms (2 s in), long
  // before the 30 s request timeout or the 60 s phase.
  assert.ok(result.sent <= 200, `sent ${result.sent}`);
  assert.equal(result.errorKinds.unfinished, pending.length);
});

test('requests that never answer count in the latency at their age, not as fast ones', async () => {
  const { client } = heldClient();
  const load = await loadOf('  rate: 20/s\n  duration: 1s\n  path: /\n  thresholds: [ p(50)<100ms ]\n');
  const result = await runLoad(load, { ...target, timeoutMs: 1500 }, { client, clock: systemClock });
  assert.equal(result.errorKinds.unfinished, 20);
  // All 20 were abandoned after the 1.5 s drain: the ones from the first second are at least 1.5 s old.
  assert.ok(result.latency.p50 >= 1000, `p50 ${result.latency.p50}ms`);
  assert.deepEqual(
    result.thresholds.map((t) => [t.threshold, t.passed, t.implicit ?? false]),
    [
      ['p(50)<100ms', false, false],
      ['error_rate<0.01', false, true],
    ],
  );
  assert.ok(result.latency.p99 <= result.latency.max, JSON.stringify(result.latency));
});

// Waiting for a service and running checks in order, against a real HTTP service on loopback
// (test/fakes/service.ts): warm-up answered as "not yet", captures feeding later checks, retries,
// fail-fast, transport errors, and secrets masked wherever a result shows them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor, systemClock } from '@adci/common';
import { startFakeService, type FakeService } from '../../../test/fakes/service.ts';
import { describeFailure, runChecks, skipped, templateLookup, waitForService, type CheckSettings } from './checks.ts';
import { createHttpClient } from './http.ts';
import { parseChecksDocument } from './spec.ts';

let service: FakeService;
const client = createHttpClient();
before(async () => {
  service = await startFakeService({ token: 'campaigns-token' });
});
after(async () => {
  await service.close();
  await client.close();
});

const ports = (redactor = new Redactor()) => ({ client, clock: systemClock, redactor });
const settings = (over: Partial<CheckSettings> = {}): CheckSettings => ({
  baseUrl: new URL(service.url),
  headers: {},
  timeoutMs: 2000,
  retries: 0,
  retryDelayMs: 10,
  failFast: false,
  ...over,
});
const checksOf = async (yaml: string) => (await parseChecksDocument(yaml, 'checks')).checks;

test('waitForService polls through refused connections and 503s until a 2xx', async () => {
  const warming = await startFakeService({ refuseForMs: 300, unavailableForMs: 300 });
  try {
    const wait = await waitForService(
      {
        baseUrl: new URL(warming.url),
        path: '/healthz',
        timeoutMs: 10_000,
        intervalMs: 50,
        requestTimeoutMs: 1000,
        headers: {},
      },
      ports(),
    );
    assert.equal(wait.ready, true);
    assert.ok(wait.attempts > 2, `${wait.attempts} attempts`);
    assert.ok(wait.elapsedMs >= 300);
    assert.equal(wait.url, `${warming.url}/healthz`);
  } finally {
    await warming.close();
  }
});

test('waitForService gives up at its timeout with the last problem, a URL password masked', async () => {
  const url = new URL(service.url);
  url.username = 'ops';
  url.password = 'hunter2';
  const wait = await waitForService(
    { baseUrl: url, path: '/status/503', timeoutMs: 300, intervalMs: 100, requestTimeoutMs: 200, headers: {} },
    ports(),
  );
  assert.equal(wait.ready, false);
  assert.equal(wait.lastProblem, 'status 503');
  assert.doesNotMatch(wait.url, /hunter2/);
  assert.ok(wait.attempts >= 2 && wait.elapsedMs <= 400, `${wait.attempts} attempts in ${wait.elapsedMs}ms`);
});

test('a journey: a capture feeds the next check; captured secrets are masked in later failures', async () => {
  const variables: Record<string, string> = {};
  const results = await runChecks(
    await checksOf(`
- { name: login, method: POST, path: /login, capture: { session: $.token } }
- name: create
  method: POST
  path: /campaigns
  headers: { Authorization: "Bearer {{ env.TOKEN }}" }
  json: { name: spring, budget: 100 }
  expect: { status: 201 }
  capture: { id: $.id, where: "header:Location" }
- { name: read back, path: "/campaigns/{{ id }}", headers: { Authorization: "Bearer {{ env.TOKEN }}" }, expect: { json: { $.name: spring } } }
- { name: echo, path: /echo, headers: { X-Session: "{{ session }}" }, expect: { status: 204 } }
`),
    settings({ secretVariables: new Set(['session']) }),
    { ...ports(), env: (name) => (name === 'TOKEN' ? 'campaigns-token' : undefined) },
    variables,
  );
  assert.deepEqual(
    results.map((r) => [r.name, r.outcome, r.status]),
    [
      ['login', 'passed', 200],
      ['create', 'passed', 201],
      ['read back', 'passed', 200],
      ['echo', 'failed', 200],
    ],
  );
  assert.deepEqual(results[1]?.captured, ['id', 'where']);
  assert.equal(variables.where, `/campaigns/${variables.id}`);
  assert.match(results[2]?.url ?? '', new RegExp(`/campaigns/${variables.id}$`));
  const echo = results[3];
  assert.equal(
    describeFailure(echo ?? skipped((await checksOf('- path: /'))[0]!, 'x')),
    'status: expected 204, got 200',
  );
  assert.match(echo?.excerpt ?? '', /"x-session":"\*\*\*"/);
  assert.doesNotMatch(JSON.stringify(results), /session-\d+-7f3c9a1e/);
});

test('retries until a check passes; fail-fast skips the rest; an unknown placeholder fails without a request', async () => {
  const before = service.hits.get('GET /flaky') ?? 0;
  const [flaky] = await runChecks(await checksOf('- path: /flaky?fails=2\n'), settings({ retries: 3 }), ports());
  assert.deepEqual([flaky?.outcome, flaky?.attempts], ['passed', 3]);
  assert.equal((service.hits.get('GET /flaky') ?? 0) - before, 3);
  const stopped = await runChecks(
    await checksOf('- path: /status/500\n- path: /healthz\n- path: /echo\n'),
    settings({ failFast: true }),
    ports(),
  );
  assert.deepEqual(
    stopped.map((r) => [r.outcome, r.error]),
    [
      ['failed', undefined],
      ['skipped', 'skipped after an earlier failure (fail-fast)'],
      ['skipped', 'skipped after an earlier failure (fail-fast)'],
    ],
  );
  assert.match(stopped[0]?.excerpt ?? '', /^status 500$/);
  const [template] = await runChecks(await checksOf('- path: "/campaigns/{{ nothing }}"\n'), settings(), ports());
  assert.equal(template?.outcome, 'failed');
  assert.equal(template?.attempts, 0);
  assert.match(template?.error ?? '', /unknown placeholder/);
});

test('a transport error is the failure; a timeout says so', async () => {
  const [slow] = await runChecks(await checksOf('- path: /slow?ms=2000\n'), settings({ timeoutMs: 100 }), ports());
  assert.equal(slow?.outcome, 'failed');
  assert.equal(slow?.status, undefined);
  assert.match(describeFailure(slow ?? skipped((await checksOf('- path: /'))[0]!, 'x')), /timed out|timeout/i);
  const closed = await startFakeService();
  const url = closed.url;
  await closed.close();
  const [refused] = await runChecks(await checksOf('- path: /healthz\n'), settings({ baseUrl: new URL(url) }), ports());
  assert.match(refused?.error ?? '', /refused/i);
});

test('skipped and templateLookup: names masked, env.* read through the port only', async () => {
  const [check] = await checksOf('- { name: "by key", path: "/x?api_key=abc123" }\n');
  assert.ok(check);
  const s = skipped(check, 'not ready');
  assert.deepEqual([s.outcome, s.attempts, s.error], ['skipped', 0, 'not ready']);
  assert.doesNotMatch(s.url, /abc123/);
  const lookup = templateLookup({ id: '7' }, (name) => (name === 'HOME' ? '/root' : undefined));
  assert.deepEqual(
    [lookup('id'), lookup('env.HOME'), lookup('env.PATH'), lookup('HOME')],
    ['7', '/root', undefined, undefined],
  );
  assert.equal(templateLookup({}, undefined)('env.HOME'), undefined);
});

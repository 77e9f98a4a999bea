import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { systemClock } from '@adci/common';
import { parseArtilleryScenario, parseCsvLine, type ArtilleryFiles } from './artillery.ts';
import { arrivalSchedule } from './schedule.ts';
import { runLoad } from './load.ts';
import { createHttpClient } from './http.ts';
import { smokeSettings } from './settings.ts';

const noFiles: ArtilleryFiles = { readPayload: () => assert.fail('no payload expected') };
const parse = (yaml: string, files = noFiles) => parseArtilleryScenario(yaml, 'artillery load.yml', files);

const FULL = `config:
  target: "http://127.0.0.1:8000"
  phases:
    - duration: 10
      arrivalRate: 0
      rampTo: 10
      name: warm up
    - pause: 5s
    - duration: 2
      arrivalCount: 7
    - duration: 1min
      arrivalRate: 3
  variables:
    campaign: [c1, c2]
  payload:
    path: users.csv
    fields: [user, region]
    skipHeader: true
    order: sequence
  plugins:
    expect: {}
    ensure: {}
  ensure:
    p95: 200
    p99: 500
    maxErrorRate: 1
scenarios:
  - name: bid
    weight: 3
    flow:
      - post:
          url: "/bid/{{ campaign }}"
          headers:
            authorization: "Bearer {{ $env.TOKEN }}"
          json: { user: "{{ user }}", region: "{{ region }}" }
          capture:
            - json: "$.bid_id"
              as: bidId
          expect:
            - statusCode: [200, 201]
            - contentType: json
            - hasProperty: bid_id
      - think: 0.5
      - get:
          url: "/bids/{{ bidId }}"
  - flow:
      - delete:
          url: /cache
`;

test('an Artillery scenario becomes phases, flows, per-user data and thresholds', () => {
  const { target, load } = parse(FULL, {
    readPayload: (p) => (assert.equal(p, 'users.csv'), 'user,region\nu1,eu\n"u,2",us\n'),
  });
  assert.equal(target, 'http://127.0.0.1:8000');
  assert.deepEqual(load.phases, [
    { name: 'warm up', durationMs: 10_000, fromRate: 0, toRate: 10 },
    { durationMs: 5000, fromRate: 0, toRate: 0 },
    { durationMs: 2000, fromRate: 3.5, toRate: 3.5 },
    { durationMs: 60_000, fromRate: 3, toRate: 3 },
  ]);
  assert.equal(load.durationMs, 77_000);
  assert.deepEqual(
    load.thresholds.map((t) => t.text),
    ['p(95)<200ms', 'p(99)<500ms', 'error_rate<=0.01'],
  );
  assert.deepEqual(load.data, {
    variables: { campaign: ['c1', 'c2'] },
    rows: [
      { user: 'u1', region: 'eu' },
      { user: 'u,2', region: 'us' },
    ],
    order: 'sequence',
  });
  const [bid, second] = load.flows ?? [];
  assert.equal(bid?.name, 'bid');
  assert.equal(bid?.weight, 3);
  assert.equal(second?.name, 'scenario 2');
  assert.deepEqual(bid?.steps[0], {
    kind: 'request',
    request: {
      method: 'POST',
      path: '/bid/{{ campaign }}',
      headers: { authorization: 'Bearer {{ env.TOKEN }}' },
      json: { user: '{{ user }}', region: '{{ region }}' },
      status: { codes: [200, 201], classes: [], text: '200 or 201' },
    },
    capture: { bidId: '$.bid_id' },
    expect: { contentType: 'json', hasProperty: ['bid_id'] },
  });
  assert.deepEqual(bid?.steps[1], { kind: 'think', ms: 500 });
  // 50 ramping + 0 paused + 7 counted + 180 constant arrivals.
  assert.equal(arrivalSchedule(load).planned, 237);
});

test('the arrival schedule ramps linearly, pauses, and spreads a count evenly', () => {
  const { load } = parse(`config:
  phases:
    - { duration: 10, arrivalRate: 0, rampTo: 10 }
    - pause: 5
    - { duration: 2, arrivalCount: 4 }
scenarios: [ { flow: [ { get: { url: / } } ] } ]
`);
  const schedule = arrivalSchedule(load);
  assert.equal(schedule.planned, 54);
  const times = Array.from({ length: schedule.planned }, (_, i) => schedule.at(i));
  assert.ok(times.every((t, i) => i === 0 || t > (times[i - 1] as number)));
  // Half the ramp's arrivals come in its last 30 %: rate 0 -> 10/s, arrivals(t) = t^2/2.
  assert.ok(Math.abs((times[25] as number) - Math.sqrt(2 * 25) * 1000) < 1);
  assert.ok((times[49] as number) < 10_000);
  assert.deepEqual(times.slice(50), [15_000, 15_500, 16_000, 16_500]);
});

for (const [what, yaml, expected] of [
  [
    'a processor (JavaScript)',
    'config:\n  processor: ./x.js\n  phases: [ { duration: 1, arrivalRate: 1 } ]\nscenarios: []\n',
    /artillery load\.yml': line 2: config\.processor: 'processor' is not supported in config/,
  ],
  [
    'a loop step',
    'config:\n  phases: [ { duration: 1, arrivalRate: 1 } ]\nscenarios:\n  - flow:\n      - loop:\n          - get: { url: / }\n',
    /line 5: scenarios\[0\]\.flow\[0\]\.loop: 'loop' is not supported in a flow step/,
  ],
  [
    'a regexp capture',
    'config:\n  phases: [ { duration: 1, arrivalRate: 1 } ]\nscenarios:\n  - flow:\n      - get:\n          url: /\n          capture:\n            regexp: "id=(\\\\d+)"\n            as: id\n',
    /line 8: scenarios\[0\]\.flow\[0\]\.get\.capture\.regexp: 'regexp' is not supported in a capture/,
  ],
  [
    'an equals expectation',
    'config:\n  plugins: { expect: {} }\n  phases: [ { duration: 1, arrivalRate: 1 } ]\nscenarios:\n  - flow:\n      - get:\n          url: /\n          expect:\n            - equals: [1, 1]\n',
    /line 9: scenarios\[0\]\.flow\[0\]\.get\.expect\[0\]\.equals: 'equals' is not supported/,
  ],
  [
    'a template function',
    'config:\n  phases: [ { duration: 1, arrivalRate: 1 } ]\nscenarios:\n  - flow:\n      - get:\n          url: "/x/{{ $randomNumber(1, 9) }}"\n',
    /line 6: scenarios\[0\]\.flow\[0\]\.get\.url: '\{\{ \$randomNumber\(1, 9\) \}\}' is not supported/,
  ],
  [
    'a variable defined nowhere',
    'config:\n  phases: [ { duration: 1, arrivalRate: 1 } ]\nscenarios:\n  - flow:\n      - get:\n          url: "/x/{{ id }}"\n      - get:\n          url: /\n          capture: { json: $.id, as: id }\n',
    /line 6: .*'\{\{ id \}\}' names no variable, payload field or earlier capture/,
  ],
  [
    'an HTTP option',
    'config:\n  phases: [ { duration: 1, arrivalRate: 1 } ]\n  http:\n    timeout: 5\nscenarios: []\n',
    /line 3: config\.http: 'http' is not supported/,
  ],
  [
    'expectations without the plugin',
    'config:\n  phases: [ { duration: 1, arrivalRate: 1 } ]\nscenarios:\n  - flow:\n      - get: { url: /, expect: [ { statusCode: 200 } ] }\n',
    /line 1: config: the scenarios use 'expect' but config\.plugins\.expect is not enabled/,
  ],
  [
    'an ensure condition',
    'config:\n  phases: [ { duration: 1, arrivalRate: 1 } ]\n  ensure:\n    thresholds:\n      - http.response_time.p99: 100\nscenarios: []\n',
    /line 4: config\.ensure\.thresholds: 'thresholds' is not supported in config\.ensure/,
  ],
  [
    'maxVusers',
    'config:\n  phases:\n    - duration: 1\n      arrivalRate: 1\n      maxVusers: 5\nscenarios: []\n',
    /line 5: config\.phases\[0\]\.maxVusers: 'maxVusers' is not supported in a phase/,
  ],
] as const) {
  test(`${what} is refused, naming the file, line and key`, () => {
    assert.throws(() => parse(yaml), expected);
  });
}

test('CSV lines: quotes, doubled quotes and another delimiter', () => {
  assert.deepEqual(parseCsvLine('a, "b, c" ,"say ""hi"""'), ['a', 'b, c', 'say "hi"']);
  assert.deepEqual(parseCsvLine('a;b', ';'), ['a', 'b']);
});

/** A loopback service: POST /login answers a token, GET /items/<token> answers JSON, /text answers text. */
async function service() {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      if (req.url === '/login') {
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `t-${body.length}` }));
      } else if (req.url?.startsWith('/items/')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[{"id":1}]}');
      } else res.writeHead(200, { 'content-type': 'text/plain' }).end('plain');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

test('virtual users run their flow against a real server: captures carry over, expectations are judged', async () => {
  const svc = await service();
  const { load } = parse(`config:
  phases: [ { duration: 1, arrivalCount: 10 } ]
  variables: { who: [ann] }
  plugins: { expect: {} }
scenarios:
  - flow:
      - post: { url: /login, json: { user: "{{ who }}" }, capture: { json: $.token, as: token }, expect: [ { statusCode: 201 } ] }
      - think: 50ms
      - get:
          url: "/items/{{ token }}"
          expect: [ { contentType: json }, { hasProperty: "items[0].id" } ]
      - get:
          url: /text
          expect: [ { contentType: json } ]
      - post: { url: /login, capture: { json: $.missing, as: nothing } }
      - get: { url: /never }
`);
  const client = createHttpClient();
  try {
    const result = await runLoad(
      load,
      { baseUrl: new URL(svc.url), headers: {}, timeoutMs: 2000, lookup: () => undefined },
      { client, clock: systemClock },
    );
    // 10 users x 4 requests: the failed capture ends each flow before /never.
    assert.equal(result.sent, 40);
    assert.equal(result.completed, 40);
    assert.deepEqual(result.errorKinds, { 'failed-expectation': 10, 'failed-capture': 10 });
    assert.equal(result.errors, 20);
    assert.deepEqual(result.statusCounts, { 200: 20, 201: 20 });
    const logins = svc.seen.filter((s) => s.startsWith('POST /login {'));
    assert.equal(logins.length, 10);
    assert.ok(logins.every((s) => s === 'POST /login {"user":"ann"}'));
    assert.equal(svc.seen.filter((s) => s === 'GET /items/t-14 ').length, 10);
    assert.equal(svc.seen.filter((s) => s.startsWith('GET /never')).length, 0);
    assert.equal(result.passed, false);
  } finally {
    await client.close();
    await svc.close();
  }
});

test('smokeSettings takes the target from the scenario and refuses a second load definition', async () => {
  const scenario =
    'config:\n  target: http://127.0.0.1:9\n  phases: [ { duration: 1, arrivalRate: 2 } ]\nscenarios: [ { flow: [ { get: { url: / } } ] } ]\n';
  const base = {
    baseUrl: '',
    checks: '',
    checksFile: '',
    readChecksFile: () => '',
    waitFor: '',
    headers: {},
    load: {},
    artillery: 'perf/load.yml',
    readArtilleryFile: (path: string) => (assert.equal(path, 'perf/load.yml'), scenario),
  };
  const settings = await smokeSettings(base);
  assert.equal(settings.baseUrl, 'http://127.0.0.1:9/');
  assert.equal(settings.load?.flows?.length, 1);
  assert.equal((await smokeSettings({ ...base, baseUrl: 'http://127.0.0.1:7' })).baseUrl, 'http://127.0.0.1:7/');
  await assert.rejects(async () => smokeSettings({ ...base, load: { rate: '5/s' } }), /Input 'artillery': .*not both/);
  await assert.rejects(
    async () => smokeSettings({ ...base, shard: '1/2' }),
    /Input 'shard': shards of an Artillery scenario/,
  );
  await assert.rejects(
    async () => smokeSettings({ ...base, checks: 'load: { rate: 1/s, duration: 1s, path: / }' }),
    /Input 'artillery': the checks also define a load phase/,
  );
});

test("smoke-test's README example is the example service's bidding scenario, and both translate", () => {
  const repo = join(import.meta.dirname, '..', '..', '..');
  const readme = readFileSync(join(repo, 'smoke-test', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Artillery scenarios'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'a yaml example in the Artillery section');
  const file = readFileSync(join(repo, 'examples/ad-platform/tests/performance/bidding-load-test.yml'), 'utf8');
  assert.deepEqual(parse(block), parse(file));
  const campaign = parse(
    readFileSync(join(repo, 'examples/ad-platform/tests/performance/campaign-api-load-test.yml'), 'utf8'),
  );
  assert.deepEqual(
    campaign.load.flows?.map((f) => [f.name, f.weight, f.steps.length]),
    [
      ['campaign lifecycle', 1, 5],
      ['browse', 3, 2],
    ],
  );
});

test("a virtual user's first request is timed from its scheduled arrival, so a stalled generator shows", async () => {
  const svc = await service();
  const { load } = parse(`config:
  phases: [ { pause: 1 }, { duration: 1, arrivalRate: 10 } ]
scenarios: [ { flow: [ { get: { url: /text } }, { get: { url: /text } } ] } ]
`);
  const client = createHttpClient();
  try {
    // Nothing is in flight before the first arrival at 1 s; then the event loop stalls (a GC
    // pause, a noisy neighbour) through the arrivals due at 1.0, 1.1, 1.2 and 1.3 s.
    setTimeout(() => {
      const until = Date.now() + 400;
      while (Date.now() < until) {
        // busy
      }
    }, 950);
    const result = await runLoad(
      load,
      { baseUrl: new URL(svc.url), headers: {}, timeoutMs: 2000, lookup: () => undefined },
      { client, clock: systemClock },
    );
    assert.equal(result.sent, 20);
    assert.equal(result.errors, 0);
    // The arrival due at 1.0 s went out at about 1.35 s: its first request counts the wait.
    assert.ok(result.latency.max >= 250, `max ${result.latency.max}ms`);
  } finally {
    await client.close();
    await svc.close();
  }
});

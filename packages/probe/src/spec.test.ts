import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeLoadOverrides, parseChecksDocument, parseRate } from './spec.ts';

const ISSUE_EXAMPLE = `checks:
  - name: create campaign
    method: POST
    path: /campaigns
    headers: { Authorization: "Bearer {{ env.API_TOKEN }}" }
    json: { name: smoke, budget: 100 }
    expect: { status: 201, json: { $.name: smoke }, max-latency: 500ms }
    capture: { campaign_id: $.id }
  - name: read it back
    path: /campaigns/{{ campaign_id }}
    expect: { status: 200, body-contains: smoke }
load:
  rate: 200/s          # or connections: 50 for the closed model
  duration: 30s
  max-in-flight: 500
  path: /campaigns     # or requests: [ ... ] with the same fields as a check
  thresholds:
    - p(95)<300ms
    - p(99)<1s
    - error_rate<0.01
  abort-on-fail: true
`;

test('the checks file of the issue parses into typed specs', async () => {
  const doc = await parseChecksDocument(ISSUE_EXAMPLE, 'checks-file');
  assert.equal(doc.checks.length, 2);
  const [create, read] = doc.checks;
  assert.equal(create?.method, 'POST');
  assert.deepEqual(create?.json, { name: 'smoke', budget: 100 });
  assert.deepEqual(create?.expect.status, { codes: [201], classes: [], text: '201' });
  assert.deepEqual(create?.expect.json, [{ path: '$.name', matcher: { kind: 'equals', value: 'smoke' } }]);
  assert.equal(create?.expect.maxLatencyMs, 500);
  assert.deepEqual(create?.capture, { campaign_id: '$.id' });
  assert.equal(read?.method, 'GET');
  assert.deepEqual(read?.expect.bodyContains, ['smoke']);
  assert.deepEqual(doc.load?.model, { kind: 'open', ratePerSecond: 200, maxInFlight: 500 });
  assert.equal(doc.load?.durationMs, 30_000);
  assert.equal(doc.load?.abortOnFail, true);
  assert.deepEqual(
    doc.load?.thresholds.map((t) => [t.text, t.operator, t.value]),
    [
      ['p(95)<300ms', '<', 300],
      ['p(99)<1s', '<', 1000],
      ['error_rate<0.01', '<', 0.01],
    ],
  );
  assert.equal(doc.load?.requests[0]?.path, '/campaigns');
});

test('a bare list is a list of checks; status lists, classes, regexes and types parse', async () => {
  const doc = await parseChecksDocument(
    `- path: /a
  expect:
    status: [200, 3xx]
    headers: { Content-Type: "/json/i" }
    json: { /count: { type: integer }, $.x: { exists: false }, $.y: "/^a/" }
`,
    'checks',
  );
  const check = doc.checks[0];
  assert.equal(check?.name, 'GET /a');
  assert.deepEqual(check?.expect.status, { codes: [200], classes: [3], text: '200 or 3xx' });
  assert.equal(check?.expect.headers[0]?.name, 'content-type');
  assert.equal(check?.expect.headers[0]?.matcher.kind, 'regex');
  assert.deepEqual(
    check?.expect.json.map((j) => j.matcher.kind),
    ['type', 'exists', 'regex'],
  );
});

test('errors name the line and the field', async () => {
  const cases: [string, RegExp][] = [
    [
      'checks:\n  - path: /a\n    expect: { status: 20 }\n',
      /line 3: checks\[0\]\.expect\.status: '20' is not a status/,
    ],
    ['checks:\n  - path: a\n', /line 2: checks\[0\]\.path: 'a' must start with '\/'/],
    ['checks:\n  - name: x\n', /line 2: checks\[0\]: needs a 'path'/],
    ['checks:\n  - path: /a\n    method: FETCH\n', /line 3: checks\[0\]\.method: 'FETCH' is not one of/],
    ['checks:\n  - path: /a\n    capture: { id: id }\n', /line 3: checks\[0\]\.capture\.id: 'id' must be a JSONPath/],
    ['checks:\n  - path: /a\n  - path: /a\n', /line 3: checks\[1\]\.name: duplicate check name 'GET \/a'/],
    ['load:\n  duration: 5s\n  path: /\n', /line 1: load: needs 'rate'/],
    ['load:\n  rate: fast\n  duration: 5s\n', /line 2: load\.rate: 'fast' is not a rate/],
    ['load:\n  rate: 5/s\n  connections: 3\n  duration: 5s\n', /line 3: load\.connections: give 'rate'/],
    ['load:\n  rate: 5/s\n  duration: soon\n', /line 3: load\.duration: 'soon' is not a duration/],
    [
      'load:\n  rate: 5/s\n  duration: 1s\n  path: /\n  thresholds: [ "http_req_duration<2" ]\n',
      /unknown metric 'http_req_duration'/,
    ],
    ['load:\n  rate: 5/s\n  duration: 1s\n  path: /\n  thresholds: [ "p95<2s" ]\n', /did you mean p\(95\)\?/],
    ['lode:\n  rate: 5/s\n', /line 1: lode: unknown field 'lode'/],
  ];
  for (const [text, pattern] of cases) {
    await assert.rejects(async () => parseChecksDocument(text, 'checks-file f.yml'), pattern, text);
  }
});

test('rates: per second, per minute, bare numbers', () => {
  assert.equal(parseRate('200/s'), 200);
  assert.equal(parseRate('6000/m'), 100);
  assert.equal(parseRate(50), 50);
  assert.equal(parseRate('0/s'), undefined);
  assert.equal(parseRate('many'), undefined);
});

test('load-* overrides win over the file and switch models', async () => {
  const doc = await parseChecksDocument(ISSUE_EXAMPLE, 'checks-file');
  const merged = mergeLoadOverrides(doc.load, { connections: '8', duration: '5s' });
  assert.deepEqual(merged?.model, { kind: 'closed', connections: 8 });
  assert.equal(merged?.durationMs, 5000);
  assert.equal(merged?.thresholds.length, 3);
  assert.equal(merged?.requests[0]?.path, '/campaigns');
  const fromInputs = mergeLoadOverrides(undefined, { rate: '20/s', duration: '2s', thresholds: ['rps>=18'] });
  assert.deepEqual(fromInputs?.model, { kind: 'open', ratePerSecond: 20, maxInFlight: 100 });
  assert.equal(fromInputs?.requests[0]?.path, '/');
  assert.equal(mergeLoadOverrides(undefined, {}), undefined);
  assert.throws(() => mergeLoadOverrides(undefined, { rate: '5/s' }), /needs a 'duration'/);
});

test('a load phase whose thresholds do not name the error rate gets an implicit error_rate<0.01, once', async () => {
  const latencyOnly = await parseChecksDocument(
    'load: { rate: 5/s, duration: 1s, path: /, thresholds: [ "p(95)<1s" ] }',
    'c',
  );
  assert.deepEqual(
    latencyOnly.load?.thresholds.map((t) => [t.text, t.implicit ?? false]),
    [
      ['p(95)<1s', false],
      ['error_rate<0.01', true],
    ],
  );
  const none = await parseChecksDocument('load: { rate: 5/s, duration: 1s, path: / }', 'c');
  assert.deepEqual(
    none.load?.thresholds.map((t) => t.text),
    ['error_rate<0.01'],
  );
  const named = await parseChecksDocument(
    'load: { rate: 5/s, duration: 1s, path: /, thresholds: [ "error_rate<5%" ] }',
    'c',
  );
  assert.deepEqual(
    named.load?.thresholds.map((t) => [t.text, t.implicit ?? false]),
    [['error_rate<5%', false]],
  );
  // Overrides re-read the block: the implicit threshold is not copied as an explicit one.
  const merged = mergeLoadOverrides(latencyOnly.load, { duration: '2s' });
  assert.deepEqual(
    merged?.thresholds.map((t) => [t.text, t.implicit ?? false]),
    [
      ['p(95)<1s', false],
      ['error_rate<0.01', true],
    ],
  );
  const replaced = mergeLoadOverrides(latencyOnly.load, { thresholds: ['error_rate<0.2'] });
  assert.deepEqual(
    replaced?.thresholds.map((t) => t.text),
    ['error_rate<0.2'],
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capture, judge, prepareJsonPath, readValue } from './expect.ts';
import { parseChecksDocument } from './spec.ts';
import { DEFAULT_STATUS } from './checks.ts';
import { joinUrl } from './request.ts';
import type { HttpResponse } from './http.ts';

// First in the file: the tests after it judge JSONPaths with the library this one loads.
test('the JSONPath library loads only for a JSONPath; a JSONPath read before it loads is a clear error', async () => {
  assert.deepEqual(readValue({ a: [1] }, '/a/0'), { found: true, value: 1 });
  await prepareJsonPath(['/a', 'header: x']);
  assert.throws(() => readValue({ a: 1 }, '$.a'), /JSONPath \$\.a read before prepareJsonPath\(\) loaded the library/);
  await prepareJsonPath(['/a', '$.a']);
  assert.deepEqual(readValue({ a: 1 }, '$.a'), { found: true, value: 1 });
});

const response = (body: unknown, status = 200, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
  truncated: false,
  latencyMs: 12,
});

const expectOf = async (yaml: string) => {
  const check = (await parseChecksDocument(`- path: /\n  expect: ${yaml}\n`, 'checks')).checks[0];
  assert.ok(check);
  return check.expect;
};

test('JSONPath and JSON Pointer read values; several matches give a list', () => {
  const doc = { items: [{ id: 'a' }, { id: 'b' }], 'x/y': 1 };
  assert.deepEqual(readValue(doc, '$.items[0].id'), { found: true, value: 'a' });
  assert.deepEqual(readValue(doc, '$.items[*].id'), { found: true, value: ['a', 'b'] });
  assert.deepEqual(readValue(doc, '/items/1/id'), { found: true, value: 'b' });
  assert.deepEqual(readValue(doc, '/x~1y'), { found: true, value: 1 });
  assert.deepEqual(readValue(doc, '/items/7'), { found: false });
  assert.deepEqual(readValue(doc, '$.nope'), { found: false });
});

test('a passing response has no failures; each mismatch says expected and actual', async () => {
  const body = { id: 'c1', name: 'smoke', budget: 100, tags: ['a'] };
  assert.deepEqual(
    judge(
      response(body, 201),
      await expectOf('{ status: 201, json: { $.name: smoke, /budget: { type: integer }, $.tags: [a] } }'),
      DEFAULT_STATUS,
    ),
    [],
  );
  assert.deepEqual(judge(response(body, 500), await expectOf('{ json: { $.name: other } }'), DEFAULT_STATUS), [
    { assertion: 'status', expected: '2xx', actual: '500' },
    { assertion: 'json $.name', expected: '"other"', actual: '"smoke"' },
  ]);
  assert.deepEqual(judge(response(body), await expectOf('{ max-latency: 10ms }'), DEFAULT_STATUS), [
    { assertion: 'max-latency', expected: '<= 10ms', actual: '12ms' },
  ]);
  assert.deepEqual(judge(response(body), await expectOf('{ headers: { x-missing: yes } }'), DEFAULT_STATUS), [
    { assertion: 'header x-missing', expected: '"yes"', actual: '(missing)' },
  ]);
});

test('captures read JSON values and headers, and fail on objects or missing values', () => {
  const r = response({ id: 7, nested: { a: 1 } }, 201, { location: '/campaigns/7' });
  assert.deepEqual(capture(r, { id: '$.id', where: 'header:Location' }), {
    values: { id: '7', where: '/campaigns/7' },
    failures: [],
  });
  assert.equal(capture(r, { n: '$.nested' }).failures[0]?.assertion, 'capture n');
  assert.equal(capture(response('<html>'), { n: '$.id' }).failures[0]?.actual, 'body is not JSON (application/json)');
});

test('paths join under the base URL path prefix and keep their query', () => {
  assert.equal(
    joinUrl(new URL('http://127.0.0.1:8080/api/'), '/campaigns?x=1').href,
    'http://127.0.0.1:8080/api/campaigns?x=1',
  );
  assert.equal(joinUrl(new URL('http://127.0.0.1:8080'), '/a').href, 'http://127.0.0.1:8080/a');
});

test('a truncated body is reported as truncated, naming the setting, not as not found or unparsable', async () => {
  const cut: HttpResponse = { ...response('{"filler":"xxxx'), truncated: true, truncatedAt: 4 * 1024 * 1024 };
  const failures = judge(cut, await expectOf('{ body-contains: END, json: { $.marker: END } }'), DEFAULT_STATUS, {
    maxBodySetting: 'max-body',
  });
  assert.deepEqual(
    failures.map((f) => `${f.assertion}: ${f.actual}`),
    [
      'body-contains: body truncated at 4 MiB; raise `max-body` (not in the part read)',
      'json $.marker: body truncated at 4 MiB; raise `max-body`',
    ],
  );
  // Found in the part read: passes.
  assert.deepEqual(judge(cut, await expectOf('{ body-contains: filler }'), DEFAULT_STATUS), []);
  // Without a setting to name (blue-green-deploy's checks), the cap alone.
  assert.equal(capture(cut, { id: '$.id' }).failures[0]?.actual, 'body truncated at 4 MiB');
});

// Smoke results as JUnit XML, from real runs against a loopback service: one test case per wait,
// check and load threshold, failures with their reason, text escaped (control characters dropped).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeService, type FakeService } from '../../../test/fakes/service.ts';
import { runSmoke, SMOKE_DEFAULTS, type SmokeSettings } from './engine.ts';
import { toJUnitXml } from './junit.ts';
import { parseChecksDocument } from './spec.ts';

let service: FakeService;
before(async () => {
  service = await startFakeService();
});
after(() => service.close());

async function smoke(yaml: string, extra: Partial<SmokeSettings> = {}) {
  const doc = await parseChecksDocument(yaml, 'checks');
  return runSmoke({
    ...SMOKE_DEFAULTS,
    baseUrl: service.url,
    headers: {},
    checks: doc.checks,
    load: doc.load,
    ...extra,
  });
}

const attr = (xml: string, name: string): string | undefined =>
  new RegExp(`<testsuites [^>]*${name}="([^"]*)"`).exec(xml)?.[1];

test('a failed check carries its reason and the response; later checks are skipped cases', async () => {
  const result = await smoke(
    `
- { name: health, path: /healthz }
- { name: "teapot <&\\"'>", path: /status/500, expect: { status: 418 } }
- { name: skipped later, path: /echo }
`,
    { failFast: true },
  );
  const xml = toJUnitXml(result, 'campaigns');
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="campaigns" '));
  assert.deepEqual([attr(xml, 'tests'), attr(xml, 'failures'), attr(xml, 'skipped')], ['3', '1', '1']);
  assert.match(xml, /<testcase classname="campaigns\.checks" name="health" time="\d+\.\d{3}"><\/testcase>/);
  assert.match(
    xml,
    /<testcase classname="campaigns\.checks" name="teapot &lt;&amp;&quot;'&gt;" time="[\d.]+">\n {6}<failure message="status: expected 418, got 500" type="assertion">status: expected 418, got 500\nresponse: status 500<\/failure>/,
  );
  assert.match(
    xml,
    /name="skipped later" time="0\.000">\n {6}<skipped message="skipped after an earlier failure \(fail-fast\)"\/>/,
  );
  assert.match(xml, /<testsuite name="campaigns" [^>]* timestamp="\d{4}-\d\d-\d\dT/);
});

test('each load threshold is a test case, the implicit error rate marked, a failed one with its actual value', async () => {
  const result = await smoke(`
checks:
  - { name: health, path: /healthz }
load:
  rate: 20/s
  duration: 300ms
  path: /load
  thresholds: [ "p(95)<5000ms", "rps>1000" ]
`);
  assert.ok(result.load, 'the load phase ran');
  const xml = toJUnitXml(result, 'campaigns');
  assert.equal(attr(xml, 'tests'), String((xml.match(/<testcase /g) ?? []).length));
  assert.equal(attr(xml, 'failures'), '1');
  assert.match(xml, /classname="campaigns\.load" name="p\(95\)&lt;5000ms" time="0\.000"><\/testcase>/);
  assert.match(
    xml,
    /classname="campaigns\.load" name="rps&gt;1000" time="0\.000">\n {6}<failure message="rps&gt;1000 failed: actual [\d.]+" type="threshold"\/>/,
  );
  assert.match(xml, /name="error_rate&lt;[\d.]+ \(implicit\)"/, 'the implicit error-rate threshold is listed as such');
});

test('a failed wait is a failing test case; the default suite name is smoke-test', async () => {
  const down = await startFakeService({ unavailableForMs: 60_000 });
  try {
    const doc = await parseChecksDocument('- path: /healthz\n', 'checks');
    const result = await runSmoke({
      ...SMOKE_DEFAULTS,
      baseUrl: down.url,
      headers: {},
      checks: doc.checks,
      waitFor: '/healthz',
      waitTimeoutMs: 1500, // long enough for an answer on a loaded machine (a timeout is another failure)
      waitIntervalMs: 50,
    });
    const xml = toJUnitXml(result);
    assert.match(
      xml,
      /<testcase classname="smoke-test\.wait" name="wait for http:\/\/127\.0\.0\.1:\d+\/healthz" time="[\d.]+">\n {6}<failure message="not ready: status 503" type="wait">http:\/\/127\.0\.0\.1:\d+\/healthz did not answer 2xx within [\d.]+s after \d+ attempts: status 503<\/failure>/,
    );
    assert.equal(attr(xml, 'failures'), '1');
    assert.equal(attr(xml, 'skipped'), '1');
  } finally {
    await down.close();
  }
});

test('characters XML cannot hold are dropped, not written', async () => {
  const result = await smoke('- { name: "bell\\u0007 and nul\\u0000", path: /healthz }\n');
  const xml = toJUnitXml(result);
  assert.match(xml, /name="bell and nul"/);
  assert.ok(![...xml].some((c) => c < ' ' && !'\t\n\r'.includes(c)), 'no control character but tab and newlines');
});

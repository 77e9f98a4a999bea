// `adci smoke` from the sources, against the loopback service (test/fakes/service.ts): checks
// inline and from a file, a load phase with thresholds, the JUnit and JSON report files, shards
// written and merged, exit codes, secrets masked, and flag errors naming the flag before any
// request. The built CLI is tested end to end in test/e2e/smoke-test-cli.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeService, type FakeService } from '../../../../test/fakes/service.ts';
import { adciFromSources, type AdciRun } from '../../../../test/runner/adci-sources.ts';

let service: FakeService;
const scratch = mkdtempSync(join(tmpdir(), 'adci-smoke-cmd-'));
before(async () => {
  service = await startFakeService({ token: 'svc-token-93b1' });
});
after(async () => {
  await service.close();
  rmSync(scratch, { recursive: true, force: true });
});

const adci = (args: string[], env: Record<string, string> = {}): Promise<AdciRun> =>
  adciFromSources(args, { env, timeoutMs: 120_000 });

test('passing checks exit 0; a failing one exits 1 with why; the token from the environment is masked', async () => {
  const file = join(scratch, 'checks.yml');
  writeFileSync(
    file,
    `- { name: health, path: /healthz }
- name: list campaigns
  path: /campaigns
  headers: { Authorization: "Bearer {{ env.API_TOKEN }}" }
`,
  );
  const ok = await adci(['smoke', '--base-url', service.url, '--checks-file', file], { API_TOKEN: 'svc-token-93b1' });
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /health/);
  assert.match(ok.out, /list campaigns/);
  const bad = await adci(
    [
      'smoke',
      '--base-url',
      service.url,
      '--checks',
      '- { name: echo, path: /echo, headers: { X-Token: "{{ env.API_TOKEN }}" }, expect: { status: 204 } }',
    ],
    { API_TOKEN: 'svc-token-93b1' },
  );
  assert.equal(bad.code, 1);
  assert.match(bad.out, /echo/);
  assert.match(bad.out, /expected 204, got 200/);
  assert.doesNotMatch(bad.out + bad.err, /svc-token-93b1/);
});

test('a load phase with thresholds, and the JSON and JUnit report files', async () => {
  const report = join(scratch, 'smoke.json');
  const junit = join(scratch, 'smoke.xml');
  const run = await adci([
    'smoke',
    '--base-url',
    service.url,
    '--checks',
    '- path: /healthz',
    '--load-rate',
    '50/s',
    '--load-duration',
    '1s',
    '--load-path',
    '/load',
    '--load-threshold',
    'p(95)<2000ms',
    '--report-file',
    report,
    '--junit-file',
    junit,
    '--json',
  ]);
  assert.equal(run.code, 0, run.err);
  const result = JSON.parse(run.out) as { adciVersion: string; passed: boolean; load: { sent: number } };
  assert.equal(result.passed, true);
  assert.ok(result.load.sent >= 45 && result.load.sent <= 50, `${result.load.sent} sent`);
  assert.deepEqual(JSON.parse(readFileSync(report, 'utf8')), result);
  assert.match(readFileSync(junit, 'utf8'), /<testcase classname="smoke-test\.load" name="p\(95\)&lt;2000ms"/);
});

test('shards write their results; --merge judges the thresholds on them without a request', async () => {
  const dir = join(scratch, 'shards');
  for (const shard of ['1/2', '2/2']) {
    const run = await adci([
      'smoke',
      '--base-url',
      service.url,
      '--load-rate',
      '40/s',
      '--load-duration',
      '1s',
      '--load-path',
      '/load',
      '--load-threshold',
      'p(95)<2000ms',
      '--shard',
      shard,
      '--shard-dir',
      dir,
    ]);
    assert.equal(run.code, 0, run.err);
  }
  const files = readdirSync(dir).sort();
  assert.ok(files.some((f) => f.includes('1-of-2')) && files.some((f) => f.includes('2-of-2')), files.join(', '));
  const hits = service.hits.get('GET /load') ?? 0;
  const merged = await adci(['smoke', '--merge', dir, '--load-threshold', 'p(95)<2000ms', '--json']);
  assert.equal(merged.code, 0, merged.err);
  const result = JSON.parse(merged.out) as { load: { sent: number }; shards: unknown[] };
  assert.equal(result.shards.length, 2);
  // --load-rate is the whole rate: each of the 2 shards sent half of the 40 arrivals.
  assert.ok(result.load.sent >= 36 && result.load.sent <= 40, `${result.load.sent} sent`);
  assert.equal(service.hits.get('GET /load') ?? 0, hits, 'merging sends nothing');
});

test('flag errors exit 2 naming the flag, and no request is sent', async () => {
  const before = [...service.hits.values()].reduce((a, b) => a + b, 0);
  const cases: [string[], RegExp][] = [
    [['--checks', '- path: /healthz', '--retries', 'two'], /'--retries'.*'two' is not an integer >= 0/],
    [['--checks-file', join(scratch, 'missing.yml')], /'--checks-file'.*cannot read .*missing\.yml': ENOENT/],
    [['--checks', '- { path: /x, expect: { status: 99 } }'], /checks/],
    [['--checks', '- path: /healthz', '--timeout', 'soon'], /'--timeout'/],
    // The load flags are named as a group, with the key: --load-* load.rate.
    [
      ['--load-rate', 'fast', '--load-duration', '1s', '--load-path', '/load'],
      /'--load-\*'.*load\.rate: 'fast' is not a rate/,
    ],
    [['--merge', scratch, '--shard', '1/2'], /'--merge'.*give --merge or --shard, not both/],
  ];
  for (const [flags, message] of cases) {
    const run = await adci(['smoke', '--base-url', service.url, ...flags]);
    assert.equal(run.code, 2, `${flags.join(' ')}: ${run.out}${run.err}`);
    assert.match(run.err, message);
  }
  assert.equal(
    [...service.hits.values()].reduce((a, b) => a + b, 0),
    before,
  );
});

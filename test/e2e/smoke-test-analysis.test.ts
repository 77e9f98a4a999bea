// smoke-test's `analysis` input (and `adci smoke --analysis`), end to end: the built bundle runs a
// load phase against a loopback service while a real Prometheus scrapes the service's own request
// counter every second; the analysis judges the server-side rate, and a failing metric fails the
// step with its numbers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runActionBundle } from '../runner/index.ts';
import { missingMonitoringReason, startMonitoring, type Monitoring } from '../cluster/monitoring.ts';

const skip = process.env.CI ? false : (missingMonitoringReason() ?? false);
const work = mkdtempSync(join(tmpdir(), 'adci-smoke-analysis-'));

describe('smoke-test with an analysis file', { skip, timeout: 180_000 }, () => {
  let service: Server;
  let baseUrl: string;
  let monitoring: Monitoring;
  let served = 0;

  before(async () => {
    service = createServer((req, res) => {
      if (req.url === '/metrics') {
        res.setHeader('content-type', 'text/plain; version=0.0.4');
        res.end(`# TYPE demo_requests_total counter\ndemo_requests_total{app="demo"} ${served}\n`);
        return;
      }
      served++;
      res.end('ok');
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    const port = (service.address() as AddressInfo).port;
    baseUrl = `http://127.0.0.1:${port}`;
    monitoring = await startMonitoring({ staticTargets: [`127.0.0.1:${port}`] });
    writeFileSync(
      join(work, 'checks.yml'),
      'checks:\n  - { name: home, path: /, expect: { status: 200 } }\nload:\n  rate: 40/s\n  duration: 8s\n  path: /\n',
    );
  });

  after(async () => {
    await monitoring?.stop();
    service?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const smoke = (analysis: string, extra: Record<string, string> = {}) => {
    writeFileSync(join(work, 'analysis.yml'), analysis);
    return runActionBundle('smoke-test', {
      with: {
        'base-url': baseUrl,
        'checks-file': 'checks.yml',
        analysis: 'analysis.yml',
        'prometheus-url': monitoring.prometheusUrl,
        ...extra,
      },
      env: { GITHUB_WORKSPACE: work, RUNNER_TEMP: work },
      cwd: work,
      timeoutMs: 120_000,
    });
  };

  test("the load phase is judged by the server's own metrics too", async () => {
    const result = await smoke(
      `metrics:
  - name: server-rate
    query: sum(rate(demo_requests_total{app="{{ app }}"}[3s]))
    success: result > 10
    initial-delay: 4s
    interval: 1s
    count: 3
`,
      { 'analysis-vars': 'app: demo' },
    );
    assert.equal(result.exitCode, 0, `${result.stdout.slice(-2000)}`);
    assert.equal(result.outputs.analysis, 'passed');
    assert.match(result.summary, /## Analysis: analysis \(analysis\.yml\) ✅ passed/);
    assert.match(result.summary, /xychart-beta/);
  });

  test('a metric that misses its condition fails the step, naming it', async () => {
    const result = await smoke(`metrics:
  - name: server-rate
    query: sum(rate(demo_requests_total[3s]))
    success: result < 5
    initial-delay: 4s
    interval: 1s
    count: 3
`);
    assert.equal(result.exitCode, 1);
    assert.equal(result.outputs.analysis, 'failed');
    const errors = result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
    assert.ok(
      errors.some((m) => /analysis failed: metric server-rate failed: 1 of 1 measurements missed `result < 5`/.test(m)),
      errors.join('\n'),
    );
  });

  test('credentials in prometheus-url and prometheus-token are masked and never shown', async () => {
    const password = 'pw-s3cret-analysis-value';
    const token = 'tok-s3cret-analysis-value';
    const url = new URL(monitoring.prometheusUrl);
    url.username = 'reader';
    url.password = password;
    const result = await smoke('metrics:\n  - name: up\n    query: up\n    success: result == 1\n', {
      'prometheus-url': url.href,
      'prometheus-token': token,
    });
    assert.equal(result.exitCode, 0, result.stdout.slice(-2000));
    assert.ok(result.masks.includes(password) && result.masks.includes(token), JSON.stringify(result.masks));
    for (const text of [result.stdout, result.stderr, result.summary]) {
      assert.ok(!text.includes(password) && !text.includes(token), 'a Prometheus credential was shown');
    }
  });

  test('a bad analysis file is an input error with file and line, before any request', async () => {
    const before = served;
    const result = await smoke('metrics:\n  - name: x\n    query: up\n    success: result ~ 1\n');
    assert.equal(result.exitCode, 1);
    const errors = result.annotations.map((a) => a.message).join('\n');
    assert.match(errors, /Input 'analysis': analysis\.yml:4: metrics\[0\]\.success: 'result ~ 1' is not a comparison/);
    assert.equal(served, before);
  });

  const adci = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(repoRoot, 'bin', 'adci.js'), 'smoke', ...args],
        { cwd: work, env: { PATH: process.env.PATH ?? '' }, timeout: 120_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  test('adci smoke --analysis judges the same file alongside the checks; a miss exits 1', async () => {
    writeFileSync(
      join(work, 'cli-analysis.yml'),
      'metrics:\n  - name: server-rate\n    query: sum(rate(demo_requests_total[3s]))\n    success: result < 5\n' +
        '    initial-delay: 4s\n    interval: 1s\n    count: 3\n',
    );
    const missed = await adci([
      '--base-url',
      baseUrl,
      '--checks-file',
      'checks.yml',
      '--analysis',
      'cli-analysis.yml',
      '--prometheus-url',
      monitoring.prometheusUrl,
    ]);
    assert.equal(missed.code, 1, missed.stderr);
    assert.match(missed.stdout, /smoke test passed/);
    assert.match(missed.stdout, /server-rate/);
    assert.match(missed.stdout, /failed/);
    const passed = await adci([
      '--base-url',
      baseUrl,
      '--checks',
      'checks: [{ name: home, path: / }]',
      '--analysis',
      'cli-analysis.yml',
      '--analysis-vars',
      'limit: 1',
      '--prometheus-url',
      monitoring.prometheusUrl,
      '--json',
    ]);
    assert.equal(passed.code, 0, passed.stderr);
    const json = JSON.parse(passed.stdout) as { passed: boolean; analysis?: { passed: boolean } };
    assert.equal(json.passed, true);
    assert.equal(json.analysis?.passed, true);
  });

  test('adci smoke: a bad analysis is an error naming the flag, before any request', async () => {
    const before = served;
    writeFileSync(join(work, 'no-url.yml'), 'metrics:\n  - name: up\n    query: up\n    success: result == 1\n');
    const noUrl = await adci([
      '--base-url',
      baseUrl,
      '--checks',
      'checks: [{ name: home, path: / }]',
      '--analysis',
      'no-url.yml',
    ]);
    assert.equal(noUrl.code, 2, noUrl.stderr);
    assert.match(
      noUrl.stderr,
      /Input '--analysis': --analysis \(no-url\.yml\) names no prometheus: URL; give one there or in --prometheus-url/,
    );
    const stray = await adci([
      '--base-url',
      baseUrl,
      '--checks',
      'checks: [{ name: home, path: / }]',
      '--prometheus-url',
      monitoring.prometheusUrl,
    ]);
    assert.equal(stray.code, 2, stray.stderr);
    assert.match(stray.stderr, /Input '--prometheus-url': is given without an --analysis file to run/);
    assert.equal(served, before);
  });
});

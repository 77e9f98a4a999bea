// Unit tests of engine.ts (runAnalysis) against a real Prometheus (test/cluster/monitoring.ts starts
// one on a loopback port, scraping a loopback exporter whose values the test sets): judging scalar
// and vector results, failure limits, inconclusive policies, Prometheus's own errors, retries.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  freePort,
  missingMonitoringReason,
  startMonitoring,
  type Monitoring,
} from '../../../test/cluster/monitoring.ts';
import {
  parseAnalysisDocument,
  runAnalysis,
  renderAnalysisMarkdown,
  renderAnalysisText,
  PrometheusClient,
} from './index.ts';

const parse = (text: string) => parseAnalysisDocument(text, 'post-promotion-analysis', 'deploy/analysis.yml');

// ── against a real Prometheus, scraping a loopback exporter whose values the test sets ─────────

const skip = process.env.CI ? false : (missingMonitoringReason() ?? false);
let monitoring: Monitoring | undefined;
let exporter: Server;
const values: Record<string, number> = { good: 0.001, bad: 0.2 };

before(async () => {
  if (skip) return;
  exporter = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    const lines = ['# TYPE demo_value gauge'];
    for (const [series, v] of Object.entries(values)) lines.push(`demo_value{series="${series}"} ${v}`);
    res.end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const port = (exporter.address() as AddressInfo).port;
  monitoring = await startMonitoring({ staticTargets: [`127.0.0.1:${port}`] });
  // Wait for the first scrape.
  const client = new PrometheusClient({ url: monitoring.prometheusUrl });
  for (let i = 0; i < 100; i++) {
    const r = await client.query('demo_value');
    if (r.samples.length === 2) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await client.close();
});

after(async () => {
  await monitoring?.stop();
  exporter?.close();
});

function doc(metrics: string, prometheus?: string) {
  return parse(`${prometheus ? `prometheus: ${prometheus}\n` : ''}metrics:\n${metrics}`);
}

test('scalar and vector results are judged against the condition', { skip }, async () => {
  const m = monitoring as Monitoring;
  const result = await runAnalysis({
    document: doc(`  - name: scalar
    query: scalar(demo_value{series="good"})
    success: result < 0.01
    interval: 200ms
    count: 2
  - name: vector-one
    query: demo_value{series="{{ version }}"}
    success: result < 0.01
  - name: vector-many
    query: demo_value
    success: result < 1
`),
    prometheusUrl: m.prometheusUrl,
    vars: { version: 'good' },
  });
  assert.equal(result.passed, true, result.message);
  assert.deepEqual(
    result.metrics.map((r) => [r.name, r.outcome, r.measurements.length]),
    [
      ['scalar', 'passed', 2],
      ['vector-one', 'passed', 1],
      ['vector-many', 'passed', 1],
    ],
  );
  assert.equal(result.metrics[0]?.measurements[0]?.value, 0.001);
  // The worst of several series is the judged value.
  assert.equal(result.metrics[2]?.measurements[0]?.value, 0.2);
  assert.equal(result.metrics[2]?.measurements[0]?.series.length, 2);
  const markdown = renderAnalysisMarkdown(result);
  assert.match(markdown, /\| 1 \| \d+\.\d s \| 0\.001 \| result &lt; 0\.01 \| passed \|/);
  assert.match(markdown, /```mermaid\nxychart-beta\n {2}title "scalar: result < 0.01"/);
  assert.match(markdown, / {2}line \[0\.01, 0\.01\]/);
  assert.match(renderAnalysisText(result), /scalar +passed/);
});
test('a failing metric fails the analysis once failures pass the limit, with its numbers', { skip }, async () => {
  const m = monitoring as Monitoring;
  const result = await runAnalysis({
    document: doc(`  - name: error-rate
    query: demo_value{series="bad"}
    success: result < 0.01
    interval: 200ms
    count: 5
    failure-limit: 1
  - name: slow-good
    query: demo_value{series="good"}
    success: result < 0.01
    interval: 5s
    count: 10
`),
    prometheusUrl: m.prometheusUrl,
    vars: {},
  });
  assert.equal(result.passed, false);
  assert.equal(result.metrics[0]?.outcome, 'failed');
  // Failed at the second failure, without waiting for all five measurements.
  assert.equal(result.metrics[0]?.measurements.length, 2);
  assert.match(
    result.message ?? '',
    /^metric error-rate failed: 2 of 2 measurements missed `result < 0.01` \(failure-limit 1\); last: 0\.2$/,
  );
  // The other metric stopped at once instead of running 50 s.
  assert.ok(result.durationMs < 4000, `took ${result.durationMs} ms`);
  assert.match(renderAnalysisMarkdown(result), /❌ error-rate: failed/);
});
test('no data is inconclusive: wait gives up after the limit, fail counts it, pass says so', { skip }, async () => {
  const m = monitoring as Monitoring;
  const query = 'demo_value{series="absent"}';
  const wait = await runAnalysis({
    document: doc(
      `  - name: nothing\n    query: ${query}\n    success: result < 1\n    interval: 100ms\n    inconclusive-limit: 3\n`,
    ),
    prometheusUrl: m.prometheusUrl,
    vars: {},
  });
  assert.equal(wait.passed, false);
  assert.equal(wait.metrics[0]?.outcome, 'inconclusive');
  assert.match(
    wait.message ?? '',
    /^metric nothing is inconclusive: the query returned no data 3 times \(inconclusive-limit 3\)/,
  );
  const failing = await runAnalysis({
    document: doc(`  - name: nothing\n    query: ${query}\n    success: result < 1\n    inconclusive: fail\n`),
    prometheusUrl: m.prometheusUrl,
    vars: {},
  });
  assert.equal(failing.passed, false);
  assert.match(failing.message ?? '', /1 with no data, counted as failed/);
  // NaN (0/0: no traffic) is no data too.
  const nan = await runAnalysis({
    document: doc(
      `  - name: ratio\n    query: scalar(demo_value{series="good"}) * 0 / 0\n    success: result < 1\n    inconclusive: fail\n`,
    ),
    prometheusUrl: m.prometheusUrl,
    vars: {},
  });
  assert.equal(nan.passed, false);
  const passing = await runAnalysis({
    document: doc(`  - name: nothing\n    query: ${query}\n    success: result < 1\n    inconclusive: pass\n`),
    prometheusUrl: m.prometheusUrl,
    vars: {},
  });
  assert.equal(passing.passed, true);
  assert.match(passing.metrics[0]?.message ?? '', /1 of 1 measurements had no data and were counted as passed/);
  assert.match(renderAnalysisMarkdown(passing), /no data \(counted as passed\)/);
});
test("bad PromQL fails with the server's own message, not retried", { skip }, async () => {
  const m = monitoring as Monitoring;
  const result = await runAnalysis({
    document: doc(`  - name: typo\n    query: sum(rate(demo_value[1m])\n    success: result < 1\n`),
    prometheusUrl: m.prometheusUrl,
    vars: {},
  });
  assert.equal(result.passed, false);
  assert.equal(result.metrics[0]?.outcome, 'error');
  assert.equal(result.metrics[0]?.errorKind, 'bad-query');
  assert.match(
    result.message ?? '',
    /^metric typo: Prometheus rejected the query: .*parse error: unclosed left parenthesis/,
  );
  const matrix = await runAnalysis({
    document: doc(`  - name: range\n    query: demo_value[1m]\n    success: result < 1\n`),
    prometheusUrl: m.prometheusUrl,
    vars: {},
  });
  assert.match(matrix.message ?? '', /range vector \(matrix\)/);
});
test('an unreachable Prometheus is named after the retries', async () => {
  const port = await freePort();
  const result = await runAnalysis(
    {
      document: doc(`  - name: up\n    query: up\n    success: result == 1\n`, `http://127.0.0.1:${port}`),
      vars: {},
    },
    { retry: { attempts: 3, initialMs: 10 } },
  );
  assert.equal(result.passed, false);
  assert.equal(result.metrics[0]?.errorKind, 'unreachable');
  assert.equal(
    result.message,
    `metric up: Prometheus at http://127.0.0.1:${port} is unreachable (ECONNREFUSED) (after 3 attempts)`,
  );
});
test('5xx answers are retried; credentials in the URL never reach a message', { skip }, async () => {
  const m = monitoring as Monitoring;
  let calls = 0;
  let sawAuth = '';
  // A proxy in front of the real Prometheus that fails the first two requests with 503.
  const proxy = createServer((req, res) => {
    calls++;
    sawAuth = req.headers.authorization ?? '';
    if (calls <= 2) {
      res.statusCode = 503;
      res.end('{"status":"error","errorType":"unavailable","error":"overloaded"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void fetch(`${m.prometheusUrl}${req.url}`, {
        method: req.method,
        headers: { 'content-type': String(req.headers['content-type']) },
        body: Buffer.concat(chunks),
      }).then(async (r) => {
        res.statusCode = r.status;
        res.end(await r.text());
      });
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const port = (proxy.address() as AddressInfo).port;
  try {
    const result = await runAnalysis(
      {
        document: doc(`  - name: good\n    query: demo_value{series="good"}\n    success: result < 0.01\n`),
        prometheusUrl: `http://reader:s3cret-pass@127.0.0.1:${port}`,
        vars: {},
      },
      { retry: { attempts: 4, initialMs: 10 } },
    );
    assert.equal(result.passed, true, result.message);
    assert.equal(calls, 3);
    assert.equal(sawAuth, `Basic ${Buffer.from('reader:s3cret-pass').toString('base64')}`);
    assert.equal(result.prometheus, `http://127.0.0.1:${port}`);
    calls = -100; // always 503 from here on
    const failed = await runAnalysis(
      {
        document: doc(`  - name: good\n    query: demo_value\n    success: result < 1\n`),
        prometheusUrl: `http://reader:s3cret-pass@127.0.0.1:${port}`,
        vars: {},
      },
      { retry: { attempts: 3, initialMs: 10 } },
    );
    assert.equal(failed.metrics[0]?.errorKind, 'server-error');
    assert.equal(
      failed.message,
      `metric good: Prometheus at http://127.0.0.1:${port} answered HTTP 503: overloaded (after 3 attempts)`,
    );
    assert.doesNotMatch(JSON.stringify(failed) + renderAnalysisMarkdown(failed), /s3cret/);
  } finally {
    proxy.close();
  }
});

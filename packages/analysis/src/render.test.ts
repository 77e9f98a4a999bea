// Unit tests of render.ts: an analysis result as Markdown (a table of measurements and a Mermaid
// chart per metric, cells escaped) and as the CLI's text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnalysisResult, Measurement, MetricResult } from './engine.ts';
import { metricChart, renderAnalysisMarkdown, renderAnalysisText } from './render.ts';

const at = (s: number, value: number | undefined, outcome: Measurement['outcome'], extra: Partial<Measurement> = {}) =>
  ({ atMs: s * 1000, time: 1_765_000_000_000 + s * 1000, outcome, value, series: [], ...extra }) satisfies Measurement;

const errors: MetricResult = {
  name: 'error-rate',
  query: 'sum(rate(http_requests_total{code=~"5..",version="v2"}[1m]))',
  success: 'result < 0.01',
  threshold: 0.01,
  outcome: 'failed',
  measurements: [
    at(0, 0.002, 'passed'),
    at(10, 0.2, 'failed', {
      series: [
        { labels: { pod: 'web-green-1' }, value: 0.2 },
        { labels: { pod: 'web|green-2' }, value: 0.001 },
      ],
    }),
  ],
  failures: 1,
  failureLimit: 0,
  count: 5,
  intervalMs: 10_000,
  message: 'result 0.2 is not < 0.01',
};
const latency: MetricResult = {
  name: 'p99',
  query: 'histogram_quantile(0.99, x)',
  success: 'result <= 0.3',
  threshold: 0.3,
  outcome: 'inconclusive',
  measurements: [at(0, undefined, 'inconclusive'), at(5, undefined, 'inconclusive', { countedAs: 'passed' })],
  failures: 0,
  failureLimit: 1,
  count: 2,
  intervalMs: 5000,
};
const result: AnalysisResult = {
  source: 'post-promotion-analysis (deploy/analysis.yml)',
  prometheus: 'http://prometheus:9090',
  passed: false,
  metrics: [errors, latency],
  message: 'metric error-rate failed: result 0.2 is not < 0.01',
  startedAt: 0,
  durationMs: 10_000,
};

test('Markdown: verdict and reason, per metric its condition, query, measurements and series', () => {
  const markdown = renderAnalysisMarkdown(result);
  const lines = markdown.split('\n');
  assert.equal(lines[0], '### Analysis: post-promotion-analysis (deploy/analysis.yml) ❌ failed');
  assert.equal(lines[2], 'Prometheus: http://prometheus:9090  ');
  assert.equal(lines[3], '**Why:** metric error-rate failed: result 0.2 is not &lt; 0.01');
  assert.ok(lines.includes('#### ❌ error-rate: failed'));
  assert.ok(lines.includes('`result < 0.01` · 2 measurements, 1 failed (failure-limit 0) · every 10.0 s'));
  assert.ok(lines.includes('> result 0.2 is not &lt; 0.01'));
  assert.match(markdown, /```promql\nsum\(rate\(http_requests_total\{code=~"5\.\.",version="v2"\}\[1m\]\)\)\n```/);
  assert.ok(lines.includes('| # | At | Result | Threshold | Outcome | Series |'));
  assert.ok(lines.includes('| 1 | 0.0 s | 0.002 | result &lt; 0.01 | passed |  |'));
  assert.ok(
    lines.includes(
      '| 2 | 10.0 s | 0.2 | result &lt; 0.01 | failed | {pod="web-green-1"} 0.2; {pod="web\\|green-2"} 0.001 |',
    ),
  );
  assert.ok(lines.includes('#### ⚠️ p99: inconclusive'));
  assert.ok(lines.includes('| # | At | Result | Threshold | Outcome |'), 'no Series column without several series');
  assert.ok(lines.includes('| 1 | 0.0 s | no data | result &lt;= 0.3 | inconclusive |'));
  assert.ok(lines.includes('| 2 | 5.0 s | no data (counted as passed) | result &lt;= 0.3 | inconclusive |'));
  const [title] = renderAnalysisMarkdown({ ...result, passed: true, message: undefined }, '##').split('\n');
  assert.ok(title?.endsWith('✅ passed'), title);
});

test('metricChart: the values and the threshold as two lines over a y-axis from 0; nothing without data', () => {
  assert.deepEqual(metricChart(errors), [
    '```mermaid',
    'xychart-beta',
    '  title "error-rate: result < 0.01"',
    '  x-axis "seconds" ["0", "10"]',
    '  y-axis "result" 0 --> 0.22',
    '  line [0.002, 0.2]',
    '  line [0.01, 0.01]',
    '```',
  ]);
  assert.deepEqual(metricChart(latency), []);
  const flat = metricChart({ ...errors, success: 'result == "0"', threshold: 0, measurements: [at(0, 0, 'passed')] });
  assert.equal(flat[2], `  title "error-rate: result == '0'"`);
  assert.equal(flat[4], '  y-axis "result" 0 --> 1', 'a flat line still gets a y range');
});

test('text: one line per metric with its measured values', () => {
  assert.equal(
    renderAnalysisText(result),
    [
      'analysis post-promotion-analysis (deploy/analysis.yml): failed (http://prometheus:9090)',
      '  reason: metric error-rate failed: result 0.2 is not < 0.01',
      '  error-rate           failed       result < 0.01  [0.002, 0.2]',
      '  p99                  inconclusive result <= 0.3  [no data, no data (counted as passed)]',
    ].join('\n'),
  );
});

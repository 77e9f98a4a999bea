import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadResult, SmokeResult, TimelinePoint } from './types.ts';
import { chartPoints, renderSmokeMarkdown, renderSmokeText, smokeFailureMessage } from './render.ts';

const point = (second: number, p99: number): TimelinePoint => ({
  second,
  requests: 10,
  errors: 0,
  p50: p99 / 4,
  p95: p99 / 2,
  p99,
  max: p99,
});

const load: LoadResult = {
  model: 'open',
  requestedRate: 100,
  maxInFlight: 250,
  plannedDurationMs: 120_000,
  durationMs: 120_000,
  aborted: false,
  sent: 12_000,
  completed: 12_000,
  dropped: 0,
  errors: 0,
  errorRate: 0,
  rps: 100,
  sentRate: 100,
  statusCounts: { 200: 12_000 },
  errorKinds: {},
  latency: { p50: 2, p90: 3, p95: 4, p99: 2100, max: 2200, min: 1, avg: 30 },
  timeline: Array.from({ length: 120 }, (_, i) => point(i + 1, i === 50 ? 2100 : 5)),
  timelineBucketSeconds: 1,
  thresholds: [{ threshold: 'p(99)<1s', passed: false, actual: 2100, latency: true }],
  passed: false,
};

const result: SmokeResult = {
  passed: false,
  baseUrl: 'http://127.0.0.1:8080/',
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 121_000,
  checks: [
    {
      name: 'pipe | in name',
      outcome: 'failed',
      method: 'GET',
      url: 'http://127.0.0.1:8080/x',
      status: 500,
      latencyMs: 12,
      attempts: 1,
      failures: [{ assertion: 'status', expected: '2xx', actual: '500' }],
      captured: [],
    },
  ],
  load,
  counts: { passed: 0, failed: 2, skipped: 0 },
};

test('a load phase of Artillery scenarios is described by its arrivals and virtual users', () => {
  const flows: LoadResult = { ...load, requestedRate: 86.667, maxInFlight: 250, scenarios: 2, phases: 2, dropped: 3 };
  const markdown = renderSmokeMarkdown({ ...result, load: flows });
  assert.match(
    markdown,
    /### Load phase: open model, 2 scenario\(s\) over 2 phase\(s\), 86\.667 arrivals\/s on average \(max 250 virtual users\) for 2m/,
  );
});

test('long timelines are merged to at most 60 chart points, keeping the worst latency', () => {
  const points = chartPoints(load.timeline);
  assert.equal(points.length, 60);
  assert.equal(Math.max(...points.map((p) => p.p99)), 2100);
  assert.equal(
    points.reduce((n, p) => n + p.requests, 0),
    1200,
  );
});

test('the summary has the checks table, threshold verdicts and a Mermaid chart', () => {
  const markdown = renderSmokeMarkdown(result);
  assert.match(markdown, /\| pipe \\\| in name \| ❌ 500 \| 12ms \| status: expected 2xx, got 500 \|/);
  assert.match(markdown, /\| `p\(99\)<1s` \| ❌ fail \| 2.1s \|/);
  assert.match(markdown, /```mermaid\nxychart-beta\n/);
  assert.match(
    smokeFailureMessage(result),
    /1 of 1 checks failed \(pipe \| in name\); thresholds breached: p\(99\)<1s \(actual 2\.1s\)/,
  );
});

test('the terminal text: one line per check and threshold, then the verdict', () => {
  const text = renderSmokeText(result);
  assert.match(text, /^FAILED {3}pipe \| in name 500 12ms: status: expected 2xx, got 500$/m);
  assert.match(text, /^FAILED {3}p\(99\)<1s \(actual 2100ms\)$/m);
  assert.match(text, /smoke test FAILED: 0 passed, 2 failed\n$/);
});

test('text from outside cannot break the Markdown: < as &lt; in cells, code spans left readable', () => {
  const markdown = renderSmokeMarkdown({
    ...result,
    checks: [{ ...result.checks[0]!, name: '<img src=x>' }],
  });
  assert.match(markdown, /\| &lt;img src=x> \| ❌ 500 \|/);
  assert.match(markdown, /\| `p\(99\)<1s` \|/);
});

test('the open model on its own connections says how many it opened ahead and how many requests waited for one', () => {
  const own: LoadResult = { ...load, preopenedConnections: 100, openedConnections: 108, waitedForConnection: 37 };
  const markdown = renderSmokeMarkdown({ ...result, load: own });
  assert.match(
    markdown,
    /Connections: 100 opened before the schedule started, 108 at the end; 37 requests \(0\.31%\) waited for a connection \(their latency counts from their scheduled time, the wait included\)\./,
  );
  // On undici (TLS, flows) the counts are unknown and the line is left out.
  assert.doesNotMatch(renderSmokeMarkdown(result), /Connections:/);
});

// quality-gate on real Artillery JSON reports (test/fixtures/reports/artillery/, made by Artillery
// 2.0.34 against a loopback server): the bundle passes on the clean run and fails on the one with
// 500s and refused connections, naming the figures in its outputs and summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot, runActionBundle } from '../runner/index.ts';

const fixtures = join(repoRoot, 'test', 'fixtures', 'reports', 'artillery');
const thresholds = 'load.requests: 100\nload.error-rate: "<= 1"\nload.errors: 0\nload.p95: "< 150"';

test('the gate passes on a real Artillery report within the thresholds', async () => {
  const result = await runActionBundle('quality-gate', {
    with: { reports: 'artillery-pass.json', thresholds, comment: 'false' },
    cwd: fixtures,
    eventName: 'push',
    event: {},
    timeoutMs: 30_000,
  });
  assert.equal(result.exitCode, 0, result.stdout);
  assert.equal(result.outputs.passed, 'true');
  assert.match(result.summary, /### Load \(Artillery\)/);
  assert.match(result.summary, /\| ✅ \| `load.p95` \| &lt; 150 \| 47\.9ms \|/);
});

test('the gate fails on a real Artillery report with refused connections and 500s, naming them', async () => {
  const result = await runActionBundle('quality-gate', {
    with: { reports: 'artillery-fail.json', thresholds, comment: 'false' },
    cwd: fixtures,
    eventName: 'push',
    event: {},
    timeoutMs: 30_000,
  });
  assert.equal(result.exitCode, 1);
  assert.equal(result.outputs.passed, 'false');
  assert.match(result.summary, /\| ❌ \| `load.errors` \| &lt;= 0 \| 18 \| ECONNREFUSED 18 \|/);
  assert.match(result.summary, /\| ❌ \| `load.error-rate` \| &lt;= 1% \| 38\.00% \|/);
  assert.ok(result.annotations.some((a) => a.level === 'error' && /Quality gate failed/.test(a.message)));
});

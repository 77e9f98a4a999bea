// The gate's plain-text rendering (`adci gate`) from real tool reports: the verdict table aligned,
// then tests, coverage, load, findings and the baseline, each bounded by maxItems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readBaseline, runGate, type GateReport } from '../gate.ts';
import { parseReportPatterns } from '../patterns.ts';
import { parseThresholds } from '../thresholds.ts';
import { renderTerminal } from './terminal.ts';

const root = join(import.meta.dirname, '../../../../test/fixtures/reports');

async function gate(reports: string[], thresholds: string, baseline?: GateReport): Promise<GateReport> {
  return await runGate({
    reports: parseReportPatterns(reports),
    root,
    thresholds: await parseThresholds(thresholds),
    minChangedLines: 0,
    ignoreMalformed: false,
    ...(baseline ? { baseline: readBaseline(JSON.parse(JSON.stringify(baseline)), 'baseline') } : {}),
  });
}

test('a failing Python run: verdict table in aligned columns, failures with their place, coverage, findings', async () => {
  const text = renderTerminal(
    await gate(
      ['real/pytest-junit.xml', 'real/coverage.xml', 'real/bandit.json', 'real/flake8.txt'],
      'tests.failed: 0\ncoverage.line: 50',
    ),
  );
  const lines = text.split('\n');
  assert.equal(lines[0], 'Quality gate: FAILED');
  assert.deepEqual(lines.slice(2, 6), [
    '      check          wanted          actual  note',
    'FAIL  tests.failed   <= 0            2',
    'ok    coverage.line  >= 50%          55.17%',
    'ok    tests.min      >= 1 (default)  7',
  ]);
  assert.match(text, /\nReports: real\/pytest-junit\.xml \(junit\), real\/coverage\.xml \(cobertura\), /);
  assert.match(text, /\nTests: 7 total, 4 passed, 1 failed, 1 errored, 1 skipped, 0 flaky, 206ms\n/);
  assert.match(text, /\n {2}FAIL {2}tests\.test_pricing::test_total_is_wrong \(tests\/test_pricing\.py:21\): /);
  assert.match(text, /\n {2}ERROR tests\.test_pricing::test_with_broken_fixture \(tests\/test_pricing\.py:41\): /);
  assert.match(text, /\nCoverage: lines 55\.17% \(\d+\/\d+\), branches /);
  assert.match(text, /\nFindings:\n {2}tool +error +warning +note +critical +high +medium +low\n {2}bandit /);
  assert.match(text, /\n {2}all +\d+/, 'a total row when several tools reported');
  assert.match(text, /\n {2}error +shop\/pricing\.py:23 bandit\/B324 hashlib: Use of weak MD5 hash/);
  assert.ok(text.endsWith('\n'));
});

test('maxItems bounds the failures and findings listed and counts the rest', async () => {
  const report = await gate(['real/*', 'handmade/*.json'], 'tests.failed: 0');
  const text = renderTerminal(report, { maxItems: 2 });
  const findings = text.split('\nFindings:\n')[1] ?? '';
  const listed = findings.split('\n').filter((l) => /^ {2}(error|warning|note) /.test(l));
  assert.equal(listed.length, 2);
  assert.match(text, new RegExp(`…and ${report.findings.list.length + report.findings.dropped - 2} more`));
});

test('no thresholds, a load run and a baseline each have their line', async () => {
  const report = await gate(['artillery/artillery-pass.json'], 'load.p95: 1000');
  report.conditions = [];
  const text = renderTerminal(report);
  assert.match(text, /\nNo thresholds configured: nothing is gated\.\n/);
  assert.match(text, /\nLoad: \d+ requests, \d+ responses, [\d.]+\/s, p50 [\d.]+ms/);
  const before = await gate(['real/coverage.lcov', 'real/flake8.txt', 'real/go-junit-report.xml'], 'tests.failed: 0');
  const after = await gate(
    ['real/c8-lcov.info', 'real/flake8-junit.xml', 'real/mypy.txt', 'real/pytest-junit.xml'],
    '',
    before,
  );
  assert.match(
    renderTerminal(after),
    /\nSince baseline: line coverage [+-]?[\d.]+ pts, 3 new \/ 0 fixed findings, 2 newly failing, 1 newly skipped tests\n$/,
  );
});

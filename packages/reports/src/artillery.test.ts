// Artillery JSON reports in the gate. The fixtures are real: Artillery 2.0.34 run against the
// loopback server of test/fixtures/reports/artillery/ (its regenerate.sh has the commands).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGate, type GateReport } from './gate.ts';
import { parseThresholds } from './thresholds.ts';
import { parseReportPatterns } from './patterns.ts';
import { detectFormat } from './detect.ts';
import { renderMarkdown } from './render/markdown.ts';
import { renderTerminal } from './render/terminal.ts';

const root = join(import.meta.dirname, '../../../test/fixtures/reports');

function gate(reports: string[], thresholds: string, at = root): GateReport {
  return runGate({
    reports: parseReportPatterns(reports),
    root: at,
    thresholds: parseThresholds(thresholds),
    minChangedLines: 0,
    ignoreMalformed: false,
  });
}

test('an Artillery report is recognised by its content', () => {
  for (const name of ['artillery-pass.json', 'artillery-fail.json']) {
    assert.deepEqual(detectFormat(join(root, 'artillery', name)), { format: 'artillery', kind: 'json' });
  }
});

test('the gate passes on a real passing Artillery run: requests, rate, percentiles, errors', () => {
  const r = gate(
    ['artillery/artillery-pass.json'],
    'load.requests: 100\nload.error-rate: 0\nload.errors: 0\nload.p95: "< 100"\nload.rps: 15\nload.failed-expectations: 0',
  );
  assert.equal(r.passed, true, JSON.stringify(r.conditions));
  assert.deepEqual(
    r.conditions.map((c) => [c.key, c.wanted, c.actual]),
    [
      ['load.requests', '>= 100', '100'],
      ['load.error-rate', '<= 0%', '0.00%'],
      ['load.errors', '<= 0', '0'],
      ['load.p95', '< 100', '47.9ms'],
      ['load.rps', '>= 15', '21/s'],
      ['load.failed-expectations', '<= 0', '0'],
    ],
  );
  assert.deepEqual(r.load?.codes, { 200: 100 });
  assert.deepEqual(r.load?.latency, { p50: 2, p95: 47.9, p99: 214.9, max: 227, mean: 13.4 });
  assert.equal(r.reports[0]?.format, 'artillery');
});

test('the gate fails on a real failing Artillery run, naming errors by type and codes', () => {
  const r = gate(
    ['artillery/artillery-fail.json'],
    'load.errors: 0\nload.error-rate: "<= 1"\nload.5xx: 0\nload.4xx: 0\nload.failed-expectations: 0\nload.failed-users: 0',
  );
  assert.equal(r.passed, false);
  const byKey = Object.fromEntries(r.conditions.map((c) => [c.key, c]));
  assert.equal(byKey['load.errors']?.actual, '18');
  assert.equal(byKey['load.errors']?.note, 'ECONNREFUSED 18');
  // 18 requests without a response and 20 answered 500, of 100.
  assert.equal(byKey['load.error-rate']?.actual, '38.00%');
  assert.equal(byKey['load.5xx']?.actual, '20');
  assert.equal(byKey['load.4xx']?.passed, true);
  assert.equal(byKey['load.failed-expectations']?.actual, '20');
  assert.equal(byKey['load.failed-users']?.actual, '18');
  assert.match(
    renderMarkdown(r),
    /### Load \(Artillery\)[\s\S]*\| 100 \| 82 \| 20\/s \| 1ms \| 63\.4ms \|[\s\S]*ECONNREFUSED 18 \| 200: 62, 500: 20 \|/,
  );
  assert.match(renderTerminal(r), /Load: 100 requests, 82 responses, 20\/s, p50 1ms, p95 63\.4ms/);
});

test('several reports add up; their percentiles are the worst of them', () => {
  const r = gate(['artillery/artillery-*.json'], 'load.requests: 200\nload.p95: "<= 63.4"\nload.p99: "<= 214.9"');
  assert.equal(r.passed, true, JSON.stringify(r.conditions));
  assert.equal(r.load?.reports, 2);
  assert.equal(r.load?.requests, 200);
  assert.deepEqual(r.load?.codes, { 200: 162, 500: 20 });
  assert.equal(r.conditions[1]?.note, 'worst of 2 reports');
});

test('load thresholds with no Artillery report fail, and an unknown load key is an input error', () => {
  const r = gate(['real/pytest-junit.xml'], 'load.p95: 100');
  assert.equal(r.passed, false);
  assert.equal(r.conditions[0]?.note, 'no Artillery report was read');
  assert.throws(() => parseThresholds('load.p90: 100'), /unknown key 'load\.p90'/);
  assert.throws(() => parseThresholds('load.requests: 1.5'), /a count must be a whole number/);
});

test('a report that is not Artillery-shaped is refused, naming the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qg-artillery-'));
  try {
    writeFileSync(join(dir, 'bad.json'), '{"aggregate": {"counters": {"http.requests": "many"}}, "intermediate": []}');
    assert.throws(
      () => gate(['bad.json'], 'load.requests: 1', dir),
      /"aggregate\.counters\.http\.requests" is not a count: "many"/,
    );
    writeFileSync(
      join(dir, 'nosummary.json'),
      '{"aggregate": {"counters": {"http.responses": 3}}, "intermediate": []}',
    );
    assert.throws(() => gate(['nosummary.json'], 'load.requests: 1', dir), /3 responses but no "aggregate\.summaries/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Artillery JSON reports in the gate. The fixtures are real: Artillery 2.0.34 run against the
// loopback server of test/fixtures/reports/artillery/ (its regenerate.sh has the commands).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGate, type GateReport } from '../gate.ts';
import { parseThresholds } from '../thresholds.ts';
import { parseReportPatterns } from '../patterns.ts';
import { detectFormat } from '../detect.ts';
import { renderMarkdown } from '../render/markdown.ts';
import { renderTerminal } from '../render/terminal.ts';
import {
  emptyLoadFigures,
  loadMarkdown,
  loadText,
  measureLoad,
  mergeLoadFigures,
  parseArtilleryReport,
} from './artillery.ts';

const root = join(import.meta.dirname, '../../../../test/fixtures/reports');

async function gate(reports: string[], thresholds: string, at = root): Promise<GateReport> {
  return await runGate({
    reports: parseReportPatterns(reports),
    root: at,
    thresholds: await parseThresholds(thresholds),
    minChangedLines: 0,
    ignoreMalformed: false,
  });
}

test('an Artillery report is recognised by its content', () => {
  for (const name of ['artillery-pass.json', 'artillery-fail.json']) {
    assert.deepEqual(detectFormat(join(root, 'artillery', name)), { format: 'artillery', kind: 'json' });
  }
});

test('the gate passes on a real passing Artillery run: requests, rate, percentiles, errors', async () => {
  const r = await gate(
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

test('the gate fails on a real failing Artillery run, naming errors by type and codes', async () => {
  const r = await gate(
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

test('several reports add up; their percentiles are the worst of them', async () => {
  const r = await gate(['artillery/artillery-*.json'], 'load.requests: 200\nload.p95: "<= 63.4"\nload.p99: "<= 214.9"');
  assert.equal(r.passed, true, JSON.stringify(r.conditions));
  assert.equal(r.load?.reports, 2);
  assert.equal(r.load?.requests, 200);
  assert.deepEqual(r.load?.codes, { 200: 162, 500: 20 });
  assert.equal(r.conditions[1]?.note, 'worst of 2 reports');
});

test('load thresholds with no Artillery report fail, and an unknown load key is an input error', async () => {
  const r = await gate(['real/pytest-junit.xml'], 'load.p95: 100');
  assert.equal(r.passed, false);
  assert.equal(r.conditions[0]?.note, 'no Artillery report was read');
  await assert.rejects(async () => parseThresholds('load.p90: 100'), /unknown key 'load\.p90'/);
  await assert.rejects(async () => parseThresholds('load.requests: 1.5'), /a count must be a whole number/);
});

test('a report that is not Artillery-shaped is refused, naming the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qg-artillery-'));
  try {
    writeFileSync(join(dir, 'bad.json'), '{"aggregate": {"counters": {"http.requests": "many"}}, "intermediate": []}');
    await assert.rejects(
      async () => gate(['bad.json'], 'load.requests: 1', dir),
      /"aggregate\.counters\.http\.requests" is not a count: "many"/,
    );
    writeFileSync(
      join(dir, 'nosummary.json'),
      '{"aggregate": {"counters": {"http.responses": 3}}, "intermediate": []}',
    );
    await assert.rejects(
      async () => gate(['nosummary.json'], 'load.requests: 1', dir),
      /3 responses but no "aggregate\.summaries/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const read = (name: string): unknown => JSON.parse(readFileSync(join(root, 'artillery', name), 'utf8')) as unknown;

test('parseArtilleryReport reads the real reports: counters, codes, errors, rate and response times', () => {
  const pass = parseArtilleryReport(read('artillery-pass.json'), 'artillery-pass.json');
  assert.equal(pass.reports, 1);
  assert.ok(pass.requests > 0);
  assert.equal(pass.responses, pass.requests, 'every request of the passing run was answered');
  assert.deepEqual(pass.errors, {});
  assert.ok(pass.latency && pass.latency.p50 <= pass.latency.p95 && pass.latency.p95 <= pass.latency.max);
  const fail = parseArtilleryReport(read('artillery-fail.json'), 'artillery-fail.json');
  assert.ok(Object.keys(fail.errors).length > 0 || Object.keys(fail.codes).some((c) => !c.startsWith('2')));
});

test('measureLoad: each load key, the error rate over 5xx and no-response, the worst of several reports', () => {
  const pass = parseArtilleryReport(read('artillery-pass.json'), 'a');
  assert.deepEqual(measureLoad('load.requests', pass), { value: pass.requests });
  assert.deepEqual(measureLoad('load.p95', pass), { value: pass.latency?.p95 });
  assert.deepEqual(measureLoad('load.rps', null), { missing: 'no Artillery report was read' });
  assert.deepEqual(measureLoad('load.bogus', pass), { missing: 'unknown key load.bogus' });
  const made = emptyLoadFigures();
  made.reports = 1;
  made.requests = 200;
  made.codes = { '200': 180, '503': 10, '404': 4 };
  made.errors = { ECONNREFUSED: 6 };
  assert.deepEqual(measureLoad('load.error-rate', made), { value: 8 }, '(10 × 5xx + 6 unanswered) / 200');
  assert.deepEqual(measureLoad('load.4xx', made), { value: 4 });
  assert.deepEqual(measureLoad('load.errors', made), { value: 6, note: 'ECONNREFUSED 6' });
  assert.deepEqual(measureLoad('load.p99', made), { missing: 'no response times (no responses)' });
  const both = parseArtilleryReport(read('artillery-pass.json'), 'a');
  mergeLoadFigures(both, made);
  assert.equal(both.reports, 2);
  assert.equal(both.requests, pass.requests + 200);
  assert.equal(both.codes['503'], 10);
  assert.equal((measureLoad('load.max', both) as { note?: string }).note, 'worst of 2 reports');
});

test('loadMarkdown and loadText: one table row and two lines; nothing when no report was read', () => {
  const pass = parseArtilleryReport(read('artillery-pass.json'), 'a');
  assert.match(loadMarkdown(pass), /^### Load \(Artillery\)\n\n\| Requests \| Responses \| Rate \|/);
  assert.match(loadMarkdown(pass), new RegExp(`\\| ${pass.requests} \\| ${pass.responses} \\| ${pass.rps}/s \\|`));
  assert.equal(loadMarkdown(emptyLoadFigures()), '');
  assert.deepEqual(loadText(null), []);
  const lines = loadText(pass);
  assert.equal(lines.length, 3);
  assert.match(lines[1] ?? '', new RegExp(`^Load: ${pass.requests} requests, ${pass.responses} responses`));
  assert.match(lines[2] ?? '', /no response: none; statuses: 200: \d+; failed expectations: 0/);
});

test('parseArtilleryReport refuses what is not a report, naming the file and the field', () => {
  const cases: [unknown, RegExp][] = [
    [[], /x\.json: not an Artillery report/],
    [{ aggregate: {} }, /without "aggregate.counters"/],
    [{ aggregate: { counters: { 'http.requests': -1 } } }, /"aggregate.counters.http.requests" is not a count: -1/],
    [
      { aggregate: { counters: { 'http.responses': 3 } } },
      /3 responses but no "aggregate.summaries.http.response_time"/,
    ],
    [
      { aggregate: { counters: {}, summaries: { 'http.response_time': { p50: 'fast' } } } },
      /"aggregate.summaries.http.response_time.p50" is not a number: "fast"/,
    ],
  ];
  for (const [doc, message] of cases) assert.throws(() => parseArtilleryReport(doc, 'x.json'), message);
});

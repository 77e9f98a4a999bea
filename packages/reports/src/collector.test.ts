// The Collector every parser adds to: paths made repository-relative, reruns folded into one test,
// coverage merged per line, findings matched to changed lines, and every list bounded while the
// counts stay exact. Fed by the real reports where a report can say it, directly where it cannot.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector, worseOutcome } from './collector.ts';
import { COVERED, NOT_COVERABLE, UNCOVERED, type Finding, type TestCaseRef } from './model.ts';
import { parseReport } from './parse.ts';

const fixtures = join(import.meta.dirname, '../../../test/fixtures/reports');
const scratch = mkdtempSync(join(tmpdir(), 'adci-collector-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const testCase = (name: string, outcome?: TestCaseRef['outcome'], durationMs = 1): TestCaseRef => ({
  id: `suite::${name}`,
  name,
  classname: 'suite',
  durationMs,
  report: 'junit.xml',
  ...(outcome ? { outcome } : {}),
});

const finding = (rule: string, extra: Partial<Finding> = {}): Finding => ({
  tool: 'flake8',
  rule,
  severity: 'error',
  message: `${rule} message`,
  ...extra,
});

test('relativePath: absolute paths under the root, file:// URLs, ./ and backslashes; others kept', () => {
  const c = new Collector('/home/runner/work/shop/shop');
  assert.equal(c.relativePath('/home/runner/work/shop/shop/shop/pricing.py'), 'shop/pricing.py');
  assert.equal(c.relativePath('file:///home/runner/work/shop/shop/src/caf%C3%A9.ts'), 'src/café.ts');
  assert.equal(c.relativePath('./src\\win\\path.ts'), 'src/win/path.ts');
  assert.equal(c.relativePath('src/a/../b.ts'), 'src/b.ts');
  assert.equal(c.relativePath('src//a/./b.ts'), 'src/a/b.ts');
  assert.equal(c.relativePath('.github/..x/y..'), '.github/..x/y..', 'dots that are not a segment of their own');
  assert.equal(c.relativePath(''), '.');
  assert.equal(c.relativePath('/usr/lib/python3/x.py'), '/usr/lib/python3/x.py', 'outside the root stays absolute');
});

test('relativePath: a path relative to where the tool ran is found under the report directory', () => {
  mkdirSync(join(scratch, 'web/src'), { recursive: true });
  writeFileSync(join(scratch, 'web/src/app.ts'), '');
  writeFileSync(join(scratch, 'root.ts'), '');
  const c = new Collector(scratch, undefined, {}, join(scratch, 'web/coverage'));
  assert.equal(c.relativePath('src/app.ts'), 'web/src/app.ts');
  assert.equal(c.relativePath('root.ts'), 'root.ts', 'a path that exists at the root is kept');
  assert.equal(c.relativePath('src/missing.ts'), 'src/missing.ts', 'found nowhere: kept as written');
});

test('a failed test written again by a rerun is one test: flaky when it then passes, failed when it fails again', () => {
  const c = new Collector(scratch);
  c.addTest(testCase('a', 'failed', 10));
  c.addTest(testCase('a', undefined, 5));
  c.addTest(testCase('b', 'errored'));
  c.addTest(testCase('b', 'errored'));
  c.addTest(testCase('c', 'skipped'));
  c.addTest(testCase('d'));
  assert.deepEqual(c.tests, { tests: 4, passed: 2, failed: 0, errored: 1, skipped: 1, flaky: 1, durationMs: 19 });
  assert.deepEqual([...c.failedIds], ['suite::b']);
  assert.deepEqual([...c.skippedIds], ['suite::c']);
  assert.deepEqual(
    c.failures.map((f) => [f.id, f.outcome]),
    [
      ['suite::a', 'flaky'],
      ['suite::b', 'errored'],
    ],
  );
  // Two unnamed cases of a suite are two tests, not a test and its rerun.
  const unnamed = new Collector(scratch);
  unnamed.addTest(testCase('', 'failed'), false);
  unnamed.addTest(testCase(''), false);
  assert.deepEqual([unnamed.tests.tests, unnamed.tests.failed, unnamed.tests.flaky], [2, 1, 0]);
});

test('countPassing counts a passing test as addTest does, and leaves reruns and the slowest to addTest', () => {
  const limits = { slowestTests: 2 };
  const fast = new Collector(scratch, undefined, limits);
  const slow = new Collector(scratch, undefined, limits);
  const cases: [string, TestCaseRef['outcome'], number][] = [
    ['a', 'failed', 10],
    ['b', undefined, 30],
    ['c', undefined, 20],
    ['d', undefined, 5],
    ['a', undefined, 1],
    ['e', undefined, 40],
    ['f', undefined, 25],
  ];
  const taken: boolean[] = [];
  for (const [name, outcome, ms] of cases) {
    slow.addTest(testCase(name, outcome, ms));
    const counted = outcome === undefined && fast.countPassing(name, ms);
    taken.push(counted);
    if (!counted) fast.addTest(testCase(name, outcome, ms));
  }
  // b and c fill the slowest list, e beats its last, and a passing again is a's rerun.
  assert.deepEqual(taken, [false, false, false, true, false, false, true]);
  assert.deepEqual(fast.tests, slow.tests);
  assert.deepEqual(fast.slowest, slow.slowest);
  assert.deepEqual(fast.failures, slow.failures);
  // Not rerunnable (an unnamed case): counted, whatever failed before under its name.
  assert.equal(fast.countPassing('a', 1, false), true);
  // The name's characters may come from anything that reads them, as the JUnit reader's kept bytes.
  const bytes = Buffer.from('a');
  assert.equal(fast.countPassing({ length: 1, charCodeAt: (i) => bytes[i] as number }, 1), false);
});

test('lists are bounded, counts exact: failures, ids, slowest tests, findings, message length', () => {
  const c = new Collector(scratch, undefined, {
    maxTestFailures: 2,
    maxTestIds: 3,
    slowestTests: 2,
    maxFindings: 1,
    maxMessageChars: 8,
  });
  for (let i = 1; i <= 5; i++) c.addTest(testCase(`t${i}`, 'failed', i * 10));
  assert.equal(c.tests.failed, 5);
  assert.equal(c.failures.length, 2);
  assert.equal(c.failuresDropped, 3);
  assert.equal(c.failedIds.size, 3);
  assert.equal(c.testIdsTruncated, true);
  assert.deepEqual(
    c.slowest.map((s) => [s.id, s.durationMs]),
    [
      ['suite::t5', 50],
      ['suite::t4', 40],
    ],
  );
  assert.equal(c.slowest[0]?.message, undefined, 'the slowest keep no failure text');
  c.addFinding(finding('E1', { message: 'a long finding message' }));
  c.addFinding(finding('E2', { severity: 'warning', security: 'high' }));
  assert.equal(c.findings.length, 1);
  assert.equal(c.findingsDropped, 1);
  assert.equal(c.findings[0]?.message, 'a long …');
  assert.deepEqual(c.findingCounts.get('flake8'), {
    error: 1,
    warning: 1,
    note: 0,
    critical: 0,
    high: 1,
    medium: 0,
    low: 0,
    total: 2,
  });
  assert.equal(c.findingCounts.get('all')?.total, 2);
});

test('coverage per line: covered wins, branches keep the most seen, files grow past their first size', () => {
  const c = new Collector(scratch);
  const file = c.fileCoverage(join(scratch, 'src/a.py'));
  assert.equal(file.file, 'src/a.py');
  assert.equal(c.fileCoverage('src/a.py'), file, 'one entry per file');
  c.addLine(file, 3, 0);
  c.addLine(file, 3, 2);
  c.addLine(file, 4, 0, 4, 1);
  c.addLine(file, 4, 0, 2, 2);
  c.addLine(file, 0, 1);
  c.addLine(file, 5000, 1);
  assert.deepEqual(
    [file.lines[2], file.lines[3], file.lines[4], file.lines[5000]],
    [NOT_COVERABLE, COVERED, UNCOVERED, COVERED],
  );
  assert.deepEqual([file.branchTotal?.[4], file.branchCovered?.[4]], [4, 2]);
  assert.ok(file.lines.length > 5000 && file.branchTotal?.length === file.lines.length);
});

test('findings on changed lines, by their range or any further location', () => {
  const changed = new Map([['shop/pricing.py', new Set([22, 23])]]);
  const c = new Collector('/repo', changed);
  c.addFinding(finding('on', { file: '/repo/shop/pricing.py', line: 23 }));
  c.addFinding(finding('range', { file: 'shop/pricing.py', line: 20, endLine: 22 }));
  c.addFinding(finding('elsewhere', { file: 'shop/pricing.py', line: 30 }), [
    { file: '/repo/shop/pricing.py', line: 22 },
  ]);
  c.addFinding(finding('off', { file: 'shop/pricing.py', line: 24 }));
  c.addFinding(finding('nowhere'));
  assert.deepEqual(
    c.findings.map((f) => [f.rule, f.onChangedLine ?? false]),
    [
      ['on', true],
      ['range', true],
      ['elsewhere', true],
      ['off', false],
      ['nowhere', false],
    ],
  );
  assert.equal(c.findingsOnChangedLines, 3);
});

test('merge: one collector per report adds up to the same picture as reading them into one', async () => {
  const files = [
    'real/pytest-junit.xml',
    'real/coverage.xml',
    'real/coverage.lcov',
    'real/bandit.json',
    'real/flake8.txt',
  ];
  const one = new Collector(fixtures);
  for (const f of files) await parseReport(join(fixtures, f), one);
  const merged = new Collector(fixtures);
  for (const f of files) {
    const each = new Collector(fixtures);
    await parseReport(join(fixtures, f), each);
    merged.merge(each);
  }
  assert.deepEqual(merged.tests, one.tests);
  assert.deepEqual([...merged.failedIds].sort(), [...one.failedIds].sort());
  assert.deepEqual(Object.fromEntries(merged.findingCounts), Object.fromEntries(one.findingCounts));
  assert.deepEqual([...merged.coverage.keys()].sort(), [...one.coverage.keys()].sort());
  for (const [file, entry] of one.coverage) {
    const m = merged.coverage.get(file);
    const covered = (lines: Uint8Array | undefined): number =>
      (lines ?? new Uint8Array()).filter((s) => s === COVERED).length;
    assert.equal(covered(m?.lines), covered(entry.lines), file);
  }
  assert.equal(merged.findings.length, one.findings.length);
});

test('scan errors are all counted, their tool seen; worseOutcome ranks errored > failed > flaky > skipped', () => {
  const c = new Collector('/repo');
  c.addScanError({ tool: 'bandit', file: '/repo/bad.py', reason: 'syntax error while parsing AST from file' });
  assert.deepEqual(c.scanErrors, [
    { tool: 'bandit', file: 'bad.py', reason: 'syntax error while parsing AST from file' },
  ]);
  assert.equal(c.scanErrorCount, 1);
  assert.ok(c.findingsTools.has('bandit'));
  assert.equal(worseOutcome(undefined, 'skipped'), 'skipped');
  assert.equal(worseOutcome('failed', 'errored'), 'errored');
  assert.equal(worseOutcome('errored', 'failed'), 'errored');
  assert.equal(worseOutcome('skipped', 'flaky'), 'flaky');
});

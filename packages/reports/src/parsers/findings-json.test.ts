// SARIF runs that say the tool did not scan everything, and pip-audit's report of an empty audit,
// read from the real tools' outputs (test/fixtures/reports/shapes, regenerate-failed-scans.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../collector.ts';
import { runGate, type GateReport } from '../gate.ts';
import { parseReport } from '../parse.ts';
import { parseReportPatterns } from '../patterns.ts';
import { parseThresholds } from '../thresholds.ts';

const SHAPES = join(import.meta.dirname, '../../../../test/fixtures/reports/shapes');
const PLACEHOLDER = '/home/runner/work/shop/shop';
const root = mkdtempSync(join(tmpdir(), 'qg-findings-json-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
for (const name of ['eslint-parse-error.sarif', 'bandit-syntax-error.sarif', 'pip-audit-empty.json']) {
  writeFileSync(join(root, name), readFileSync(join(SHAPES, name), 'utf8').split(PLACEHOLDER).join(root));
}
cpSync(join(SHAPES, '../real/bandit.sarif'), join(root, 'bandit-clean-run.sarif'));

async function gate(reports: string[], thresholds: string): Promise<GateReport> {
  return await runGate({
    reports: parseReportPatterns(reports),
    root,
    thresholds: await parseThresholds(thresholds),
    minChangedLines: 0,
    ignoreMalformed: false,
  });
}

test('SARIF: a run whose invocation failed (ESLint, a file it could not parse) is a scan error, not a clean scan', async () => {
  const r = await gate(['eslint-parse-error.sarif'], 'security.high: 0');
  assert.equal(r.passed, false);
  assert.equal(r.findings.scanErrors.count, 1);
  assert.deepEqual(r.findings.scanErrors.list[0], {
    tool: 'eslint',
    file: 'web/src/broken.js',
    reason: 'Parsing error: Unexpected token =>',
  });
  const implied = r.conditions.find((c) => c.key === 'findings.scan-errors');
  assert.deepEqual([implied?.passed, implied?.actual], [false, '1']);
});

test('SARIF: an error-level notification is a scan error even when executionSuccessful is true (bandit)', async () => {
  const r = await gate(['bandit-syntax-error.sarif'], 'bandit.high: 0');
  assert.equal(r.findings.scanErrors.count, 1);
  assert.deepEqual(r.findings.scanErrors.list[0], {
    tool: 'bandit',
    file: 'shop/legacy.py',
    reason: 'syntax error while parsing AST from file',
  });
  assert.equal(r.passed, false);
  // bandit's SARIF of a complete scan says executionSuccessful: true and has no notification.
  assert.equal((await gate(['bandit-clean-run.sarif'], 'findings.total: 100')).findings.scanErrors.count, 0);
});

test('SARIF: executionSuccessful false without a notification, and toolExecutionNotifications errors', async () => {
  const run = (invocation: object) => ({
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'Scanner X' } }, invocations: [invocation], results: [] }],
  });
  writeFileSync(join(root, 'failed.sarif'), JSON.stringify(run({ executionSuccessful: false, exitCode: 2 })));
  const failed = await gate(['failed.sarif'], 'security.high: 0');
  assert.deepEqual(failed.findings.scanErrors.list, [
    {
      tool: 'scanner-x',
      reason: 'the tool reported that it did not run successfully (executionSuccessful: false, exit code 2)',
    },
  ]);
  assert.equal(failed.passed, false);
  writeFileSync(
    join(root, 'notified.sarif'),
    JSON.stringify(
      run({
        executionSuccessful: true,
        toolExecutionNotifications: [
          { level: 'error', message: { text: 'out of memory in src/big.c' } },
          { level: 'warning', message: { text: 'slow rule' } },
          { message: { text: 'no level means warning' } },
        ],
      }),
    ),
  );
  assert.deepEqual((await gate(['notified.sarif'], 'security.high: 0')).findings.scanErrors.list, [
    { tool: 'scanner-x', reason: 'out of memory in src/big.c' },
  ]);
});

test('pip-audit: {"dependencies": []} is recognised, as is the real empty audit with "fixes"', async () => {
  writeFileSync(join(root, 'audit.json'), '{"dependencies":[]}');
  const bare = await gate(['audit.json'], 'pip-audit.error: 0');
  assert.deepEqual(bare.reports, [{ path: 'audit.json', format: 'pip-audit' }]);
  assert.equal(bare.passed, true);
  const real = await gate(['pip-audit-empty.json'], 'pip-audit.error: 0');
  assert.deepEqual(real.reports, [{ path: 'pip-audit-empty.json', format: 'pip-audit' }]);
});

test('SARIF: results past the findings kept are counted as the kept ones are, changed lines included', async () => {
  const location = (uri: string, startLine?: number, endLine?: number, uriBaseId?: string) => ({
    physicalLocation: {
      artifactLocation: { uri, ...(uriBaseId ? { uriBaseId } : {}) },
      ...(startLine !== undefined ? { region: { startLine, ...(endLine ? { endLine } : {}) } } : {}),
    },
  });
  const results = [
    { ruleId: 'js/a', locations: [location('src/a.ts', 3)] },
    { ruleIndex: 1, level: 'note', locations: [location('src/b.ts', 10, 12)] },
    { rule: { id: 'js/b' }, locations: [location('other.ts', 1), location('src/a.ts', 7)] },
    { rule: { index: 0 }, properties: { 'security-severity': '4.0' }, locations: [location('a.ts', 6, 7, 'SRC')] },
    { ruleId: 'js/a', properties: { issue_severity: 'HIGH' }, locations: [location('src/c.ts', 1)] },
    { ruleId: 'py/b', properties: { issue_severity: 'LOW' }, locations: [] },
    { ruleId: 'js/b', level: 'error', locations: [location('src/b.ts')] },
    { ruleId: 'js/a', suppressions: [{ status: 'underReview' }], locations: [location('src/a.ts', 4)] },
    { ruleId: 'js/a', suppressions: [{ kind: 'inSource' }], locations: [location('src/a.ts', 3)] },
    { ruleId: 'js/a', kind: 'pass', locations: [location('src/a.ts', 3)] },
    { ruleId: 'js/a', level: 'none', locations: [location('src/a.ts', 3)] },
    { ruleId: 'js/unknown', locations: [location('src/d.ts', 2), location('src/a.ts')] },
  ];
  const doc = {
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'CodeQL',
            rules: [
              { id: 'js/a', defaultConfiguration: { level: 'error' }, properties: { 'security-severity': '9.1' } },
              { id: 'js/b', shortDescription: { text: 'Rule b' }, properties: { 'security-severity': '6.5' } },
            ],
          },
        },
        originalUriBaseIds: { SRC: { uri: 'src/' } },
        results,
      },
    ],
  };
  writeFileSync(join(root, 'many.sarif'), JSON.stringify(doc));
  const changed = new Map([
    ['src/a.ts', new Set([3, 7])],
    ['src/b.ts', new Set([11])],
    ['src/c.ts', new Set([1])],
  ]);
  const read = async (maxFindings: number) => {
    const collector = new Collector(root, changed, { maxFindings });
    await parseReport(join(root, 'many.sarif'), collector, 'sarif');
    return collector;
  };
  const all = await read(100);
  assert.equal(all.findings.length, 9);
  assert.equal(all.findingsOnChangedLines, 5);
  for (let kept = 0; kept <= all.findings.length; kept++) {
    const some = await read(kept);
    assert.deepEqual(some.findings, all.findings.slice(0, kept), `${kept} kept`);
    assert.equal(some.findingsDropped, all.findings.length - kept, `${kept} kept`);
    assert.deepEqual(some.findingCounts, all.findingCounts, `${kept} kept`);
    assert.equal(some.findingsOnChangedLines, all.findingsOnChangedLines, `${kept} kept`);
  }
});

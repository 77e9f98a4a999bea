// File and line annotations from real tool reports: failed tests, findings and uncovered changed
// lines, at most `perLevel` of each level (GitHub shows 10 per level per step), errors first, and
// one closing notice counting what was left out and saying where it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runGate, type GateReport } from '../gate.ts';
import { parseReportPatterns } from '../patterns.ts';
import { parseThresholds } from '../thresholds.ts';
import { parseUnifiedDiff } from '../diff.ts';
import { selectAnnotations } from './annotations.ts';

const root = join(import.meta.dirname, '../../../../test/fixtures/reports');

async function gate(reports: string[], diff?: string): Promise<GateReport> {
  return await runGate({
    reports: parseReportPatterns(reports),
    root,
    thresholds: await parseThresholds('tests.failed: 0'),
    minChangedLines: 0,
    ignoreMalformed: false,
    ...(diff === undefined ? {} : { changedLines: parseUnifiedDiff(diff) }),
  });
}

test('failed and errored tests, findings and uncovered changed lines, each with its place', async () => {
  const report = await gate(
    ['real/pytest-junit.xml', 'real/coverage.xml', 'real/bandit.json'],
    '+++ b/shop/pricing.py\n@@ -1 +1,30 @@\n',
  );
  const a = selectAnnotations(report, { perLevel: 10, fullListHint: 'the job summary' });
  const failed = a.find((x) => x.title === 'Test failed: tests.test_pricing::test_total_is_wrong');
  assert.deepEqual([failed?.level, failed?.file, failed?.line], ['error', 'tests/test_pricing.py', 21]);
  assert.ok(failed?.message.includes('\n\n'), 'the message, then the failure text');
  assert.ok(a.some((x) => x.title === 'Test errored: tests.test_pricing::test_with_broken_fixture'));
  const md5 = a.find((x) => x.title === 'bandit B324 hashlib (high) on a changed line');
  assert.deepEqual([md5?.level, md5?.file, md5?.line, md5?.endLine], ['error', 'shop/pricing.py', 23, 23]);
  assert.deepEqual(
    a.find((x) => x.title === 'Changed lines not covered by tests'),
    {
      level: 'notice',
      title: 'Changed lines not covered by tests',
      message: 'Lines 28 were changed but no test covers them.',
      file: 'shop/pricing.py',
      line: 28,
      endLine: 28,
    },
  );
  assert.ok(!a.some((x) => x.title === 'More annotations not shown'), 'nothing left out, no closing notice');
});

test('at most perLevel of each level, errors first, then one notice counting the rest', async () => {
  const report = await gate(['real/*', 'handmade/*.json']);
  const a = selectAnnotations(report, { perLevel: 3, fullListHint: 'quality-gate.json' });
  const count = (level: string): number => a.filter((x) => x.level === level).length;
  assert.equal(count('error'), 3);
  assert.ok(count('warning') <= 3);
  assert.ok(count('notice') <= 3, 'the closing notice takes the place of one');
  const order = ['error', 'warning', 'notice'];
  assert.deepEqual(
    a.map((x) => x.level),
    [...a.map((x) => x.level)].sort((x, y) => order.indexOf(x) - order.indexOf(y)),
  );
  const last = a.at(-1);
  assert.equal(last?.title, 'More annotations not shown');
  assert.match(
    last?.message ?? '',
    /^\d+ more annotation\(s\) not shown \(\d+ error, \d+ warning, \d+ notice\): GitHub shows 3 per level per step\. The full list is in quality-gate\.json\.$/,
  );
  assert.deepEqual(selectAnnotations(report, { perLevel: 0, fullListHint: 'x' }), [], 'perLevel 0 turns them off');
});

// The threshold language: bare numbers as maxima or minima by unit, operators, nested keys, lines
// named in errors, the default for an empty input, and comparison at the precision shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '@adci/common';
import { compare, DEFAULT_THRESHOLDS, parseCondition, parseThresholds, unitOf, type Threshold } from './thresholds.ts';

const shown = (ts: Threshold[]): string[] => ts.map((t) => `${t.key} ${t.text}`);

test('a bare number is "at most" for counts, times and the error rate, "at least" for coverage and minima', async () => {
  assert.deepEqual(
    shown(
      await parseThresholds(
        'tests.failed: 0\ncoverage.line: 80\nbandit.high: 0\ntests.min: 5\nload.p95: 250\nload.error-rate: 1\nload.rps: 50',
      ),
    ),
    [
      'tests.failed <= 0',
      'coverage.line >= 80%',
      'bandit.high <= 0',
      'tests.min >= 5',
      'load.p95 <= 250',
      'load.error-rate <= 1%',
      'load.rps >= 50',
    ],
  );
});

test('operators as written; "=" reads as "=="; nested mappings flatten; each condition keeps its line', async () => {
  const ts = await parseThresholds(
    'coverage:\n  line: ">= 80%"\n  branch: "> 60"\ntests.failed: "= 0"\nflake8.total: "< 10"\n',
  );
  assert.deepEqual(
    ts.map((t) => [t.key, t.operator, t.value, t.line]),
    [
      ['coverage.line', '>=', 80, 2],
      ['coverage.branch', '>', 60, 3],
      ['tests.failed', '==', 0, 4],
      ['flake8.total', '<', 10, 5],
      ['tests.min', '>=', 1, undefined],
    ],
  );
  assert.equal(ts.at(-1)?.text, '>= 1 (default)', 'tests.min is implied when tests are gated');
  assert.ok(
    !(await parseThresholds('coverage.line: 80')).some((t) => t.key === 'tests.min'),
    'not without a tests key',
  );
});

test('JSON is accepted as well as YAML', async () => {
  assert.deepEqual(shown(await parseThresholds('{"coverage.line": ">= 75", "findings.error": 0}')), [
    'coverage.line >= 75%',
    'findings.error <= 0',
  ]);
});

test('an empty input gets the documented default, marked as such', async () => {
  const ts = await parseThresholds('  \n', 'thresholds');
  assert.equal(DEFAULT_THRESHOLDS, 'tests.failed: 0');
  assert.deepEqual(shown(ts), [
    'tests.failed <= 0 (default: thresholds was empty)',
    'tests.min >= 1 (default: thresholds was empty)',
  ]);
});

test('every bad input is an InputError naming the input, the key and its line', async () => {
  const cases: [string, RegExp][] = [
    ['{}', /holds no checks/],
    ['- tests.failed', /must be a YAML mapping/],
    ['tests.failed: 0\ncoverage.lines: 80', /unknown key 'coverage.lines' \(line 2\); known keys: tests\.failed/],
    ['tests.typo: 0', /unknown key 'tests.typo'/],
    ['load.p95x: 0', /unknown key 'load.p95x'/],
    [
      'bandit.severe: 0',
      /unknown key 'bandit.severe'.*<tool>\.<error\|warning\|note\|critical\|high\|medium\|low\|total>/,
    ],
    ['tests.failed: few', /'tests.failed' \(line 1\): malformed condition 'few'/],
    ['tests.failed: "5%"', /'tests.failed' \(line 1\): a count takes no '%'/],
    ['coverage.line: -1', /negative threshold -1/],
    ['coverage.line: 101', /101 is over 100%/],
    ['findings.error: 1.5', /a count must be a whole number/],
    ['tests.failed: true', /condition must be a number or a string/],
    ['coverage:\n  line:\n    min: 80', /'coverage.line' nests too deep/],
  ];
  for (const [text, message] of cases) {
    await assert.rejects(
      async () => parseThresholds(text, 'gate-thresholds'),
      (e: unknown) => e instanceof InputError && e.message.includes("'gate-thresholds'") && message.test(e.message),
      text,
    );
  }
});

test('parseCondition and unitOf: the unit decides the default operator and what is allowed', () => {
  assert.equal(unitOf('coverage.diff'), 'percent');
  assert.equal(unitOf('load.p99'), 'ms');
  assert.equal(unitOf('eslint.error'), 'count');
  assert.deepEqual(parseCondition('coverage.diff', 90, 'x'), {
    key: 'coverage.diff',
    operator: '>=',
    value: 90,
    text: '>= 90%',
    line: undefined,
  });
  assert.equal(parseCondition('load.p99', '<= 300.5', 'x').value, 300.5);
  assert.throws(
    () => parseCondition('tests.failed', Number.NaN, 'x', 3),
    /'tests.failed' \(line 3\): condition must be/,
  );
});

test('compare: each operator, percentages at the two decimals shown (79.996% is not 80%)', () => {
  const t = (key: string, cond: string): Threshold => parseCondition(key, cond, 'x');
  assert.equal(compare(0, t('tests.failed', '0')), true);
  assert.equal(compare(1, t('tests.failed', '0')), false);
  assert.equal(compare(2, t('tests.failed', '< 2')), false);
  assert.equal(compare(3, t('tests.failed', '> 2')), true);
  assert.equal(compare(2, t('tests.failed', '== 2')), true);
  assert.equal(compare(79.996, t('coverage.line', '80')), false);
  assert.equal(compare(80, t('coverage.line', '80')), true);
  assert.equal(compare(80.004, t('coverage.line', '== 80')), true);
});

// Unit tests of parsers/text.ts on the real tools' outputs in test/fixtures/reports/real (LCOV from
// coverage.py and c8, flake8, mypy text and JSON lines, tsc --pretty false): what each line becomes,
// and a file of another shape refused naming the file and its first line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../collector.ts';
import { COVERED, UNCOVERED, type FileCoverage } from '../model.ts';
import {
  addMypyLine,
  flake8Severity,
  forEachLine,
  parseFlake8Text,
  parseLcov,
  parseMypyJsonLines,
  parseMypyText,
  parseTsc,
} from './text.ts';

const REAL = join(import.meta.dirname, '../../../../test/fixtures/reports/real');
const real = (name: string) => join(REAL, name);

const scratch = mkdtempSync(join(tmpdir(), 'adci-text-parsers-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

const lineStates = (entry: FileCoverage | undefined) => {
  const covered: number[] = [];
  const uncovered: number[] = [];
  entry?.lines.forEach((state, line) => {
    if (state === COVERED) covered.push(line);
    else if (state === UNCOVERED) uncovered.push(line);
  });
  return { covered, uncovered };
};

test('forEachLine: every line with its number, CRLF and a last line without newline included', () => {
  const seen: [string, number][] = [];
  forEachLine(file('lines.txt', 'a\r\nb\n\nlast'), (line, n) => seen.push([line, n]));
  assert.deepEqual(seen, [
    ['a', 1],
    ['b', 2],
    ['', 3],
    ['last', 4],
  ]);
  const empty: string[] = [];
  forEachLine(file('empty.txt', ''), (line) => empty.push(line));
  assert.deepEqual(empty, []);
});

test("parseLcov: coverage.py's LCOV, lines and branches per file", () => {
  const collector = new Collector('/home/runner/work/shop/shop');
  parseLcov(real('coverage.lcov'), collector);
  assert.equal(collector.coverageReports, 1);
  assert.deepEqual([...collector.coverage.keys()].sort(), ['shop/__init__.py', 'shop/config.py', 'shop/pricing.py']);
  const config = lineStates(collector.coverage.get('shop/config.py'));
  assert.deepEqual(config, { covered: [], uncovered: [2, 4, 7, 8, 9, 12, 13, 14] });
  const pricing = collector.coverage.get('shop/pricing.py');
  assert.equal(lineStates(pricing).covered.length + lineStates(pricing).uncovered.length, 21);
  const branchLines = [...(pricing?.branchTotal ?? [])].reduce((sum, n) => sum + n, 0);
  assert.equal(branchLines, 6, 'six BRDA records');
});

test('parseLcov: c8 writes paths relative to where it ran; BRDA "-" is a branch never taken', () => {
  const collector = new Collector('/nowhere');
  parseLcov(real('c8-lcov.info'), collector);
  assert.deepEqual([...collector.coverage.keys()], ['src/cart.js']);

  const handmade = new Collector('/nowhere');
  parseLcov(
    file('branches.info', 'SF:a.js\nDA:1,1\nDA:2,0\nBRDA:1,0,0,1\nBRDA:1,0,1,-\nBRDA:9,0,0,1\nend_of_record\n'),
    handmade,
  );
  const a = handmade.coverage.get('a.js');
  assert.deepEqual(lineStates(a), { covered: [1], uncovered: [2] });
  assert.deepEqual([a?.branchTotal?.[1], a?.branchCovered?.[1]], [2, 1]);
  assert.equal(a?.branchTotal?.[9] ?? 0, 0, 'branches of a line with no DA record are not counted');
});

test('parseLcov: refuses a file with no SF record, and a DA record outside one, naming the file and line', () => {
  const notLcov = file('coverage.txt', '\nName    Stmts   Miss  Cover\n');
  assert.throws(
    () => parseLcov(notLcov, new Collector('/')),
    new RegExp(
      `^ReportError: ${notLcov}: not LCOV output: no line has the shape "SF:<file>" records \\(the file starts with "Name    Stmts   Miss  Cover"\\)$`,
    ),
  );
  assert.throws(
    () => parseLcov(file('da.info', 'TN:\nDA:1,1\n'), new Collector('/')),
    /da\.info: line 2: DA record outside an SF record/,
  );
});

test('parseFlake8Text: each line a finding; syntax errors and undefined names are errors, the rest warnings', () => {
  const collector = new Collector('/');
  parseFlake8Text(real('flake8.txt'), collector);
  assert.deepEqual(
    collector.findings.map((f) => `${f.rule} ${f.severity} ${f.file}:${f.line} ${f.message}`),
    [
      "F821 error shop/config.py:9 undefined name 'undefined_name'",
      "F401 warning shop/pricing.py:2 'os' imported but unused",
      'E501 warning shop/pricing.py:31 line too long (120 > 100 characters)',
    ],
  );
  assert.deepEqual(['E999', 'F632', 'F701', 'F821', 'E501', 'W605', 'C901'].map(flake8Severity), [
    'error',
    'error',
    'error',
    'error',
    'warning',
    'warning',
    'warning',
  ]);
  const clean = new Collector('/');
  parseFlake8Text(file('flake8-clean.txt', ''), clean);
  assert.deepEqual(
    [clean.findings.length, [...clean.findingsTools]],
    [0, ['flake8']],
    'an empty file: flake8 ran, found nothing',
  );
  assert.throws(
    () => parseFlake8Text(file('trace.txt', 'Traceback (most recent call last):\n'), new Collector('/')),
    /not flake8 output: .*"Traceback/,
  );
});

test('parseMypyText and parseMypyJsonLines read the same run alike; summaries count as mypy lines', () => {
  const text = new Collector('/');
  parseMypyText(real('mypy.txt'), text);
  const json = new Collector('/');
  parseMypyJsonLines(real('mypy.jsonl'), json);
  const shape = (c: Collector) => c.findings.map((f) => `${f.rule} ${f.severity} ${f.file}:${f.line}`);
  assert.deepEqual(shape(text), [
    'name-defined error shop/config.py:9',
    'assignment error shop/config.py:13',
    'arg-type error shop/pricing.py:18',
  ]);
  assert.deepEqual(shape(json), shape(text));
  assert.equal(json.findings[0]?.endLine, 9);

  const success = new Collector('/');
  parseMypyText(file('mypy-ok.txt', 'Success: no issues found in 3 source files\n'), success);
  assert.equal(success.findings.length, 0);
  assert.throws(
    () => parseMypyText(file('mypy-crash.txt', 'mypy: error: unrecognized arguments\n'), new Collector('/')),
    /not mypy output/,
  );
  assert.throws(
    () => parseMypyJsonLines(file('mypy-bad.jsonl', '{"file": "a.py"}\n{oops\n'), new Collector('/')),
    /mypy-bad\.jsonl: line 2: /,
  );
});

test('addMypyLine: notes, end positions and a missing error code', () => {
  const collector = new Collector('/');
  assert.equal(addMypyLine('shop/a.py:3:5:4:9: error: Bad thing  [misc]', collector), true);
  assert.equal(addMypyLine('shop/a.py:7: note: See https://mypy.rtfd.io', collector), true);
  assert.equal(addMypyLine('shop/a.py:8: error: No code here', collector), true);
  assert.equal(addMypyLine('Found 2 errors in 1 file (checked 3 source files)', collector), false);
  assert.deepEqual(
    collector.findings.map((f) => [f.rule, f.severity, f.line, f.endLine]),
    [
      ['misc', 'error', 3, 4],
      ['note', 'note', 7, undefined],
      ['misc', 'error', 8, undefined],
    ],
  );
});

test("parseTsc: tsc's lines with their continuation, global errors without a file", () => {
  const collector = new Collector('/');
  parseTsc(real('tsc.txt'), collector);
  assert.deepEqual(
    collector.findings.map((f) => `${f.rule} ${f.severity} ${f.file}:${f.line}`),
    ['TS2322 error types/price.mts:11', 'TS2551 error types/price.mts:14'],
  );
  const more = new Collector('/');
  parseTsc(
    file(
      'tsc-more.txt',
      "error TS5023: Unknown compiler option 'strictest'.\nsrc/a.ts(1,1): error TS2322: Type 'A' is not assignable.\n  Types of property 'x' are incompatible.\n",
    ),
    more,
  );
  assert.deepEqual(
    more.findings.map((f) => [f.rule, f.file, f.message]),
    [
      ['TS5023', undefined, "Unknown compiler option 'strictest'."],
      ['TS2322', 'src/a.ts', "Type 'A' is not assignable.\nTypes of property 'x' are incompatible."],
    ],
  );
  assert.throws(
    () => parseTsc(file('tsc-pretty.txt', '\u001b[96msrc/a.ts\u001b[0m:1:1 - error\n'), new Collector('/')),
    /not tsc output/,
  );
});

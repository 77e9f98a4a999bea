// `adci gate` from the sources, on the tools' real reports (test/fixtures/reports): the verdict as text,
// JSON or Markdown, the exit code, the report file, changed lines from a real git repository, and
// flag errors that name the flag before anything is read. The built CLI is tested end to end in
// test/e2e/quality-gate-cli.test.ts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adciFromSources, type AdciRun } from '../../../../test/runner/adci-sources.ts';

const fixtures = join(import.meta.dirname, '../../../../test/fixtures/reports');
const scratch = mkdtempSync(join(tmpdir(), 'adci-gate-cmd-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const adci = (...args: string[]): Promise<AdciRun> => adciFromSources(args);

test('a failing run prints the verdict and exits 1; a passing one exits 0', async () => {
  const failing = await adci('gate', '--root', fixtures, '--reports', 'real/pytest-junit.xml');
  assert.equal(failing.code, 1);
  assert.match(failing.out, /^Quality gate: FAILED\n/);
  assert.match(failing.out, /\nFAIL {2}tests\.failed {2}<= 0 {12}2\n/);
  assert.match(
    failing.out,
    /\n {2}FAIL {2}tests\.test_pricing::test_total_is_wrong \(tests\/test_pricing\.py:21\): assert 3\.0 == 4\n/,
  );
  const passing = await adci(
    'gate',
    '--root',
    fixtures,
    '--reports',
    'real/coverage.xml',
    '--thresholds',
    'coverage.line: 50',
  );
  assert.equal(passing.code, 0, passing.err);
  assert.match(passing.out, /^Quality gate: PASSED\n/);
});

test('--json and --report-file carry the adci version first; --markdown prints the summary', async () => {
  const file = join(scratch, 'out/gate.json');
  const json = await adci(
    'gate',
    '--root',
    fixtures,
    '--reports',
    'real/vitest-junit.xml',
    '--reports',
    'real/bandit.json',
    '--json',
    '--report-file',
    file,
  );
  const printed = JSON.parse(json.out) as Record<string, unknown>;
  assert.equal(Object.keys(printed)[0], 'adciVersion');
  assert.deepEqual(
    (printed.reports as { path: string }[]).map((r) => r.path),
    ['real/vitest-junit.xml', 'real/bandit.json'],
  );
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), printed, 'the file holds the same result');
  const md = await adci('gate', '--root', fixtures, '--reports', 'real/pytest-junit.xml', '--markdown');
  assert.match(md.out, /^## ❌ Quality gate: failed \(1 of 2 checks\)\n/);
});

test('--base: changed lines from git; a base git cannot diff is a warning, not a verdict', async () => {
  const repo = join(scratch, 'repo');
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd: repo,
      encoding: 'utf8',
    });
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  writeFileSync(join(repo, 'app.py'), 'a = 1\n');
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  writeFileSync(join(repo, 'app.py'), 'a = 1\nb = 2\nc = 3\n');
  writeFileSync(join(repo, 'coverage.lcov'), 'TN:\nSF:app.py\nDA:1,1\nDA:2,1\nDA:3,0\nend_of_record\n');
  git('add', '.');
  git('commit', '-q', '-m', 'change');
  const run = await adci(
    'gate',
    '--root',
    repo,
    '--reports',
    'coverage.lcov',
    '--thresholds',
    'coverage.diff: 90',
    '--base',
    'HEAD~1',
    '--min-changed-lines',
    '0',
    '--json',
  );
  const result = JSON.parse(run.out) as { coverage: { diff: { covered: number; total: number } }; passed: boolean };
  assert.deepEqual([result.coverage.diff.covered, result.coverage.diff.total, result.passed], [1, 2, false]);
  const unknown = await adci(
    'gate',
    '--root',
    repo,
    '--reports',
    'coverage.lcov',
    '--thresholds',
    'coverage.line: 1',
    '--base',
    'no-such-ref',
  );
  assert.match(unknown.err, /changed lines unknown: git diff no-such-ref\.\.\.HEAD failed .*; fetch both commits/);
  assert.equal(unknown.code, 0);
});

test('flag errors exit 2 naming the flag', async () => {
  const thresholds = join(scratch, 'thresholds.yml');
  writeFileSync(thresholds, 'coverage.line: 80\n');
  const cases: [string[], RegExp][] = [
    [
      ['--thresholds', 'tests.failed: 0', '--thresholds-file', thresholds],
      /'--thresholds'.*either --thresholds or --thresholds-file/,
    ],
    [['--thresholds-file', join(scratch, 'missing.yml')], /'--thresholds-file'.*cannot read .*missing\.yml': ENOENT/],
    [['--thresholds', 'coverage.lines: 80'], /'--thresholds'.*unknown key 'coverage\.lines'/],
    [['--min-changed-lines', 'some'], /'--min-changed-lines'.*'some' is not an integer >= 0/],
    [['--baseline', thresholds], /'--baseline'.*is not JSON/],
    [['--reports', 'pylnt: x.json'], /'--reports'.*unknown format 'pylnt'/],
  ];
  for (const [flags, message] of cases) {
    const run = await adci('gate', '--root', fixtures, '--reports', 'real/pytest-junit.xml', ...flags);
    assert.equal(run.code, 2, flags.join(' '));
    assert.match(run.err, message);
    assert.equal(run.out, '', 'nothing printed before the error');
  }
});

// End-to-end: `adci gate` (the same engine as the action) on the real-tool fixtures, through a
// child process running the bundled command (bin/adci.js -> dist/cli) as GitLab CI or Jenkins
// would: terminal verdict, --json, exit codes, and changed lines from git with --base.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../runner/index.ts';

let dir: string;
const adciBin = join(repoRoot, 'bin', 'adci.js');

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'qg-cli-'));
  cpSync(join(repoRoot, 'test/fixtures/reports/real'), join(dir, 'reports'), { recursive: true });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function adci(...args: string[]) {
  const result = spawnSync(process.execPath, [adciBin, 'gate', '--root', dir, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('prints the verdict and exits 1 when the gate fails, 0 when it passes', () => {
  const failing = adci(
    '--reports',
    'reports/pytest-junit.xml',
    '--reports',
    'reports/bandit.json',
    '--thresholds',
    'tests.failed: 0\nbandit.high: 0',
  );
  assert.equal(failing.code, 1, failing.stderr);
  assert.match(failing.stdout, /^Quality gate: FAILED/);
  assert.match(failing.stdout, /FAIL {2}tests\.failed +<= 0 +2\n/);
  assert.match(failing.stdout, /Tests: 7 total, 4 passed, 1 failed, 1 errored, 1 skipped/);
  const passing = adci('--reports', 'reports/vitest-junit.xml', '--thresholds', 'tests.failed: 1');
  assert.equal(passing.code, 0, passing.stderr);
  assert.match(passing.stdout, /^Quality gate: PASSED/);
});

test('--json prints the same result object the action writes; bad input exits 2', () => {
  const out = adci('--reports', 'reports/coverage.xml', '--thresholds', 'coverage.line: 50', '--json');
  assert.equal(out.code, 0, out.stderr);
  const report = JSON.parse(out.stdout) as {
    schema: string;
    passed: boolean;
    coverage: { lines: { covered: number } };
  };
  assert.equal(report.schema, 'adci.quality-gate/v1');
  assert.equal(report.coverage.lines.covered, 16);
  const bad = adci('--reports', 'reports/coverage.xml', '--thresholds', 'coverage.lines: 50');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown key 'coverage.lines'/);
});

test('changed lines come from git diff base...head', () => {
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'app.py'), 'a = 1\n');
  git('add', 'app.py');
  git('commit', '-q', '-m', 'base');
  writeFileSync(join(dir, 'app.py'), 'a = 1\nb = 2\nc = 3\n');
  git('commit', '-q', '-am', 'head');
  writeFileSync(join(dir, 'lcov.info'), 'SF:app.py\nDA:1,1\nDA:2,1\nDA:3,0\nend_of_record\n');
  const out = adci(
    '--reports',
    'lcov.info',
    '--base',
    'HEAD~1',
    '--thresholds',
    'coverage.diff: 60',
    '--min-changed-lines',
    '1',
    '--json',
  );
  const report = JSON.parse(out.stdout) as { coverage: { diff: { covered: number; total: number } }; passed: boolean };
  assert.deepEqual([report.coverage.diff.covered, report.coverage.diff.total], [1, 2]);
  assert.equal(report.passed, false);
  assert.equal(out.code, 1);
  const file = join(dir, 'out/report.json');
  adci('--reports', 'lcov.info', '--report-file', file, '--thresholds', 'coverage.line: 50');
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { passed: boolean }).passed, true);
});

test('a report line that matches nothing, or a report outside --root, exits 2 naming --reports', () => {
  const missing = adci('--reports', 'reports/pytest-junit.xml', '--reports', 'reports/bandit-typo.json');
  assert.equal(missing.code, 2, missing.stdout);
  assert.match(missing.stderr, /^adci: Input '--reports': 'reports\/bandit-typo\.json' matched no file under /m);
  const outside = adci('--reports', join(repoRoot, 'package.json'));
  assert.equal(outside.code, 2, outside.stdout);
  assert.match(outside.stderr, /Input '--reports': '.+' matches .+, which resolves to .+, outside the root /);
});

// End-to-end: the ways around the gate that public report corpora show, through dist/quality-gate
// (the runner harness) with reports the real tools wrote (test/fixtures/reports, shapes/ from
// regenerate-failed-scans.sh). A failed scan, a forced wrong format, a report that is missing, a file
// outside the repository, an unnamed test, an empty audit and a UTF-16 file each decide the verdict
// the way the README says, never a silent pass.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runActionBundle, type ActionResult } from '../runner/index.ts';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.ts';

const FIXTURES = join(repoRoot, 'test/fixtures/reports');
const PLACEHOLDER = '/home/runner/work/shop/shop';
const OWNER = 'adci-org';
const REPO = 'ad-platform';
const PR = 23;
const SECRET = 'kubeconfig-token-4f1c9e07d2';

let github: FakeGitHub;
let outside: string;
let workspace: string;
let sha = '';

/** A fixture as the tool wrote it in this checkout. */
function copy(from: string, to: string): void {
  const text = readFileSync(join(FIXTURES, from), 'utf8');
  mkdirSync(join(workspace, to, '..'), { recursive: true });
  writeFileSync(join(workspace, to), text.split(PLACEHOLDER).join(workspace));
}

before(async () => {
  github = await startFakeGitHub({ owner: OWNER, repo: REPO });
  outside = mkdtempSync(join(tmpdir(), 'qg-untrusted-'));
  workspace = join(outside, 'checkout');
  mkdirSync(workspace);
  // The runner's own files beside the checkout: a kubeconfig a pull request would like to read.
  writeFileSync(join(outside, 'kubeconfig'), `apiVersion: v1\nusers:\n- name: ci\n  user: {token: ${SECRET}}\n`);
  copy('real/pytest-junit.xml', 'reports/pytest-junit.xml');
  copy('real/coverage.xml', 'reports/coverage.xml');
  copy('shapes/eslint-parse-error.sarif', 'reports/eslint.sarif');
  copy('shapes/bandit-syntax-error.sarif', 'reports/bandit.sarif');
  copy('shapes/pip-audit-empty.json', 'reports/pip-audit-empty.json');
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd: workspace,
      encoding: 'utf8',
    }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'reports');
  sha = git('rev-parse', 'HEAD');
});
after(async () => {
  await github.close();
  rmSync(outside, { recursive: true, force: true });
});
beforeEach(() => github.reset());

function gate(inputs: Record<string, string>, pr = false): Promise<ActionResult> {
  return runActionBundle('quality-gate', {
    with: { comment: pr ? 'true' : 'false', ...inputs },
    cwd: workspace,
    event: pr
      ? {
          action: 'synchronize',
          number: PR,
          pull_request: {
            number: PR,
            base: { sha, ref: 'main', repo: { full_name: `${OWNER}/${REPO}` } },
            head: { sha, ref: 'feature', repo: { full_name: `${OWNER}/${REPO}` } },
          },
        }
      : { head_commit: { message: 'push' } },
    eventName: pr ? 'pull_request' : 'push',
    githubToken: github.token,
    env: { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: `${OWNER}/${REPO}` },
    timeoutMs: 30_000,
  });
}

/** The message the step failed with. */
function failure(result: ActionResult): string {
  return result.annotations.find((a) => a.level === 'error')?.message ?? '';
}

test('a SARIF run that says the tool failed is a scan error: a security gate fails, naming the file', async () => {
  const result = await gate({ reports: 'reports/eslint.sarif\nreports/bandit.sarif', thresholds: 'security.high: 0' });
  assert.equal(result.exitCode, 1, result.stdout);
  assert.equal(result.outputs.passed, 'false');
  assert.match(result.summary, /\| ❌ \| `findings.scan-errors` \| &lt;= 0 \(implied: findings are gated\) \| 2 \|/);
  assert.match(result.summary, /web\/src\/broken\.js/);
  assert.match(result.summary, /Parsing error: Unexpected token =&gt;|Parsing error: Unexpected token =>/);
  assert.match(result.summary, /shop\/legacy\.py/);
});

test('an XML file that is not JUnit, forced with junit:, fails the step beside a good report', async () => {
  const result = await gate({
    reports: 'reports/pytest-junit.xml\njunit: reports/coverage.xml',
    thresholds: 'tests.failed: 2',
  });
  assert.equal(result.exitCode, 1, result.stdout);
  assert.equal(
    failure(result),
    "reports/coverage.xml: is not JUnit XML: its root element is <coverage>, JUnit's is <testsuites> or <testsuite>",
  );
  assert.equal(result.outputs.passed, undefined, 'no verdict is given');
});

test('a pattern that matches no file fails the step even when the other patterns match', async () => {
  const result = await gate({
    reports: 'reports/pytest-junit.xml\nreports/bandit.json',
    thresholds: 'tests.failed: 2\nsecurity.high: 0',
  });
  assert.equal(result.exitCode, 1, result.stdout);
  assert.equal(
    failure(result),
    `Input 'reports': 'reports/bandit.json' matched no file under ${workspace}: every line must match a report (a report that is missing is not a pass)`,
  );
});

test('a report that is a link to a file outside the checkout is refused: nothing of it reaches the log, summary or comment', async (t) => {
  symlinkSync(join(outside, 'kubeconfig'), join(workspace, 'reports/junit-results.xml'));
  t.after(() => rmSync(join(workspace, 'reports/junit-results.xml')));
  for (const reports of ['reports/*.xml', 'junit: reports/junit-results.xml', '../kubeconfig']) {
    const result = await gate({ reports, thresholds: 'tests.failed: 2', 'ignore-malformed': 'true' }, true);
    assert.equal(result.exitCode, 1, result.stdout);
    assert.match(
      failure(result),
      /^Input 'reports': '.+' matches .+, which resolves to .+\/kubeconfig, outside the root .+: reports are read only from inside it$/,
    );
    for (const text of [result.stdout, result.stderr, result.summary, JSON.stringify(result.annotations)]) {
      assert.ok(!text.includes(SECRET), reports);
    }
    assert.deepEqual(github.comments(PR), [], 'no comment is written');
  }
});

test('unnamed test cases are separate tests, {"dependencies": []} is a pip-audit report, a UTF-16 file is named', async () => {
  writeFileSync(
    join(workspace, 'reports/unnamed.xml'),
    '<testsuite name="suite"><testcase classname="c"><failure message="one"/></testcase>' +
      '<testcase classname="c"/><testcase classname="c"><failure message="two"/></testcase></testsuite>',
  );
  writeFileSync(join(workspace, 'reports/audit.json'), '{"dependencies":[]}');
  const counted = await gate({
    reports: 'reports/unnamed.xml\nreports/audit.json\nreports/pip-audit-empty.json',
    thresholds: 'tests.failed: 0\npip-audit.error: 0',
  });
  assert.equal(counted.exitCode, 1, counted.stdout);
  assert.equal(counted.outputs['tests-failed'], '2');
  assert.match(counted.summary, /\| ✅ \| `pip-audit.error` \| &lt;= 0 \| 0 \|/);

  // Windows PowerShell 5.1's `>` writes UTF-16 little-endian with a byte-order mark.
  const junit = readFileSync(join(workspace, 'reports/pytest-junit.xml'), 'utf8');
  writeFileSync(
    join(workspace, 'reports/pytest-utf16.xml'),
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(junit, 'utf16le')]),
  );
  const utf16 = await gate({ reports: 'reports/pytest-utf16.xml', thresholds: 'tests.failed: 2' });
  assert.equal(utf16.exitCode, 1, utf16.stdout);
  assert.equal(
    failure(utf16),
    "reports/pytest-utf16.xml: is UTF-16 (little-endian, with a byte-order mark), not UTF-8: re-encode it (iconv -f UTF-16 -t UTF-8, or PowerShell's Out-File -Encoding utf8)",
  );
});

// End-to-end: dist/quality-gate run through the runner harness on reports written by the real
// tools (test/fixtures/reports), against a git repository made here and a local server that
// behaves like GitHub's REST API (requests and responses checked against its OpenAPI description).
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runActionBundle, type ActionResult } from '../runner/index.ts';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.ts';

const FIXTURES = join(repoRoot, 'test/fixtures/reports');
const PLACEHOLDER = '/home/runner/work/shop/shop';
const OWNER = 'adci-org';
const REPO = 'ad-platform';
const PR = 17;

let github: FakeGitHub;
let workspace: string;
let base = '';
let head = '';

function git(...args: string[]): string {
  return execFileSync('git', args, {
    cwd: workspace,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: workspace,
    },
  }).trim();
}

/**
 * A checkout of the sample project: the base commit lacks `archive()` and `label()` of
 * shop/pricing.py, the head commit (the code the reports were produced from) adds them.
 */
function makeWorkspace(): void {
  workspace = mkdtempSync(join(tmpdir(), 'qg-e2e-'));
  cpSync(join(FIXTURES, 'sample-project'), workspace, { recursive: true });
  const pricing = readFileSync(join(workspace, 'shop/pricing.py'), 'utf8');
  const start = pricing.indexOf('def archive');
  const end = pricing.indexOf('def unused_branch');
  writeFileSync(join(workspace, 'shop/pricing.py'), pricing.slice(0, start) + pricing.slice(end));
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'base');
  base = git('rev-parse', 'HEAD');
  writeFileSync(join(workspace, 'shop/pricing.py'), pricing);
  git('commit', '-q', '-am', 'add archive and label');
  head = git('rev-parse', 'HEAD');
  // The reports as the tools wrote them in this checkout.
  for (const dir of ['real', 'handmade']) {
    mkdirSync(join(workspace, 'reports', dir), { recursive: true });
    for (const name of readdirSync(join(FIXTURES, dir))) {
      const text = readFileSync(join(FIXTURES, dir, name), 'utf8');
      writeFileSync(join(workspace, 'reports', dir, name), text.split(PLACEHOLDER).join(workspace));
    }
  }
}

before(async () => {
  github = await startFakeGitHub({ owner: OWNER, repo: REPO });
  makeWorkspace();
});
after(async () => {
  await github.close();
  rmSync(workspace, { recursive: true, force: true });
});
beforeEach(() => github.reset());

function prEvent(fork = false) {
  return {
    action: 'synchronize',
    number: PR,
    pull_request: {
      number: PR,
      base: { sha: base, ref: 'main', repo: { full_name: `${OWNER}/${REPO}` } },
      head: { sha: head, ref: 'feature', repo: { full_name: fork ? `someone/${REPO}` : `${OWNER}/${REPO}` } },
    },
  };
}

function gate(
  inputs: Record<string, string>,
  options: { pr?: boolean; fork?: boolean; env?: Record<string, string>; event?: object; eventName?: string } = {},
): Promise<ActionResult> {
  return runActionBundle('quality-gate', {
    with: inputs,
    cwd: workspace,
    event: options.event ?? (options.pr ? prEvent(options.fork) : { head_commit: { message: 'push' } }),
    eventName: options.eventName ?? (options.pr ? 'pull_request' : 'push'),
    githubToken: github.token,
    env: { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: `${OWNER}/${REPO}`, ...options.env },
    timeoutMs: 30_000,
  });
}

const ALL = 'reports/real/*\nreports/handmade/*.json';

test('counts every real-tool format, fails on the thresholds, explains in outputs, summary and annotations', async () => {
  const result = await gate({
    reports: ALL,
    thresholds: 'tests.failed: 0\ncoverage.line: ">= 80"\nfindings.error: 0\nsecurity.high: 0\nbandit.high: 0',
    'report-file': 'out/report.json',
  });
  assert.equal(result.exitCode, 1, result.stdout);
  assert.equal(result.outputs.passed, 'false');
  assert.equal(result.outputs['tests-failed'], '8');
  assert.equal(result.outputs['findings-error'], '37');
  assert.equal(result.outputs['security-high'], '5');
  assert.match(result.outputs['coverage-line'] ?? '', /^\d+\.\d\d$/);
  assert.equal(result.outputs['coverage-diff'], '');
  const failure = result.annotations.find(
    (a) => a.level === 'error' && /Quality gate failed: tests.failed is 8/.test(a.message),
  );
  assert.ok(failure, 'the step fails with the reasons');
  // Summary: verdict table, tests, coverage, findings per tool and severity.
  assert.match(result.summary, /## ❌ Quality gate: failed \(5 of 6 checks\)/);
  assert.match(result.summary, /\| ❌ \| `bandit.high` \| &lt;= 0 \| 4 \|/);
  assert.match(result.summary, /\| 31 \| 18 \| 6 \| 2 \| 5 \| 1 \|/);
  assert.match(result.summary, /\| bandit \| 4 \| 0 \| 6 \| 0 \| 4 \| 0 \| 6 \|/);
  assert.match(result.summary, /\| npm-audit \| 2 \| 0 \| 0 \| 2 \| 0 \| 0 \| 0 \|/);
  assert.match(result.summary, /Slowest tests/);
  // Annotations: at most 10 per level, errors first, then a notice naming how many more exist.
  const gateAnnotations = result.annotations.filter((a) => a !== failure);
  for (const level of ['error', 'warning', 'notice'] as const) {
    assert.ok(gateAnnotations.filter((a) => a.level === level).length <= 10, level);
  }
  assert.equal(gateAnnotations[0]?.level, 'error');
  const more = gateAnnotations.at(-1);
  assert.equal(more?.level, 'notice');
  assert.match(
    more?.message ?? '',
    /^\d+ more annotation\(s\) not shown .* The full list is in the job summary and the report file/,
  );
  const test = gateAnnotations.find((a) => a.title === 'Test failed: tests.test_pricing::test_total_is_wrong');
  assert.deepEqual([test?.file, test?.line], ['tests/test_pricing.py', 21]);
  const report = JSON.parse(readFileSync(result.outputs.report as string, 'utf8')) as {
    schema: string;
    reports: { path: string; format: string }[];
  };
  assert.equal(report.schema, 'adci.quality-gate/v1');
  // Every file was recognised from its content alone.
  const formats = Object.fromEntries(report.reports.map((r) => [r.path.replace(/^reports\//, ''), r.format]));
  assert.deepEqual(formats, {
    'handmade/npm-audit.json': 'npm-audit',
    'handmade/pip-audit.json': 'pip-audit',
    'handmade/safety-1.json': 'safety',
    'handmade/safety-2.json': 'safety',
    'real/bandit.json': 'bandit',
    'real/bandit.sarif': 'sarif',
    'real/c8-cobertura.xml': 'cobertura',
    'real/c8-lcov.info': 'lcov',
    'real/coverage.lcov': 'lcov',
    'real/coverage.xml': 'cobertura',
    'real/eslint-checkstyle.xml': 'checkstyle',
    'real/eslint.json': 'eslint',
    'real/eslint.sarif': 'sarif',
    'real/flake8-junit.xml': 'flake8 (junit-xml)',
    'real/flake8.txt': 'flake8',
    'real/go-junit-report.xml': 'junit',
    'real/jacoco.xml': 'jacoco',
    'real/jest-junit.xml': 'junit',
    'real/mocha-junit.xml': 'junit',
    'real/mypy-junit.xml': 'mypy (junit-xml)',
    'real/mypy.jsonl': 'mypy (json lines)',
    'real/mypy.txt': 'mypy',
    'real/pip-audit-offline.json': 'pip-audit',
    'real/pylint-json2.json': 'pylint',
    'real/pylint.json': 'pylint',
    'real/pytest-junit.xml': 'junit',
    'real/surefire-TEST-com.example.shop.InventoryTest.xml': 'junit',
    'real/surefire-TEST-com.example.shop.PricingTest.xml': 'junit',
    'real/tsc.txt': 'tsc',
    'real/vitest-junit.xml': 'junit',
  });
  assert.equal(github.requests.length, 0, 'no comment outside pull requests');
});

test('passes when the thresholds hold, and the outputs say so', async () => {
  const result = await gate({
    reports: 'reports/real/pytest-junit.xml\nreports/real/coverage.xml\nreports/real/flake8.txt',
    thresholds: 'tests.failed: 2\ntests.min: 7\ncoverage.line: ">= 55"\nflake8.error: "<= 1"\nfindings.warning: "< 3"',
    comment: 'false',
  });
  assert.equal(result.exitCode, 0, result.stdout);
  assert.equal(result.outputs.passed, 'true');
  assert.equal(result.outputs['coverage-line'], '55.17');
  assert.match(result.summary, /## ✅ Quality gate: passed/);
});

test('an unknown threshold key or a malformed condition fails before anything is read', async () => {
  const typo = await gate({ reports: ALL, thresholds: 'tests.failed: 0\ncoverage.lines: 80' });
  assert.equal(typo.exitCode, 1);
  assert.match(typo.stdout, /::error::Input 'thresholds': unknown key 'coverage.lines' \(line 2\)/);
  assert.equal(typo.summary, '');
  const malformed = await gate({ reports: ALL, thresholds: 'findings.error: "at most 3"' });
  assert.match(malformed.stdout, /::error::Input 'thresholds': 'findings.error' \(line 1\): malformed condition/);
});

test('pull request: changed-line coverage from git, findings on changed lines, one comment created then updated', async () => {
  // 150 comments by others first: the gate's own lands on the second page of 100.
  github.seed(PR, 150);
  const inputs = {
    reports:
      'reports/real/pytest-junit.xml\nreports/real/coverage.xml\nreports/real/bandit.json\nreports/real/flake8.txt',
    thresholds: 'coverage.diff: ">= 90"\nfindings.new: 0\ntests.failed: 2',
    'min-changed-lines': '3',
  };
  const first = await gate(inputs, { pr: true });
  assert.equal(first.exitCode, 1, first.stdout);
  // Changed: lines 26-33 of shop/pricing.py; coverable 26, 28, 31, 32; covered 26 and 31.
  assert.equal(first.outputs['coverage-diff'], '50.00');
  assert.match(first.summary, /\| ❌ \| `coverage.diff` \| >= 90% \| 50.00% \| 2\/4 changed lines covered \|/);
  // bandit B602 on line 28 and flake8 E501 on line 31; bandit B404 (line 4) is old code.
  assert.match(first.summary, /\| ❌ \| `findings.new` \| &lt;= 0 \| 2 \|/);
  assert.match(first.summary, /`shop\/pricing.py`: 28, 32/);
  assert.ok(
    first.annotations.some(
      (a) => a.title === 'bandit B602 subprocess_popen_with_shell_equals_true (high) on a changed line',
    ),
  );
  assert.deepEqual(github.violations, []);
  const mine = () => github.comments(PR).filter((c) => c.login === 'github-actions[bot]');
  assert.equal(mine().length, 1);
  assert.match(mine()[0]?.body ?? '', /^<!-- adci:quality-gate id=default -->\n## ❌ Quality gate: failed/);
  assert.ok((mine()[0]?.body.length ?? 0) <= 65_536);

  // Second run, now passing thanks to the tolerance: the same comment is updated, not duplicated.
  github.requests.length = 0;
  const second = await gate(
    { ...inputs, 'min-changed-lines': '20', thresholds: 'coverage.diff: ">= 90"\ntests.failed: 2' },
    { pr: true },
  );
  assert.equal(second.exitCode, 0, second.stdout);
  assert.match(second.summary, /4 changed coverable line\(s\), fewer than min-changed-lines \(20\): not gated/);
  assert.equal(mine().length, 1);
  assert.match(mine()[0]?.body ?? '', /## ✅ Quality gate: passed/);
  const calls = github.requests.map((r) => `${r.method} ${r.query.page ?? ''} ${r.status}`);
  assert.deepEqual(calls, ['GET  200', 'GET 2 200', 'PATCH  200']);
  assert.equal(github.requests[0]?.query.per_page, '100');
  assert.deepEqual(github.violations, []);
  assert.ok(!second.stdout.includes(github.token), 'the token never appears in the log');
  // The fake really checks: a body GitHub would refuse is recorded as a violation.
  const refused = await fetch(`${github.url}/repos/${OWNER}/${REPO}/issues/${PR}/comments`, {
    method: 'POST',
    headers: { authorization: `token ${github.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'no body field' }),
  });
  assert.equal(refused.status, 422);
  assert.match(github.violations.join('\n'), /body: data should have required property 'body'/);
  assert.ok(second.masks.includes(github.token));
});

test('comment: on-failure does not create a comment for a passing gate', async () => {
  const result = await gate(
    { reports: 'reports/real/vitest-junit.xml', thresholds: 'tests.failed: 1', comment: 'on-failure' },
    { pr: true },
  );
  assert.equal(result.exitCode, 0, result.stdout);
  assert.deepEqual(
    github.requests.map((r) => r.method),
    ['GET'],
  );
  assert.equal(github.comments(PR).length, 0);
  // A failing gate creates it; with fail-on-failure false the step still passes, with a warning.
  const failing = await gate(
    {
      reports: 'reports/real/vitest-junit.xml',
      thresholds: 'tests.failed: 0',
      comment: 'on-failure',
      'fail-on-failure': 'false',
    },
    { pr: true },
  );
  assert.equal(failing.exitCode, 0, failing.stdout);
  assert.equal(failing.outputs.passed, 'false');
  assert.ok(failing.annotations.some((a) => a.level === 'warning' && /fail-on-failure is false/.test(a.message)));
  assert.equal(github.comments(PR).length, 1);
  // Passing again: the existing comment is updated so it no longer shows a stale failure.
  await gate(
    { reports: 'reports/real/vitest-junit.xml', thresholds: 'tests.failed: 1', comment: 'on-failure' },
    { pr: true },
  );
  assert.equal(github.comments(PR).length, 1);
  assert.match(github.comments(PR)[0]?.body ?? '', /Quality gate: passed/);
  assert.deepEqual(github.violations, []);
});

test('fork pull requests: the comment is skipped with a notice, the summary is kept', async () => {
  const result = await gate(
    { reports: 'reports/real/vitest-junit.xml', thresholds: 'tests.failed: 1' },
    { pr: true, fork: true },
  );
  assert.equal(result.exitCode, 0, result.stdout);
  assert.ok(result.annotations.some((a) => a.level === 'notice' && /comes from a fork/.test(a.message)));
  assert.match(result.summary, /Quality gate: passed/);
  assert.equal(github.requests.length, 0);
  // A token without write permission (403) is handled the same way.
  github.permission = 'read';
  const readOnly = await gate(
    { reports: 'reports/real/vitest-junit.xml', thresholds: 'tests.failed: 1' },
    { pr: true },
  );
  assert.equal(readOnly.exitCode, 0, readOnly.stdout);
  assert.ok(
    readOnly.annotations.some((a) => a.level === 'notice' && /cannot write pull-request comments/.test(a.message)),
  );
  assert.deepEqual(github.violations, []);
});

test('workflow_run: a fork pull request is gated and commented from the base repository', async () => {
  const result = await gate(
    {
      reports: 'reports/real/coverage.xml\nreports/real/pytest-junit.xml',
      thresholds: 'coverage.diff: ">= 40"\ntests.failed: 2',
      'pull-request-number': String(PR),
      'diff-base': base,
      'min-changed-lines': '1',
    },
    {
      event: { action: 'completed', workflow_run: { head_sha: head, event: 'pull_request', pull_requests: [] } },
      eventName: 'workflow_run',
    },
  );
  assert.equal(result.exitCode, 0, result.stdout);
  assert.equal(result.outputs['coverage-diff'], '50.00');
  assert.equal(github.comments(PR).length, 1);
  assert.match(github.comments(PR)[0]?.body ?? '', /Quality gate: passed/);
  assert.deepEqual(github.violations, []);
});

test('an over-size summary is trimmed under 1 MiB, annotations stay capped', async () => {
  const big = join(workspace, 'big');
  mkdirSync(big, { recursive: true });
  const cases: string[] = [];
  for (let i = 0; i < 3000; i++) {
    cases.push(
      `<testcase classname="suite.Big" name="test_${i}" time="0.${i % 10}"><failure message="boom ${i} ${'x'.repeat(400)}">${'stack line\n'.repeat(300)}</failure></testcase>`,
    );
  }
  writeFileSync(join(big, 'junit.xml'), `<testsuite name="big">${cases.join('')}</testsuite>`);
  const lines: string[] = [];
  for (let i = 0; i < 40_000; i++)
    lines.push(`src/module_${i % 500}.py:${i + 1}:1: E501 line too long (${'y'.repeat(300)})`);
  writeFileSync(join(big, 'flake8.txt'), `${lines.join('\n')}\n`);
  const result = await gate({ reports: 'big/*', thresholds: 'tests.failed: 0\nfindings.warning: 0' }, { pr: true });
  assert.equal(result.exitCode, 1);
  const size = Buffer.byteLength(result.summary);
  assert.ok(size <= 1024 * 1024, `summary is ${size} bytes`);
  assert.ok(size > 10_000, 'not emptied');
  assert.match(
    result.summary,
    /Some details were left out to stay within GitHub's size limit; the full result is in the report file/,
  );
  assert.match(result.summary, /\| ❌ \| `tests.failed` \| &lt;= 0 \| 3000 \|/);
  // The comment gets the same content within its own, smaller limit.
  const comment = github.comments(PR)[0]?.body ?? '';
  assert.ok(comment.length <= 65_536 && comment.length > 30_000, `comment is ${comment.length} characters`);
  assert.match(comment, /\| ❌ \| `tests.failed` \| &lt;= 0 \| 3000 \|/);
  assert.match(comment, /Some details were left out .* the full result is in the workflow run summary/);
  assert.deepEqual(github.violations, []);
  const counts = { error: 0, warning: 0, notice: 0 };
  for (const a of result.annotations) counts[a.level]++;
  assert.ok(counts.error <= 11 && counts.warning <= 10 && counts.notice <= 10, JSON.stringify(counts));
  assert.match(
    result.annotations.find((a) => a.title === 'More annotations not shown')?.message ?? '',
    /^4\d{4} more annotation/,
  );
});

test('an entity-expansion attack and a truncated file are rejected cleanly, or skipped when allowed', async () => {
  const bad = join(workspace, 'bad');
  mkdirSync(bad, { recursive: true });
  const lol = ['<!ENTITY lol "lol">'];
  for (let i = 1; i < 10; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
  writeFileSync(
    join(bad, 'bomb.xml'),
    `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n${lol.join('\n')}\n]>\n<testsuite><testcase name="&lol9;"/></testsuite>\n`,
  );
  const bomb = await gate({ reports: 'bad/bomb.xml', comment: 'false' });
  assert.equal(bomb.exitCode, 1);
  assert.match(
    bomb.stdout,
    /::error::bad\/bomb\.xml: line 2, column 1: DOCTYPE with an internal subset \(entity declarations\) is not allowed/,
  );
  const pytest = readFileSync(join(workspace, 'reports/real/pytest-junit.xml'), 'utf8');
  writeFileSync(join(bad, 'truncated.xml'), pytest.slice(0, 900));
  const truncated = await gate({ reports: 'bad/truncated.xml', comment: 'false' });
  assert.equal(truncated.exitCode, 1);
  assert.match(truncated.stdout, /::error::bad\/truncated\.xml: line \d+, column \d+: unexpected end of file/);
  const tolerant = await gate({
    reports: 'bad/*.xml\nreports/real/vitest-junit.xml',
    'ignore-malformed': 'true',
    thresholds: 'tests.failed: 1',
    comment: 'false',
  });
  assert.equal(tolerant.exitCode, 0, tolerant.stdout);
  assert.equal(
    tolerant.annotations.filter((a) => a.level === 'warning' && /skipped malformed report/.test(a.message)).length,
    2,
  );
  assert.match(tolerant.summary, /Skipped malformed report: bad\/bomb\.xml/);
});

test("baseline: a previous run's report gives coverage, findings and test deltas", async () => {
  const reportFile = join(workspace, 'previous.json');
  const first = await gate({
    reports: 'reports/real/coverage.lcov\nreports/real/flake8.txt\nreports/real/go-junit-report.xml',
    'report-file': reportFile,
    thresholds: '',
    comment: 'false',
  });
  assert.equal(first.exitCode, 0, first.stdout);
  assert.equal(first.outputs.report, reportFile);
  const second = await gate({
    reports:
      'reports/real/coverage.xml\nreports/real/flake8-junit.xml\nreports/real/mypy.txt\nreports/real/pytest-junit.xml',
    baseline: 'previous.json',
    thresholds: '',
    comment: 'false',
  });
  assert.equal(second.exitCode, 0, second.stdout);
  assert.match(second.summary, /### Compared with the baseline/);
  // Tests: 5 in go-junit-report.xml before, 7 in pytest-junit.xml now.
  assert.match(second.summary, /\| 0 pts \| 0 pts \| \+2 \| 3 \| 0 \| 2 \| 1 \|/);
  assert.match(
    second.summary,
    /\*\*Newly failing\*\*: `tests.test_pricing::test_total_is_wrong`, `tests.test_pricing::test_with_broken_fixture`/,
  );
});

test('working-directory: globs resolve inside it, annotations name repository-relative paths', async () => {
  mkdirSync(join(workspace, 'svc'), { recursive: true });
  cpSync(join(workspace, 'reports/real/pytest-junit.xml'), join(workspace, 'svc/junit.xml'));
  const result = await gate({ reports: 'junit.xml', 'working-directory': 'svc', comment: 'false' });
  assert.equal(result.exitCode, 1);
  const failure = result.annotations.find((a) => a.title === 'Test failed: tests.test_pricing::test_total_is_wrong');
  assert.equal(failure?.file, 'svc/tests/test_pricing.py');
});

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
import { ADCI_VERSION } from '@adci/common';

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
  // pip-audit could audit none of its dependencies offline: findings.scan-errors: 0 is implied.
  assert.match(result.summary, /## ❌ Quality gate: failed \(6 of 7 checks\)/);
  assert.match(result.summary, /\| ❌ \| `findings.scan-errors` \| &lt;= 0 \(implied: findings are gated\) \| 9 \|/);
  assert.match(result.summary, /\| ❌ \| `bandit.high` \| &lt;= 0 \| 4 \|/);
  assert.match(result.summary, /\| 31 \| 18 \| 6 \| 2 \| 5 \| 1 \|/);
  assert.match(result.summary, /\| bandit \| 4 \| 0 \| 6 \| 0 \| 4 \| 0 \| 6 \|/);
  assert.match(result.summary, /\| npm-audit \| 2 \| 0 \| 0 \| 2 \| 0 \| 0 \| 0 \|/);
  assert.match(result.summary, /Slowest tests/);
  // Annotations: at most 10 per level, errors first, then a notice naming how many more exist.
  // (The gate's own warnings, titled 'Quality gate', are not per-finding annotations.)
  const gateAnnotations = result.annotations.filter((a) => a !== failure && a.title !== 'Quality gate');
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
  // The log starts with the adci version (a run traces to a release from its log, not only its summary).
  assert.equal(typo.stdout.split('\n')[0], `adci ${ADCI_VERSION}`);
  // Nothing was read or judged: the summary holds only the version footer every run writes.
  assert.equal(typo.summary.replace(/\n<sub>adci [^<]+<\/sub>\n\n$/, ''), '');
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
    thresholds: 'tests.failed: 10',
    comment: 'false',
  });
  assert.equal(first.exitCode, 0, first.stdout);
  assert.equal(first.outputs.report, reportFile);
  const second = await gate({
    reports:
      'reports/real/coverage.xml\nreports/real/flake8-junit.xml\nreports/real/mypy.txt\nreports/real/pytest-junit.xml',
    baseline: 'previous.json',
    thresholds: 'tests.failed: 10',
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

// ---- Fail closed (issue 10): garbage, empty or mis-shaped input is an error naming the file.

const SHAPES = join(FIXTURES, 'shapes');

function badFile(name: string, text: string): string {
  const dir = join(workspace, 'garbage');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), text);
  return `garbage/${name}`;
}

test('a report forced to a format whose content is not that format fails naming the file and the shape', async () => {
  const traceback =
    'Traceback (most recent call last):\n  File "/usr/bin/flake8", line 5, in <module>\nModuleNotFoundError: No module named flake8\n';
  const cases: [string, string, RegExp][] = [
    ['flake8', badFile('flake8-crash.txt', traceback), /flake8-crash\.txt: not flake8 output: no line has the shape/],
    ['mypy', badFile('mypy-missing.txt', 'bash: mypy: command not found\n'), /mypy-missing\.txt: not mypy output/],
    [
      'bandit',
      badFile('bandit-empty-object.json', '{}'),
      /bandit-empty-object\.json: not a bandit report: expected an object with a "results" list .*empty object/,
    ],
    ['bandit', badFile('bandit-eslint.json', '[{"filePath":"a.js","messages":[]}]'), /not a bandit report/],
    ['eslint', badFile('eslint-bandit.json', '{"results":[],"errors":[]}'), /not a eslint report/],
    ['pylint', badFile('pylint-object.json', '{"statistics":{}}'), /not a pylint report/],
    ['pip-audit', badFile('pip-audit-object.json', '{"fixes":[]}'), /not a pip-audit report/],
    ['safety', badFile('safety-object.json', '{"report_meta":{}}'), /not a safety report/],
    [
      'sarif',
      badFile('sarif-empty.json', '{"version":"2.1.0"}'),
      /not a sarif report: expected an object with a "runs" list/,
    ],
    [
      'npm-audit',
      'reports/shapes/npm-audit-enolock.json',
      /npm-audit-enolock\.json: is npm's error output, not an audit report: ENOLOCK: This command requires an existing lockfile/,
    ],
    ['npm-audit', 'reports/shapes/npm6-audit-enoaudit.json', /is npm's error output, not an audit report: ENOAUDIT/],
    ['lcov', badFile('lcov-garbage.info', 'Error: no coverage data\n'), /not LCOV output/],
    ['bandit', badFile('bandit-empty.json', ''), /bandit-empty\.json: is empty, which a bandit report never is/],
    ['junit', badFile('junit-empty.xml', ''), /junit-empty\.xml: is empty/],
  ];
  mkdirSync(join(workspace, 'reports/shapes'), { recursive: true });
  for (const name of readdirSync(SHAPES)) cpSync(join(SHAPES, name), join(workspace, 'reports/shapes', name));
  for (const [format, file, expected] of cases) {
    const result = await gate({ reports: `${format}: ${file}`, thresholds: 'findings.total: 100', comment: 'false' });
    assert.equal(result.exitCode, 1, `${format}: ${file} passed:\n${result.stdout}`);
    assert.match(result.annotations.find((a) => a.level === 'error')?.message ?? '', expected, `${format}: ${file}`);
    assert.equal(result.outputs.passed, undefined, 'no verdict on unreadable input');
  }
  // Detected (not forced): npm's error object and an empty file are errors too.
  const enolock = await gate({ reports: 'reports/shapes/npm-audit-enolock.json', comment: 'false' });
  assert.equal(enolock.exitCode, 1);
  assert.match(enolock.stdout, /is npm's error output/);
  const empty = await gate({ reports: 'garbage/bandit-empty.json', comment: 'false' });
  assert.match(empty.stdout, /::error::garbage\/bandit-empty\.json: is empty: did the tool run\?/);
  // Where the tool writes nothing when clean, an empty forced file is a clean result.
  const clean = await gate({
    reports: 'flake8: garbage/bandit-empty.json',
    thresholds: 'findings.total: 0',
    comment: 'false',
  });
  assert.equal(clean.exitCode, 0, clean.stdout);
});

test('every real shape: large bandit scans, npm 6 / 7+ / fix --dry-run, pip-audit 1.x and 2.x', async () => {
  mkdirSync(join(workspace, 'reports/shapes'), { recursive: true });
  for (const name of readdirSync(SHAPES)) cpSync(join(SHAPES, name), join(workspace, 'reports/shapes', name));
  const result = await gate({
    reports: [
      'reports/shapes/bandit-large.json',
      'reports/shapes/npm6-audit.json',
      'reports/shapes/npm-audit-fix-dry-run.json',
      'reports/shapes/pip-audit-1.json',
    ].join('\n'),
    thresholds: 'security.high: 100\nfindings.scan-errors: 5',
    'report-file': 'out/shapes.json',
    comment: 'false',
  });
  assert.equal(result.exitCode, 0, result.stdout);
  const report = JSON.parse(readFileSync(result.outputs.report as string, 'utf8')) as {
    reports: { path: string; format: string }[];
    findings: {
      counts: Record<string, { total: number; high: number }>;
      scanErrors: { count: number; list: { tool: string; file?: string; reason: string }[] };
    };
  };
  assert.deepEqual(
    report.reports.map((r) => r.format),
    ['bandit', 'npm-audit', 'npm-audit', 'pip-audit'],
  );
  // bandit -lll over pip's source: 12 high results, written after ~170 kB of per-file metrics.
  assert.equal(report.findings.counts.bandit?.high, 12);
  // npm 6: two advisories; fix --dry-run: the nested npm 7 report's two packages.
  assert.equal(report.findings.counts['npm-audit']?.total, 4);
  // pip-audit 1.x bare list: three vulnerabilities; certifi was skipped (not audited).
  assert.equal(report.findings.counts['pip-audit']?.total, 3);
  // Scan errors: bandit's unparsable file and pip-audit's skipped dependency, in a key of their own.
  assert.deepEqual(
    report.findings.scanErrors.list.map((e) => e.tool),
    ['bandit', 'pip-audit'],
  );
  assert.match(result.summary, /\| ✅ \| `findings.scan-errors` \| &lt;= 5 \| 2 \|/);
  assert.match(result.summary, /\*\*Not scanned\*\* \(2, threshold key `findings.scan-errors`\)/);
  assert.match(result.summary, /scan\/legacy\.py.*syntax error while parsing AST from file/);
  // Gating findings without naming scan-errors implies findings.scan-errors: 0.
  const implied = await gate({
    reports: 'reports/shapes/bandit-large.json',
    thresholds: 'security.high: 100',
    comment: 'false',
  });
  assert.equal(implied.exitCode, 1, implied.stdout);
  assert.match(implied.summary, /\| ❌ \| `findings.scan-errors` \| &lt;= 0 \(implied: findings are gated\) \| 1 \|/);
});

test('JUnit: the same test in two suites is two tests; status="disabled" is skipped; an empty suite warns', async () => {
  const file = badFile(
    'matrix.xml',
    `<testsuites>
  <testsuite name="pytest" tests="2"><testcase classname="tests.test_api" name="test_get" time="0.1"/>
    <testcase classname="tests.test_api" name="test_off" status="disabled"/></testsuite>
  <testsuite name="pytest" tests="1"><testcase classname="tests.test_api" name="test_get" time="0.1"><failure message="boom"/></testcase></testsuite>
  <testsuite name="pytest" tests="1"><testcase classname="tests.test_api" name="test_get" time="0.1"/></testsuite>
  <testsuite name="integration" tests="12" failures="3"></testsuite>
</testsuites>`,
  );
  const result = await gate({ reports: file, thresholds: 'tests.failed: 0', comment: 'false' });
  assert.equal(result.exitCode, 1, result.stdout);
  assert.equal(result.outputs['tests-failed'], '1');
  assert.match(result.summary, /\| 4 \| 2 \| 1 \| 0 \| 1 \| 0 \|/);
  assert.ok(
    result.annotations.some(
      (a) =>
        a.level === 'warning' && /suite 'integration' declares 12 test\(s\) but holds no test cases/.test(a.message),
    ),
  );
  assert.match(result.summary, /suite 'integration' declares 12 test\(s\) but holds no test cases/);
});

test('SARIF: only kind "fail" counts, only accepted suppressions hide, any location may be on a changed line', async () => {
  const result = (kind: string | undefined, suppression: object | undefined, locations: object[]) => ({
    ruleId: 'R1',
    level: 'error',
    ...(kind ? { kind } : {}),
    ...(suppression ? { suppressions: [suppression] } : {}),
    message: { text: `kind ${kind ?? 'absent'}` },
    locations,
  });
  const at = (uri: string, line: number) => ({
    physicalLocation: { artifactLocation: { uri }, region: { startLine: line } },
  });
  const sarif = {
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'scanner', rules: [{ id: 'R1' }] } },
        results: [
          result('pass', undefined, [at('shop/pricing.py', 28)]),
          result('notApplicable', undefined, [at('shop/pricing.py', 28)]),
          result('informational', undefined, [at('shop/pricing.py', 28)]),
          result(undefined, { kind: 'inSource', status: 'accepted' }, [at('shop/pricing.py', 28)]),
          result(undefined, { kind: 'inSource' }, [at('shop/pricing.py', 28)]),
          result(undefined, { kind: 'external', status: 'underReview' }, [at('shop/pricing.py', 2)]),
          result(undefined, { kind: 'external', status: 'rejected' }, [at('shop/pricing.py', 3)]),
          result('fail', undefined, [at('shop/pricing.py', 1), at('shop/pricing.py', 28)]),
        ],
      },
    ],
  };
  const file = badFile('kinds.sarif', JSON.stringify(sarif));
  const run = await gate(
    { reports: file, thresholds: 'findings.total: 10\nfindings.new: 10', 'min-changed-lines': '1' },
    { pr: true },
  );
  assert.equal(run.exitCode, 0, run.stdout);
  // underReview, rejected and the explicit fail remain; the fail's second location is on changed line 28.
  assert.match(run.summary, /\| ✅ \| `findings.total` \| &lt;= 10 \| 3 \|/);
  assert.match(run.summary, /\| ✅ \| `findings.new` \| &lt;= 10 \| 1 \|/);
});

test('an empty thresholds input applies the documented defaults and says so; a mapping without checks is an input error', async () => {
  const empty = await gate({ reports: 'reports/real/pytest-junit.xml', thresholds: '', comment: 'false' });
  assert.equal(empty.exitCode, 1, empty.stdout);
  assert.match(empty.summary, /\| ❌ \| `tests.failed` \| &lt;= 0 \(default: thresholds was empty\) \| 2 \|/);
  assert.ok(empty.annotations.some((a) => a.level === 'warning' && /thresholds input is empty/.test(a.message)));
  for (const thresholds of ['{}', '# nothing\n', 'null']) {
    const none = await gate({ reports: 'reports/real/pytest-junit.xml', thresholds, comment: 'false' });
    assert.equal(none.exitCode, 1, thresholds);
    assert.match(none.stdout, /::error::Input 'thresholds': holds no checks/, thresholds);
    assert.equal(none.outputs.passed, undefined);
  }
});

const UNICORN =
  '<!DOCTYPE html>\n<html><head><title>Unicorn! &middot; GitHub</title></head><body><p>No server is currently available to service your request.</p></body></html>\n';

test('the PR comment rides out 502, 429 and a reset connection with back-off; the gate verdict is untouched', async () => {
  github.fail(
    { status: 502, body: UNICORN, contentType: 'text/html; charset=utf-8' },
    { status: 429, body: JSON.stringify({ message: 'API rate limit exceeded' }), headers: { 'retry-after': '1' } },
    { reset: true },
  );
  const result = await gate({ reports: 'reports/real/vitest-junit.xml', thresholds: 'tests.failed: 1' }, { pr: true });
  assert.equal(result.exitCode, 0, result.stdout);
  assert.equal(github.comments(PR).length, 1, 'the comment was written once the API recovered');
  assert.match(github.comments(PR)[0]?.body ?? '', /Quality gate: passed/);
  const statuses = github.requests.map((r) => r.status);
  assert.deepEqual(statuses.slice(0, 3), [502, 429, 0]);
  const afterRateLimit = (github.requests[3]?.at ?? 0) - (github.requests[1]?.at ?? 0);
  assert.ok(afterRateLimit >= 950, `retried ${afterRateLimit} ms after the 429; Retry-After asked for 1 s`);
  assert.match(result.stdout, /retrying the pull-request comment/);
  assert.ok(!result.stdout.includes('<!DOCTYPE') && !result.stdout.includes('Unicorn'), 'raw HTML in the log');
  assert.ok(!result.annotations.some((a) => /comment/i.test(`${a.title ?? ''} ${a.message}`)));
  assert.deepEqual(github.violations, []);
});

test('a PR comment that still fails is a warning naming the comment; the gate verdict stands', async () => {
  const outage = Array.from({ length: 12 }, () => ({
    status: 502,
    body: UNICORN,
    contentType: 'text/html; charset=utf-8',
  }));
  github.fail(...outage);
  const passing = await gate({ reports: 'reports/real/vitest-junit.xml', thresholds: 'tests.failed: 1' }, { pr: true });
  assert.equal(passing.exitCode, 0, passing.stdout);
  assert.equal(passing.outputs.passed, 'true');
  const warnings = passing.annotations.filter((a) => a.level === 'warning');
  assert.equal(warnings.length, 1, JSON.stringify(passing.annotations));
  assert.match(
    warnings[0]?.message ?? '',
    /pull-request comment \(comment-id 'default'\) on #\d+ was not written: GitHub answered 502 Bad Gateway \(an HTML error page\) after \d+ attempts; the gate's verdict \(passed\) stands/,
  );
  const visible = [passing.stdout, passing.stderr, passing.summary, JSON.stringify(passing.annotations)].join('\n');
  assert.ok(!visible.includes('<!DOCTYPE') && !visible.includes('Unicorn') && !visible.includes('<html'), visible);

  github.reset();
  github.fail(...outage);
  const failing = await gate({ reports: 'reports/real/vitest-junit.xml', thresholds: 'tests.failed: 0' }, { pr: true });
  assert.equal(failing.exitCode, 1);
  const error = failing.annotations.find((a) => a.level === 'error');
  assert.doesNotMatch(error?.message ?? '', /comment|502/);
  assert.ok(failing.annotations.some((a) => a.level === 'warning' && /verdict \(failed\) stands/.test(a.message)));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGate, readBaseline, type GateReport, type GateSettings } from './gate.ts';
import { parseThresholds } from './thresholds.ts';
import { parseUnifiedDiff } from './diff.ts';
import { parseReportPatterns } from './patterns.ts';
import { parseSeconds } from './parsers/junit.ts';
import { renderMarkdown, renderComment, COMMENT_LIMIT_CHARS } from './render/markdown.ts';
import { selectAnnotations } from './render/annotations.ts';
import { renderTerminal } from './render/terminal.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/reports');
const PLACEHOLDER = '/home/runner/work/shop/shop';

/** The fixtures as a checkout would hold them: tool paths point into the workspace. */
function workspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'qg-unit-'));
  for (const dir of ['real', 'handmade']) {
    mkdirSync(join(root, dir));
    for (const name of readdirSync(join(FIXTURES, dir))) {
      const text = readFileSync(join(FIXTURES, dir, name), 'utf8');
      writeFileSync(join(root, dir, name), text.split(PLACEHOLDER).join(root));
    }
  }
  return root;
}

const root = workspace();
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

async function gate(reports: string[], thresholds = '', extra: Partial<GateSettings> = {}): Promise<GateReport> {
  return await runGate({
    reports: parseReportPatterns(reports),
    root,
    thresholds: await parseThresholds(thresholds),
    minChangedLines: 0,
    ignoreMalformed: false,
    ...extra,
  });
}

test('pytest JUnit: counts, 1-based lines, failure text', async () => {
  const t = (await gate(['real/pytest-junit.xml'])).tests;
  assert.deepEqual([t.tests, t.passed, t.failed, t.errored, t.skipped, t.flaky], [7, 4, 1, 1, 1, 0]);
  const failure = t.failures.find((f) => f.name === 'test_total_is_wrong');
  assert.equal(failure?.file, 'tests/test_pricing.py');
  assert.equal(failure?.line, 21);
  assert.match(failure?.details ?? '', /assert 3.0 == 4/);
  assert.equal(t.slowest[0]?.name, 'test_slow');
});

test('jest-junit, vitest and mocha JUnit', async () => {
  for (const file of ['real/jest-junit.xml', 'real/vitest-junit.xml']) {
    const t = (await gate([file])).tests;
    assert.deepEqual([t.tests, t.passed, t.failed, t.skipped], [4, 2, 1, 1], file);
  }
  // mocha-junit-reporter leaves pending tests out unless told to include them.
  const mocha = (await gate(['real/mocha-junit.xml'])).tests;
  assert.deepEqual([mocha.tests, mocha.passed, mocha.failed, mocha.skipped], [3, 2, 1, 0]);
});

test('Surefire 3.5.2 with rerunFailingTestsCount=2: flaky, rerun failures and errors, one file per class', async () => {
  const pricing = (await gate(['real/surefire-TEST-com.example.shop.PricingTest.xml'])).tests;
  // Counted from the <testcase> elements: with reruns, Surefire's <testsuite> attributes are wrong.
  assert.match(
    readFileSync(join(root, 'real/surefire-TEST-com.example.shop.PricingTest.xml'), 'utf8'),
    /<testsuite [^>]*name="com\.example\.shop\.PricingTest" [^>]*tests="1" errors="0" skipped="0" failures="1">/,
  );
  assert.deepEqual(
    [pricing.tests, pricing.passed, pricing.failed, pricing.errored, pricing.skipped, pricing.flaky],
    [5, 3, 1, 0, 1, 1],
  );
  const inventory = (await gate(['real/surefire-TEST-com.example.shop.InventoryTest.xml'])).tests;
  assert.deepEqual(
    [inventory.tests, inventory.passed, inventory.failed, inventory.errored, inventory.skipped, inventory.flaky],
    [3, 2, 0, 1, 0, 0],
  );
  const t = (await gate(['real/surefire-TEST-*.xml'])).tests;
  assert.deepEqual([t.tests, t.passed, t.failed, t.errored, t.skipped, t.flaky], [8, 5, 1, 1, 1, 1]);
  assert.equal(t.durationMs, 84, 'the sum of the <testcase> times');
  const byOutcome = Object.fromEntries(t.failures.map((f) => [f.outcome ?? 'none', f] as const));
  assert.equal(byOutcome.failed?.id, 'com.example.shop.PricingTest::totalsCart');
  assert.equal(byOutcome.failed?.message, 'expected: <4.0> but was: <3.0>');
  assert.match(
    byOutcome.failed?.details ?? '',
    /at com\.example\.shop\.PricingTest\.totalsCart\(PricingTest\.java:26\)/,
  );
  assert.equal(byOutcome.errored?.id, 'com.example.shop.InventoryTest::connectsToInventory');
  assert.equal(byOutcome.errored?.message, 'Connection refused: inventory.internal');
  assert.equal(byOutcome.flaky?.id, 'com.example.shop.PricingTest::warmCache');
  assert.match(byOutcome.flaky?.message ?? '', /^cache cold on first run/);
  // Older Surefire versions wrote times with the JVM locale's thousands separators.
  assert.equal(Math.round(parseSeconds('1,204.311')), 1_204_311);
});

test('go-junit-report v2.1.0: a parent test and each of its subtests are test cases', async () => {
  const t = (await gate(['real/go-junit-report.xml'])).tests;
  assert.deepEqual([t.tests, t.passed, t.failed, t.errored, t.skipped, t.flaky], [5, 3, 1, 0, 1, 0]);
  const failure = t.failures.find((f) => f.outcome === 'failed');
  assert.equal(failure?.id, 'example.com/shop/pricing::TestTotal');
  assert.equal(failure?.message, 'Failed', "go-junit-report's fixed message; the reason is in the text");
  assert.match(failure?.details ?? '', /pricing_test\.go:21: Total\(\[1 2\]\) = 3, want 4/);
});

test('coverage: Cobertura resolved against <sources>, LCOV, JaCoCo, merged per file', async () => {
  const cobertura = (await gate(['real/coverage.xml'])).coverage;
  assert.deepEqual(cobertura.lines, { covered: 16, total: 29, percent: (16 / 29) * 100 });
  assert.deepEqual([cobertura.branches.covered, cobertura.branches.total], [4, 6]);
  assert.deepEqual(cobertura.files.map((f) => f.file).sort(), ['shop/config.py', 'shop/pricing.py']);
  const lcov = (await gate(['real/coverage.lcov'])).coverage;
  assert.deepEqual([lcov.lines.covered, lcov.lines.total], [16, 29]);
  assert.deepEqual([lcov.branches.covered, lcov.branches.total], [4, 6]);
  const both = (await gate(['real/coverage.xml', 'real/coverage.lcov'])).coverage;
  assert.deepEqual([both.lines.covered, both.lines.total], [16, 29], 'the same lines are not counted twice');
  // jacoco-maven-plugin 0.8.12 writes a DOCTYPE naming report.dtd: accepted, never fetched.
  assert.match(
    readFileSync(join(root, 'real/jacoco.xml'), 'utf8'),
    /^<\?xml[^>]*\?><!DOCTYPE report PUBLIC "-\/\/JACOCO\/\/DTD Report 1\.1\/\/EN" "report\.dtd">/,
  );
  const jacoco = (await gate(['real/jacoco.xml'])).coverage;
  assert.deepEqual(
    [jacoco.lines.covered, jacoco.lines.total, jacoco.branches.covered, jacoco.branches.total],
    [17, 20, 6, 8],
    'the totals of its <report> LINE and BRANCH counters',
  );
  assert.deepEqual(
    jacoco.files.map((f) => [f.file, f.lines.covered, f.lines.total, f.branches.covered, f.branches.total]).sort(),
    [
      ['com/example/shop/Inventory.java', 9, 10, 1, 2],
      ['com/example/shop/Pricing.java', 8, 10, 5, 6],
    ],
  );
  // c8 writes Cobertura against <source>, LCOV relative to its working directory (web/).
  const c8 = (await gate(['real/c8-cobertura.xml', 'real/c8-lcov.info'])).coverage;
  assert.deepEqual(c8.files.map((f) => f.file).sort(), ['src/cart.js', 'web/src/cart.js']);
});

test('findings from every lint and security format, normalised', async () => {
  const counts = async (file: string) => (await gate([file])).findings.counts;
  assert.deepEqual(pick((await counts('real/flake8.txt')).flake8), { error: 1, warning: 2, note: 0, total: 3 });
  assert.deepEqual((await counts('real/flake8-junit.xml')).flake8, (await counts('real/flake8.txt')).flake8);
  assert.equal((await counts('real/mypy.txt')).mypy?.error, 3);
  assert.deepEqual((await counts('real/mypy.jsonl')).mypy, (await counts('real/mypy.txt')).mypy);
  assert.deepEqual((await counts('real/mypy-junit.xml')).mypy, (await counts('real/mypy.txt')).mypy);
  const mypyJunit = (await gate(['real/mypy-junit.xml'])).findings.list;
  assert.deepEqual(
    mypyJunit.map((f) => `${f.file}:${f.line}`),
    ['shop/config.py:9', 'shop/config.py:13', 'shop/pricing.py:18'],
    'real locations come from the failure text, not line="1"',
  );
  assert.deepEqual((await counts('real/pylint.json')).pylint, (await counts('real/pylint-json2.json')).pylint);
  assert.equal((await counts('real/pylint.json')).pylint?.error, 1);
  const bandit = (await counts('real/bandit.json')).bandit;
  assert.deepEqual([bandit?.high, bandit?.medium, bandit?.low, bandit?.total], [2, 0, 3, 5]);
  assert.deepEqual((await counts('real/bandit.sarif')).bandit, bandit);
  const eslint = (await counts('real/eslint.json')).eslint;
  assert.deepEqual([eslint?.error, eslint?.warning], [2, 2]);
  assert.deepEqual(pick((await counts('real/eslint.sarif')).eslint), pick(eslint));
  assert.deepEqual(pick((await counts('real/eslint-checkstyle.xml')).eslint), pick(eslint));
  const tsc = (await gate(['real/tsc.txt'])).findings.list;
  assert.deepEqual(
    tsc.map((f) => `${f.tool} ${f.rule} ${f.severity} ${f.file}:${f.line}`),
    ['tsc TS2322 error types/price.mts:11', 'tsc TS2551 error types/price.mts:14'],
  );
  assert.equal((await counts('real/pip-audit-offline.json'))['pip-audit']?.total, 0);
  assert.equal((await counts('handmade/pip-audit.json'))['pip-audit']?.error, 4);
  assert.equal((await counts('handmade/safety-1.json')).safety?.total, 3);
  const safety2 = (await counts('handmade/safety-2.json')).safety;
  assert.deepEqual([safety2?.critical, safety2?.high, safety2?.total], [1, 1, 3]);
  const npm = (await counts('handmade/npm-audit.json'))['npm-audit'];
  assert.deepEqual([npm?.critical, npm?.total], [2, 2]);
  const f = (await gate(['real/bandit.json'])).findings.list.find((x) => x.rule.startsWith('B602'));
  assert.deepEqual([f?.file, f?.line, f?.severity, f?.security], ['shop/pricing.py', 28, 'error', 'high']);
});

function pick(c: Record<string, number> | undefined) {
  return c && { error: c.error, warning: c.warning, note: c.note, total: c.total };
}

test('thresholds pass and fail, bare numbers mean "at most" for counts and "at least" for coverage', async () => {
  const r = await gate(
    ['real/pytest-junit.xml', 'real/coverage.xml', 'real/bandit.json'],
    'tests.failed: 0\ncoverage.line: 50\ncoverage.branch: ">= 70"\nbandit.high: 0\nsecurity.low: "<= 3"\ncoverage.file: 10',
  );
  const byKey = Object.fromEntries(r.conditions.map((c) => [c.key, c]));
  assert.equal(byKey['tests.failed']?.passed, false);
  assert.equal(byKey['tests.failed']?.actual, '2');
  assert.equal(byKey['coverage.line']?.passed, true);
  assert.equal(byKey['coverage.line']?.actual, '55.17%');
  assert.equal(byKey['coverage.branch']?.passed, false);
  assert.equal(byKey['bandit.high']?.passed, false);
  assert.equal(byKey['security.low']?.passed, true);
  assert.equal(byKey['coverage.file']?.passed, false);
  assert.match(byKey['coverage.file']?.note ?? '', /shop\/config\.py/);
  assert.equal(byKey['tests.min']?.passed, true, 'tests.min is added when tests are gated');
  assert.equal(r.passed, false);
});

test('unknown keys and malformed conditions are input errors', async () => {
  await assert.rejects(async () => parseThresholds('coverage.lines: 80'), /unknown key 'coverage.lines' \(line 1\)/);
  await assert.rejects(async () => parseThresholds('tests.failed: "few"'), /malformed condition 'few'/);
  await assert.rejects(async () => parseThresholds('coverage.line: 180'), /over 100%/);
  await assert.rejects(async () => parseThresholds('findings.error: 1.5'), /whole number/);
  await assert.rejects(async () => parseThresholds('- a'), /mapping/);
  assert.deepEqual(
    (await parseThresholds('coverage:\n  line: 80\nbandit.high: 0')).map((t) => `${t.key} ${t.operator} ${t.value}`),
    ['coverage.line >= 80', 'bandit.high <= 0'],
  );
});

test('no tests found fails unless allowed; a missing tool report fails its per-tool key', async () => {
  const r = await gate(['real/coverage.xml'], 'tests.failed: 0\nbandit.high: 0');
  assert.equal(r.conditions.find((c) => c.key === 'tests.min')?.passed, false);
  assert.equal(r.conditions.find((c) => c.key === 'bandit.high')?.actual, 'no bandit report');
  const allowed = await gate(['real/coverage.xml'], 'tests.failed: 0\ntests.min: 0');
  assert.equal(allowed.passed, true);
});

test('changed lines: diff coverage, findings on changed lines, min-changed-lines', async () => {
  const diff = [
    'diff --git a/shop/pricing.py b/shop/pricing.py',
    '--- a/shop/pricing.py',
    '+++ b/shop/pricing.py',
    '@@ -7,0 +8,2 @@ def x',
    '@@ -20 +22,7 @@',
    '+++ /dev/null',
    '@@ -1,3 +0,0 @@',
  ].join('\n');
  const changedLines = parseUnifiedDiff(diff);
  assert.deepEqual([...(changedLines.get('shop/pricing.py') ?? [])], [8, 9, 22, 23, 24, 25, 26, 27, 28]);
  const r = await gate(['real/coverage.xml', 'real/bandit.json'], 'coverage.diff: 90\nfindings.new: 0', {
    changedLines,
  });
  const d = r.coverage.diff;
  assert.ok(d && d.total > 0);
  assert.equal(r.conditions.find((c) => c.key === 'findings.new')?.actual, '2');
  const tolerant = await gate(['real/coverage.xml'], 'coverage.diff: 90', { changedLines, minChangedLines: 20 });
  assert.equal(tolerant.conditions[0]?.passed, true);
  assert.match(tolerant.conditions[0]?.note ?? '', /fewer than min-changed-lines \(20\)/);
  const push = await gate(['real/coverage.xml'], 'coverage.diff: 90');
  assert.equal(push.conditions[0]?.passed, true);
  assert.equal(push.conditions[0]?.actual, 'n/a');
});

test('baseline deltas: coverage, new and fixed findings, newly failing tests', async () => {
  const before: unknown = JSON.parse(
    JSON.stringify(await gate(['real/coverage.lcov', 'real/flake8.txt', 'real/go-junit-report.xml'])),
  );
  const after = await gate(
    ['real/c8-lcov.info', 'real/flake8-junit.xml', 'real/mypy.txt', 'real/pytest-junit.xml'],
    '',
    {
      baseline: readBaseline(before, 'baseline'),
    },
  );
  const b = after.baseline;
  assert.ok(b);
  assert.equal(b.newFindings, 3);
  assert.equal(b.fixedFindings, 0);
  assert.deepEqual(b.newlyFailing.sort(), [
    'tests.test_pricing::test_total_is_wrong',
    'tests.test_pricing::test_with_broken_fixture',
  ]);
  assert.equal(b.newlySkipped.length, 1);
  assert.ok(b.coverageLine !== null);
  assert.throws(() => readBaseline({ hello: 1 }, 'baseline'), /not a quality-gate report/);
});

test('malformed and truncated files name the file, line and column, or are skipped when allowed', async () => {
  const text = readFileSync(join(root, 'real/pytest-junit.xml'), 'utf8');
  writeFileSync(join(root, 'truncated.xml'), text.slice(0, 700));
  await assert.rejects(
    async () => gate(['truncated.xml']),
    /truncated\.xml: line 1, column \d+: unexpected end of file/,
  );
  const r = await gate(['truncated.xml', 'real/vitest-junit.xml'], 'tests.failed: 1', { ignoreMalformed: true });
  assert.equal(r.skippedReports.length, 1);
  assert.equal(r.tests.tests, 4, 'nothing of the broken file is counted');
  writeFileSync(join(root, 'bad.json'), '{"results": [1,\n  }');
  await assert.rejects(async () => gate(['bandit: bad.json']), /bad\.json: line 2, column \d+: invalid JSON/);
  writeFileSync(join(root, 'cut.json'), '{"results": [\n  {"filename":');
  await assert.rejects(
    async () => gate(['bandit: cut.json']),
    /cut\.json: line 2, column 15: invalid JSON \(Unexpected end of JSON input/,
  );
  assert.deepEqual(
    (await gate(['real/*-junit.xml', '!**/mocha-*', '!real/jest-junit.xml'])).reports.map((x) => x.path),
    ['real/flake8-junit.xml', 'real/mypy-junit.xml', 'real/pytest-junit.xml', 'real/vitest-junit.xml'],
  );
});

test('the summary is trimmed least important first to fit a budget, the verdict always kept', async () => {
  const r = await gate(['real/*', 'handmade/*.json'], 'tests.failed: 0\nfindings.error: 0');
  const full = renderMarkdown(r);
  assert.match(full, /Slowest tests/);
  assert.match(full, /\| ❌ \| `tests.failed` \| &lt;= 0 \| 8 \|/);
  const small = renderMarkdown(r, { limit: 3000, fullReportHint: 'report.json' });
  assert.ok(Buffer.byteLength(small) <= 3000, `${Buffer.byteLength(small)} bytes`);
  assert.match(small, /`tests.failed`/);
  assert.doesNotMatch(small, /Slowest tests/);
  assert.match(small, /full result is in report\.json/);
  const comment = renderComment(r, { id: 'x' });
  assert.ok(comment.startsWith('<!-- adci:quality-gate id=x -->'));
  assert.ok(comment.length <= COMMENT_LIMIT_CHARS);
  assert.match(renderTerminal(r), /Quality gate: FAILED/);
});

test('annotations: errors first, at most 10 per level, then one notice for the rest', async () => {
  const r = await gate(['real/*', 'handmade/*.json']);
  const a = selectAnnotations(r, { perLevel: 10, fullListHint: 'the job summary' });
  const levels = a.map((x) => x.level);
  assert.equal(levels.filter((l) => l === 'error').length, 10);
  assert.ok(levels.filter((l) => l === 'notice').length <= 10);
  assert.deepEqual(
    levels,
    [...levels].sort((x, y) => ['error', 'warning', 'notice'].indexOf(x) - ['error', 'warning', 'notice'].indexOf(y)),
  );
  assert.match(a.at(-1)?.message ?? '', /more annotation\(s\) not shown .*The full list is in the job summary/);
});

test('an empty report needs its format named; an unknown file or format prefix is an error', async () => {
  writeFileSync(join(root, 'flake8-clean.txt'), '');
  const named = await gate(['flake8: flake8-clean.txt'], 'flake8.error: 0');
  assert.equal(named.passed, true);
  assert.deepEqual(named.reports, [{ path: 'flake8-clean.txt', format: 'flake8' }]);
  // An empty file of unknown origin proves nothing: it is an error, not a clean result.
  await assert.rejects(
    async () => gate(['flake8-clean.txt'], 'flake8.error: 0'),
    /flake8-clean\.txt: is empty: did the tool run\?/,
  );
  writeFileSync(join(root, 'notes.txt'), 'just some words\n');
  await assert.rejects(async () => gate(['notes.txt']), /notes\.txt: format not recognised/);
  assert.throws(() => parseReportPatterns(['pylnt: x.json']), /unknown format 'pylnt'/);
  await assert.rejects(async () => gate(['bandit: real/pytest-junit.xml']), /does not look like a bandit report/);
});

test('a test written again by a rerun is one test: flaky when the rerun passes', async () => {
  writeFileSync(
    join(root, 'gotestsum-rerun.xml'),
    '<testsuites><testsuite name="pkg" tests="5">' +
      '<testcase classname="pkg" name="TestA" time="0.1"><failure message="Failed">timeout</failure></testcase>' +
      '<testcase classname="pkg" name="TestB" time="0.1"><failure message="Failed">boom</failure></testcase>' +
      '<testcase classname="pkg" name="TestC" time="0.1"></testcase>' +
      '<testcase classname="pkg" name="TestA" time="0.2"></testcase>' +
      '<testcase classname="pkg" name="TestB" time="0.2"><failure message="Failed">boom</failure></testcase>' +
      '</testsuite></testsuites>',
  );
  const t = (await gate(['gotestsum-rerun.xml'])).tests;
  assert.deepEqual([t.tests, t.passed, t.failed, t.flaky], [3, 2, 1, 1]);
  assert.deepEqual(t.failedIds, ['pkg::TestB']);
  assert.equal(t.failures.find((f) => f.id === 'pkg::TestA')?.outcome, 'flaky');
});

test('report text cannot ping people or cross-reference issues from the comment', async () => {
  writeFileSync(
    join(root, 'mention.xml'),
    '<testsuite><testcase classname="c" name="t"><failure message="ask @octo-org/admins about #12">x</failure></testcase></testsuite>',
  );
  const body = renderComment(await gate(['mention.xml']));
  assert.doesNotMatch(body, /@octo-org/);
  assert.doesNotMatch(body, /#12/);
  assert.match(body, /ask @\u200bocto-org\/admins about #\u200b12/);
});

test('JUnit with nested suites, a bare root and missing attributes', async () => {
  writeFileSync(
    join(root, 'nested.xml'),
    '<?xml version="1.0"?>\n<testsuites><testsuite name="outer"><testsuite name="inner" file="src/inner.test.ts">' +
      '<testcase name="a"/><testcase><error/></testcase><testcase name="c" time=""><skipped/></testcase>' +
      '</testsuite><testcase name="d" classname="outer.D"><failure>text only, no message</failure></testcase>' +
      '</testsuite></testsuites>',
  );
  writeFileSync(join(root, 'bare.xml'), '<testsuite><testcase name="only"/></testsuite>');
  const r = await gate(['nested.xml', 'bare.xml']);
  const t = r.tests;
  assert.deepEqual([t.tests, t.passed, t.failed, t.errored, t.skipped], [5, 2, 1, 1, 1]);
  const errored = t.failures.find((f) => f.outcome === 'errored');
  assert.deepEqual([errored?.id, errored?.file], ['inner::(unnamed)', 'src/inner.test.ts']);
  assert.equal(t.failures.find((f) => f.outcome === 'failed')?.message, 'text only, no message');
});

test('relative paths resolve against where the tool ran when they do not exist at the root', async () => {
  mkdirSync(join(root, 'web/src'), { recursive: true });
  mkdirSync(join(root, 'web/coverage'), { recursive: true });
  writeFileSync(join(root, 'web/src/cart.js'), '// cart\n');
  writeFileSync(
    join(root, 'web/coverage/lcov.info'),
    'SF:src/cart.js\nDA:1,1\nend_of_record\nSF:src/gone.js\nDA:1,0\nend_of_record\n',
  );
  const files = (await gate(['web/coverage/lcov.info'])).coverage.files.map((f) => f.file).sort();
  assert.deepEqual(files, ['src/gone.js', 'web/src/cart.js']);
});

test('a report path resolving outside the root (a symlink, ..) is refused before anything is read', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'qg-outside-'));
  const inside = join(outside, 'repo');
  mkdirSync(join(inside, 'reports'), { recursive: true });
  // What a pull request could add: a "report" that is a link to a credential file of the runner.
  const kubeconfig = join(outside, 'kubeconfig');
  writeFileSync(kubeconfig, 'apiVersion: v1\nusers:\n- name: admin\n  user: {token: s3cr3t-token}\n');
  symlinkSync(kubeconfig, join(inside, 'reports/junit.xml'));
  symlinkSync(outside, join(inside, 'reports/linked-dir'));
  writeFileSync(join(outside, 'other.xml'), readFileSync(join(root, 'real/vitest-junit.xml')));
  const run = (reports: string[]) => async () =>
    runGate({
      reports: parseReportPatterns(reports),
      root: inside,
      thresholds: await parseThresholds('tests.failed: 9'),
      minChangedLines: 0,
      ignoreMalformed: true,
    });
  try {
    const refused = (pattern: string, path: string, target: string) => ({
      name: 'InputError',
      message: `Input 'reports': '${pattern}' matches ${path}, which resolves to ${target}, outside the root ${inside}: reports are read only from inside it`,
    });
    await assert.rejects(run(['reports/*.xml']), refused('reports/*.xml', 'reports/junit.xml', kubeconfig));
    await assert.rejects(run(['reports/**/*.xml']), refused('reports/**/*.xml', 'reports/junit.xml', kubeconfig));
    await assert.rejects(
      run(['reports/linked-dir/other.xml']),
      refused('reports/linked-dir/other.xml', 'reports/linked-dir/other.xml', join(outside, 'other.xml')),
    );
    await assert.rejects(
      run(['../other.xml']),
      refused('../other.xml', join(outside, 'other.xml'), join(outside, 'other.xml')),
    );
    await assert.rejects(run([join(outside, 'other.xml')]), /outside the root/);
    // Nothing of the file is in the error, whatever the file holds.
    await assert.rejects(run(['reports/junit.xml']), (error: Error) => !/s3cr3t/.test(error.message));
    // A link that stays inside the root is read; an excluded link is never looked at.
    symlinkSync(join(inside, 'reports/real.xml'), join(inside, 'reports/alias.xml'));
    writeFileSync(join(inside, 'reports/real.xml'), readFileSync(join(root, 'real/vitest-junit.xml')));
    assert.equal((await run(['reports/*.xml', '!reports/junit.xml'])()).tests.tests, 8);
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test('every pattern must match a report file, even when other patterns match', async () => {
  await assert.rejects(async () => gate(['real/pytest-junit.xml', 'real/bandit-typo.json'], 'security.high: 0'), {
    name: 'InputError',
    message: `Input 'reports': 'real/bandit-typo.json' matched no file under ${root}: every line must match a report (a report that is missing is not a pass)`,
  });
  await assert.rejects(
    async () => gate(['real/pytest-junit.xml', 'real/mocha-*.xml', '!real/mocha-*'], 'tests.failed: 9'),
    /Input 'reports': 'real\/mocha-\*\.xml' matched no file under .*: its 1 match\(es\) are excluded by a ! line/,
  );
  await assert.rejects(
    async () => gate(['nothing/*.xml']),
    /Input 'reports': 'nothing\/\*\.xml' matched no file under/,
  );
  // Overlapping patterns: a file matched by an earlier line counts for a later one.
  assert.equal((await gate(['real/*-junit.xml', 'real/pytest-junit.xml'], 'tests.failed: 99')).reports.length, 6);
  // An exclusion that matches nothing is fine.
  assert.equal((await gate(['real/pytest-junit.xml', '!real/none-*'], 'tests.failed: 9')).reports.length, 1);
});

// parseReport: one real report of each format into a collector, the format label it reports, and
// the errors that name the file as the user wrote it (its display path), with line and column.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from './collector.ts';
import { ReportError } from './errors.ts';
import { parseReport } from './parse.ts';

const fixtures = join(import.meta.dirname, '../../../test/fixtures/reports');
const scratch = mkdtempSync(join(tmpdir(), 'adci-parse-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

test('each real report is read with its format, and what it holds lands in the collector', async () => {
  const expected: [string, string][] = [
    ['real/pytest-junit.xml', 'junit'],
    ['real/coverage.xml', 'cobertura'],
    ['real/jacoco.xml', 'jacoco'],
    ['real/eslint-checkstyle.xml', 'checkstyle'],
    ['real/coverage.lcov', 'lcov'],
    ['real/tsc.txt', 'tsc'],
    ['real/flake8.txt', 'flake8'],
    ['real/flake8-junit.xml', 'flake8 (junit-xml)'],
    ['real/mypy.txt', 'mypy'],
    ['real/mypy-junit.xml', 'mypy (junit-xml)'],
    ['real/mypy.jsonl', 'mypy (json lines)'],
    ['real/bandit.json', 'bandit'],
    ['real/bandit.sarif', 'sarif'],
    ['real/eslint.json', 'eslint'],
    ['real/pylint.json', 'pylint'],
    ['real/pylint-json2.json', 'pylint'],
    ['real/pip-audit-offline.json', 'pip-audit'],
    ['handmade/safety-2.json', 'safety'],
    ['handmade/npm-audit.json', 'npm-audit'],
    ['artillery/artillery-pass.json', 'artillery'],
  ];
  for (const [file, format] of expected) {
    const collector = new Collector(fixtures);
    assert.deepEqual(await parseReport(join(fixtures, file), collector, undefined, file), { path: file, format }, file);
    const read =
      collector.tests.tests + collector.coverage.size + collector.findingsTools.size + collector.load.reports;
    assert.ok(read > 0, `${file}: nothing collected`);
  }
  const tests = new Collector(fixtures);
  await parseReport(join(fixtures, 'real/pytest-junit.xml'), tests);
  assert.deepEqual([tests.tests.tests, tests.tests.failed, tests.tests.errored, tests.tests.skipped], [7, 1, 1, 1]);
});

test("a format named in the input is checked against the content; the eslint checkstyle is told by the file's name", async () => {
  const collector = new Collector(fixtures);
  await assert.rejects(
    async () => parseReport(join(fixtures, 'real/pytest-junit.xml'), collector, 'bandit', 'real/pytest-junit.xml'),
    /^ReportError: real\/pytest-junit\.xml: does not look like a bandit report$/,
  );
  await parseReport(join(fixtures, 'real/eslint-checkstyle.xml'), collector);
  assert.ok(collector.findingsTools.has('eslint'));
});

test('an empty file is an error unless its format is one that is empty when clean', async () => {
  const empty = write('empty.txt', '');
  const collector = new Collector(scratch);
  await assert.rejects(
    async () => parseReport(empty, collector, undefined, 'lint/empty.txt'),
    /^ReportError: lint\/empty\.txt: is empty: did the tool run\?/,
  );
  await assert.rejects(
    async () => parseReport(empty, collector, 'bandit', 'lint/empty.txt'),
    /lint\/empty\.txt: is empty, which a bandit report never is when its tool ran/,
  );
  assert.deepEqual(await parseReport(empty, collector, 'flake8', 'lint/empty.txt'), {
    path: 'lint/empty.txt',
    format: 'flake8',
  });
  assert.ok(collector.findingsTools.has('flake8'), 'a clean flake8 run counts as a run');
});

test('JSON of the wrong shape says what was expected and what it is', async () => {
  const collector = new Collector(scratch);
  const cases: [string, string, RegExp][] = [
    [
      '{"files": []}',
      'bandit',
      /not a bandit report: expected an object with a "results" list \(bandit -f json\), but it is an object with keys "files"/,
    ],
    ['[{"filePath": 1}]', 'eslint', /not a eslint report: .*, but it is a list of 1 item\(s\)/],
    ['{}', 'sarif', /but it is an empty object \{\}/],
    [
      '[1, 2]',
      'safety',
      /not a safety report: expected a list of \[name, spec, version, advisory, id\] lists .*, but it is a list of 2 item\(s\)$/,
    ],
    [
      '{"error": {"code": "ENOLOCK", "summary": "This command requires an existing lockfile.\\nTry creating one first"}}',
      'npm-audit',
      /is npm's error output, not an audit report: ENOLOCK: This command requires an existing lockfile\.$/,
    ],
  ];
  for (const [text, format, message] of cases) {
    const path = write(`${format}.json`, text);
    await assert.rejects(
      async () => parseReport(path, collector, format as never, `reports/${format}.json`),
      (e: unknown) => e instanceof ReportError && e.file === `reports/${format}.json` && message.test(e.message),
      `${format}: ${text}`,
    );
  }
});

test('invalid JSON is located: line and column in the message and on the error, under the display path', async () => {
  const collector = new Collector(scratch);
  const broken = write('broken.json', '{\n  "results": [1,\n  }\n');
  await assert.rejects(
    async () => parseReport(broken, collector, 'bandit', 'sec/bandit.json'),
    (e: unknown) =>
      e instanceof ReportError &&
      e.file === 'sec/bandit.json' &&
      e.line === 3 &&
      typeof e.column === 'number' &&
      /^sec\/bandit\.json: line 3, column \d+: invalid JSON/.test(e.message),
  );
  const cut = write('cut.json', '{"results": [\n  {"filename":');
  await assert.rejects(
    async () => parseReport(cut, collector, 'bandit', 'cut.json'),
    /cut\.json: line 2, column 15: invalid JSON/,
  );
});

test('a JSON report is read as UTF-8, large or small, all ASCII (read as Latin-1, the same text) or not', async () => {
  const sarif = (message: string, results: number): string =>
    JSON.stringify({
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'Scanner' } },
          results: Array.from({ length: results }, (_, i) => ({
            ruleId: 'r1',
            message: { text: i === 0 ? message : `finding ${i} ${'x'.repeat(40)}` },
            locations: [{ physicalLocation: { artifactLocation: { uri: 'src/a.ts' }, region: { startLine: i + 1 } } }],
          })),
        },
      ],
    });
  for (const [name, message, results] of [
    ['ascii-small.sarif', 'plain text', 3],
    ['ascii-large.sarif', 'plain text', 30_000],
    ['utf8-small.sarif', 'café ✓ 🚀 naïve', 3],
    ['utf8-large.sarif', 'café ✓ 🚀 naïve', 30_000],
  ] as const) {
    const collector = new Collector(scratch);
    await parseReport(write(name, sarif(message, results)), collector, 'sarif');
    assert.equal(collector.findings[0]?.message, message, name);
    assert.equal(collector.findingCounts.get('all')?.total, results, name);
  }
});

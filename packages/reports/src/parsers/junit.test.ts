// JUnit XML: what the `junit:` prefix accepts, and which test cases are one test written twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGate, type GateReport } from '../gate.ts';
import { parseReportPatterns } from '../patterns.ts';
import { parseThresholds } from '../thresholds.ts';

const REAL = join(import.meta.dirname, '../../../../test/fixtures/reports/real');
const root = mkdtempSync(join(tmpdir(), 'qg-junit-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

async function gate(reports: string[], thresholds = 'tests.failed: 0'): Promise<GateReport> {
  return await runGate({
    reports: parseReportPatterns(reports),
    root,
    thresholds: await parseThresholds(thresholds),
    minChangedLines: 0,
    ignoreMalformed: false,
  });
}

test('an XML file that is not JUnit, forced with junit:, is an error naming its root element', async () => {
  // Beside a good report: the bad one is not 0 tests added to the good one's count.
  cpSync(join(REAL, 'pytest-junit.xml'), join(root, 'pytest-junit.xml'));
  for (const [name, rootElement] of [
    ['coverage.xml', 'coverage'],
    ['jacoco.xml', 'report'],
    ['eslint-checkstyle.xml', 'checkstyle'],
  ] as const) {
    cpSync(join(REAL, name), join(root, name));
    await assert.rejects(
      async () => gate([`junit: ${name}`, 'junit: pytest-junit.xml']),
      new RegExp(
        `^ReportError: ${name.replace('.', '\\.')}: is not JUnit XML: its root element is <${rootElement}>, JUnit's is <testsuites> or <testsuite>$`,
      ),
    );
  }
  // The other XML formats check their root the same way.
  await assert.rejects(
    async () => gate(['cobertura: jacoco.xml']),
    /jacoco\.xml: is not Cobertura XML: its root element is <report>/,
  );
  cpSync(join(REAL, 'pytest-junit.xml'), join(root, 'pytest-junit.xml'));
  await assert.rejects(
    async () => gate(['checkstyle: pytest-junit.xml']),
    /is not Checkstyle XML: its root element is <testsuites>/,
  );
  // A real JUnit file forced to junit still reads.
  assert.equal((await gate(['junit: pytest-junit.xml'], 'tests.failed: 2')).tests.tests, 7);
});

test('unnamed test cases in one suite are separate tests, not reruns of each other', async () => {
  writeFileSync(
    join(root, 'unnamed.xml'),
    '<testsuites><testsuite name="pkg" tests="3">' +
      '<testcase classname="pkg"><failure message="first">one</failure></testcase>' +
      '<testcase classname="pkg"></testcase>' +
      '<testcase classname="pkg" name=""><failure message="third">three</failure></testcase>' +
      '</testsuite></testsuites>',
  );
  const t = (await gate(['unnamed.xml'])).tests;
  assert.deepEqual([t.tests, t.passed, t.failed, t.flaky], [3, 1, 2, 0]);
  assert.deepEqual(
    t.failures.map((f) => f.message),
    ['first', 'third'],
  );
});

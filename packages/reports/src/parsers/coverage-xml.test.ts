// Unit tests of parsers/coverage-xml.ts on real reports (test/fixtures/reports/real): coverage.py's
// and c8's Cobertura (class filenames against <sources>, method lines not counted twice, branch
// condition-coverage) and jacoco-maven-plugin's JaCoCo (package/sourcefile, instruction and branch
// counters per line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Collector } from '../collector.ts';
import { COVERED, UNCOVERED, type FileCoverage } from '../model.ts';
import { scanXmlFile, scanXmlText } from '../xml/read.ts';
import { coberturaHandler, jacocoHandler } from './coverage-xml.ts';

const REAL = join(import.meta.dirname, '../../../../test/fixtures/reports/real');
const WORKSPACE = '/home/runner/work/shop/shop';

function summary(entry: FileCoverage | undefined) {
  let covered = 0;
  let total = 0;
  let branches = 0;
  let branchesCovered = 0;
  entry?.lines.forEach((state, line) => {
    if (state === COVERED || state === UNCOVERED) total++;
    if (state === COVERED) covered++;
    branches += entry.branchTotal?.[line] ?? 0;
    branchesCovered += entry.branchCovered?.[line] ?? 0;
  });
  return [covered, total, branches, branchesCovered];
}

test("Cobertura from coverage.py: filenames resolved against <sources>, the workspace's paths relative", () => {
  const collector = new Collector(WORKSPACE);
  scanXmlFile(join(REAL, 'coverage.xml'), coberturaHandler(collector));
  assert.equal(collector.coverageReports, 1);
  assert.deepEqual([...collector.coverage.keys()].sort(), ['shop/__init__.py', 'shop/config.py', 'shop/pricing.py']);
  assert.deepEqual(summary(collector.coverage.get('shop/config.py')), [0, 8, 0, 0]);
  assert.deepEqual(
    summary(collector.coverage.get('shop/pricing.py')),
    [16, 21, 6, 4],
    'the report says 16 of 29 lines, 4 of 6 branches',
  );
});

test('Cobertura from c8: lines under <method> repeat the class lines and are counted once', () => {
  const collector = new Collector(WORKSPACE);
  scanXmlFile(join(REAL, 'c8-cobertura.xml'), coberturaHandler(collector));
  assert.deepEqual([...collector.coverage.keys()], ['web/src/cart.js']);
  const [covered, total, branches, branchesCovered] = summary(collector.coverage.get('web/src/cart.js'));
  assert.deepEqual(
    [covered, total, branches, branchesCovered],
    [22, 26, 6, 4],
    'as its lines-valid, lines-covered, branches-valid, branches-covered say',
  );
});

test('Cobertura with several <source> roots picks the root where the file exists; absolute filenames stay', () => {
  const collector = new Collector(join(import.meta.dirname, '../..'));
  scanXmlText(
    `<coverage><sources><source>lib</source><source>src</source></sources><packages><package><classes>
      <class filename="collector.ts"><lines><line number="1" hits="3"/><line number="2" hits="0" branch="true" condition-coverage="50% (1/2)"/></lines></class>
      <class filename="/abs/other.py"><lines><line number="5" hits="1"/></lines></class>
      <class><lines><line number="9" hits="1"/></lines></class>
    </classes></package></packages></coverage>`,
    coberturaHandler(collector),
  );
  assert.deepEqual([...collector.coverage.keys()], ['src/collector.ts', '/abs/other.py']);
  assert.deepEqual(summary(collector.coverage.get('src/collector.ts')), [1, 2, 2, 1]);
});

test('JaCoCo from jacoco-maven-plugin: package/sourcefile paths, a line is covered when one instruction ran', () => {
  const collector = new Collector(WORKSPACE);
  scanXmlFile(join(REAL, 'jacoco.xml'), jacocoHandler(collector));
  assert.deepEqual([...collector.coverage.entries()].map(([file, entry]) => [file, ...summary(entry)]).sort(), [
    ['com/example/shop/Inventory.java', 9, 10, 2, 1],
    ['com/example/shop/Pricing.java', 8, 10, 6, 5],
  ]);
});

test('JaCoCo lines without instructions are not coverable; a line without a sourcefile is ignored', () => {
  const collector = new Collector('/');
  scanXmlText(
    `<report><package name="a/b"><sourcefile name="C.java"><line nr="3" mi="0" ci="0" mb="0" cb="0"/><line nr="4" mi="2" ci="0" mb="1" cb="1"/></sourcefile></package>
     <line nr="7" mi="0" ci="5"/><sourcefile name="Top.java"><line nr="1" mi="0" ci="1"/></sourcefile></report>`,
    jacocoHandler(collector),
  );
  assert.deepEqual(summary(collector.coverage.get('a/b/C.java')), [0, 1, 2, 1]);
  assert.deepEqual(
    [...collector.coverage.keys()],
    ['a/b/C.java', 'a/b/Top.java'],
    'the package still applies until the next one',
  );
});

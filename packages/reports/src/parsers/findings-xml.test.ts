// Unit tests of parsers/findings-xml.ts on real reports (test/fixtures/reports/real): ESLint's
// Checkstyle output, flake8-formatter-junit-xml and mypy --junit-xml turned back into findings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Collector } from '../collector.ts';
import { scanXmlFile, scanXmlText } from '../xml/read.ts';
import { checkstyleHandler, flake8JunitHandler, mypyJunitHandler } from './findings-xml.ts';

const REAL = join(import.meta.dirname, '../../../../test/fixtures/reports/real');
const WORKSPACE = '/home/runner/work/shop/shop';
const shape = (c: Collector) => c.findings.map((f) => `${f.tool} ${f.rule} ${f.severity} ${f.file}:${f.line}`);

test("Checkstyle from ESLint: the rule is the source's last part, paths relative to the workspace", () => {
  const collector = new Collector(WORKSPACE);
  scanXmlFile(join(REAL, 'eslint-checkstyle.xml'), checkstyleHandler(collector, 'eslint'));
  assert.deepEqual(shape(collector), [
    'eslint no-unused-vars warning web/src/cart.js:3',
    'eslint eqeqeq error web/src/cart.js:20',
    'eslint no-unused-vars warning web/src/cart.js:24',
    'eslint no-eval error web/src/cart.js:25',
  ]);
  assert.equal(collector.findings[1]?.message, "Expected '===' and instead saw '=='. (eqeqeq)");
  assert.deepEqual([...collector.findingsTools], ['eslint']);
});

test('Checkstyle from Checkstyle itself: info is a note, ignore is dropped, a missing line is no line', () => {
  const collector = new Collector('/');
  scanXmlText(
    `<checkstyle><file name="src/A.java">
      <error line="4" severity="info" message="Javadoc" source="com.puppycrawl.tools.checkstyle.checks.javadoc.JavadocMethodCheck"/>
      <error line="5" severity="ignore" message="x" source="a.B"/>
      <error severity="error" message="File too long"/>
    </file><error line="1" severity="error" message="outside any file"/></checkstyle>`,
    checkstyleHandler(collector, 'checkstyle'),
  );
  assert.deepEqual(shape(collector), [
    'checkstyle JavadocMethodCheck note src/A.java:4',
    'checkstyle checkstyle error src/A.java:undefined',
  ]);
});

test('flake8 JUnit XML: one finding per failure, as flake8 text would give', () => {
  const collector = new Collector(WORKSPACE);
  scanXmlFile(join(REAL, 'flake8-junit.xml'), flake8JunitHandler(collector));
  assert.deepEqual(shape(collector), [
    'flake8 F821 error shop/config.py:9',
    'flake8 F401 warning shop/pricing.py:2',
    'flake8 E501 warning shop/pricing.py:31',
  ]);
  assert.equal(collector.findings[2]?.message, 'line too long (120 > 100 characters)');
});

test("flake8 JUnit XML whose message is not flake8's line: the testcase's file and line, the type as code", () => {
  const collector = new Collector('/');
  scanXmlText(
    '<testsuite><testcase file="a.py" line="7"><failure type="flake8 W605" message="invalid escape sequence"/></testcase></testsuite>',
    flake8JunitHandler(collector),
  );
  assert.deepEqual(shape(collector), ['flake8 W605 warning a.py:7']);
});

test('mypy JUnit XML: the locations come from the failure text, not line="1"', () => {
  const collector = new Collector(WORKSPACE);
  scanXmlFile(join(REAL, 'mypy-junit.xml'), mypyJunitHandler(collector));
  assert.deepEqual(shape(collector), [
    'mypy name-defined error shop/config.py:9',
    'mypy assignment error shop/config.py:13',
    'mypy arg-type error shop/pricing.py:18',
  ]);
  const clean = new Collector('/');
  scanXmlText('<testsuite failures="0"><testcase name="mypy"/></testsuite>', mypyJunitHandler(clean));
  assert.deepEqual([clean.findings.length, [...clean.findingsTools]], [0, ['mypy']]);
});

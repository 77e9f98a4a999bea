// Unit tests of xml/read.ts: a file scanned in chunks gives the handler what the text gives; a scan
// error names the file (or source), line and column, also past the first chunk of a large file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportError } from '../errors.ts';
import { scanXmlFile, scanXmlText } from './read.ts';
import type { XmlHandler } from './scanner.ts';

const REAL = join(import.meta.dirname, '../../../../test/fixtures/reports/real');
const scratch = mkdtempSync(join(tmpdir(), 'adci-xml-read-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** A handler recording the elements opened and the text of every <failure>. */
function recorder(): XmlHandler & { opened: string[]; texts: string[] } {
  const opened: string[] = [];
  const texts: string[] = [];
  return {
    opened,
    texts,
    open: (name) => {
      opened.push(name);
      return name === 'failure' ? 1_000_000 : 0;
    },
    close: (name, text) => {
      if (name === 'failure') texts.push(text);
    },
  };
}

test('a real report read from its file and from its text gives the handler the same events', () => {
  const path = join(REAL, 'pytest-junit.xml');
  const fromFile = recorder();
  scanXmlFile(path, fromFile);
  const fromText = recorder();
  scanXmlText(readFileSync(path, 'utf8'), fromText);
  assert.deepEqual(fromFile.opened, fromText.opened);
  assert.deepEqual(fromFile.texts, fromText.texts);
  assert.ok(fromFile.opened.filter((n) => n === 'testcase').length === 7);
  assert.match(fromFile.texts.join('\n'), /assert 3\.0 == 4/);
});

test('an element split across the 1 MiB chunks of a large file is read whole', () => {
  const cases = Array.from(
    { length: 30_000 },
    (_, i) => `<testcase name="test_${i}" classname="pkg.mod" time="0.001"/>`,
  );
  const path = join(scratch, 'large.xml');
  writeFileSync(
    path,
    `<testsuite>${cases.join('\n')}<testcase name="last"><failure>ünïcode ✓</failure></testcase></testsuite>`,
  );
  const handler = recorder();
  scanXmlFile(path, handler);
  assert.equal(handler.opened.filter((n) => n === 'testcase').length, 30_001);
  assert.deepEqual(handler.texts, ['ünïcode ✓']);
});

test('a truncated or malformed file: a ReportError naming the file, line and column', () => {
  const text = readFileSync(join(REAL, 'pytest-junit.xml'), 'utf8');
  const truncated = join(scratch, 'truncated.xml');
  writeFileSync(truncated, text.slice(0, 700));
  assert.throws(
    () => scanXmlFile(truncated, recorder()),
    (error: unknown) =>
      error instanceof ReportError &&
      error.file === truncated &&
      error.line === 1 &&
      /truncated\.xml: line 1, column \d+: unexpected end of file/.test(error.message),
  );
  const padding = 'x'.repeat(1024 * 1024 + 10);
  const late = join(scratch, 'late.xml');
  writeFileSync(late, `<a>\n<b>${padding}</b>\n\n<c></d>\n</a>`);
  assert.throws(
    () => scanXmlFile(late, recorder()),
    (error: unknown) => error instanceof ReportError && error.line === 4 && error.column !== undefined,
  );
});

test('scanXmlText: the error names the source given, with line and column in characters', () => {
  assert.throws(
    () => scanXmlText('<a>\n  <ü></a>', recorder(), 'inline.xml'),
    (error: unknown) =>
      error instanceof ReportError &&
      error.file === 'inline.xml' &&
      error.line === 2 &&
      /^inline\.xml: line 2, column \d+: /.test(error.message),
  );
  assert.throws(() => scanXmlText('<a>', recorder()), /^ReportError: <text>: line 1, column \d+: /);
});

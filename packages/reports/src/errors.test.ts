// ReportError: the message always starts with the file; line and column are kept for annotations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReportError } from './errors.ts';

test('ReportError names the file first and keeps the line and column', () => {
  const e = new ReportError('reports/junit.xml', 'line 3, column 7: unexpected end of file', 3, 7);
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'ReportError');
  assert.equal(e.message, 'reports/junit.xml: line 3, column 7: unexpected end of file');
  assert.deepEqual([e.file, e.line, e.column], ['reports/junit.xml', 3, 7]);
  const bare = new ReportError('x.json', 'is empty');
  assert.deepEqual([bare.line, bare.column], [undefined, undefined]);
});

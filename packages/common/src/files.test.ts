import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReportFile } from './files.ts';

test('writeReportFile makes the folders the path needs, then replaces the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adci-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'a', 'b', 'report.json');
  writeReportFile(path, '{"first":true}\n');
  writeReportFile(path, '{}\n');
  assert.equal(readFileSync(path, 'utf8'), '{}\n');
});

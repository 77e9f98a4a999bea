// Unit tests of size.ts: byte sizes in binary units as inputs, and back as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, parseByteSize } from './size.ts';

test('parseByteSize reads bytes and binary units; formatBytes shows them back', () => {
  assert.equal(parseByteSize('1048576'), 1048576);
  assert.equal(parseByteSize('4MiB'), 4 * 1024 * 1024);
  assert.equal(parseByteSize('512 kib'), 512 * 1024);
  assert.equal(parseByteSize('1.5MiB'), 1.5 * 1024 * 1024);
  assert.equal(parseByteSize('10b'), 10);
  assert.throws(
    () => parseByteSize('4MB', 'max-body'),
    /Input 'max-body': '4MB' is not a size .*units are binary: 4MiB/,
  );
  assert.throws(() => parseByteSize('-1', 'max-body'), /is not a size/);
  assert.throws(() => parseByteSize('', 'max-body'), /empty size/);
  assert.throws(() => parseByteSize('0.1', 'max-body'), /less than 1 byte/);
  assert.throws(() => parseByteSize('2KiB', 'max-body', 1024), /more than the largest allowed, 1 KiB/);
  assert.equal(formatBytes(4 * 1024 * 1024), '4 MiB');
  assert.equal(formatBytes(1.5 * 1024 * 1024), '1.5 MiB');
  assert.equal(formatBytes(512 * 1024), '512 KiB');
  assert.equal(formatBytes(1000), '1000 bytes');
  assert.equal(formatBytes(1), '1 byte');
});

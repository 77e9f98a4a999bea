import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InputError,
  fillTemplate,
  formatDuration,
  parseDuration,
  parseStringMap,
  parseStructured,
  Redactor,
} from './index.ts';

test('parseDuration reads units, compounds and bare milliseconds', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('500us'), 0.5);
  assert.equal(parseDuration('1200'), 1200);
});

test('parseDuration names the input on a bad value', () => {
  assert.throws(() => parseDuration('soon', 'timeout'), /Input 'timeout': 'soon' is not a valid duration/);
  assert.throws(() => parseDuration('5 m', 'timeout'), InputError);
  assert.throws(() => parseDuration('', 'wait'), /Input 'wait': empty duration/);
});

test('formatDuration is short and readable', () => {
  assert.equal(formatDuration(850), '850ms');
  assert.equal(formatDuration(2500), '2.5s');
  assert.equal(formatDuration(190_000), '3m10s');
});

test('fillTemplate fills names and refuses unknown ones', () => {
  const values: Record<string, string> = { repository: 'org/ads', 'env.TOKEN': 't' };
  assert.equal(
    fillTemplate('{{ repository }}/{{env.TOKEN}}', (n) => values[n]),
    'org/ads/t',
  );
  assert.throws(() => fillTemplate('{{ nope }}', (n) => values[n]), /unknown placeholder \{\{ nope \}\}/);
});

test('parseStructured reports line and column; lineOf finds nodes', () => {
  assert.throws(() => parseStructured('a: [1, 2\nb: 3', 'checks-file'), /Input 'checks-file': line \d+, column \d+/);
  const doc = parseStructured('checks:\n  - name: a\n  - name: b\n    path: /x\n', 'f');
  assert.equal(doc.lineOf(['checks', 1, 'path']), 4);
  // A key whose value starts on the next line is found on the key's own line.
  assert.equal(parseStructured('load:\n  rate:\n    200/s\n', 'f').lineOf(['load', 'rate']), 2);
  assert.equal(doc.lineOf(['checks', 1]), 3);
  assert.equal(doc.lineOf(['nope']), undefined);
  assert.throws(() => parseStructured('a: 1\na: 2', 'f'), /Map keys must be unique/);
});

test('parseStringMap wants a flat mapping', () => {
  assert.deepEqual(parseStringMap('a: 1\nb: x', 'fields'), { a: '1', b: 'x' });
  assert.deepEqual(parseStringMap('', 'fields'), {});
  assert.throws(() => parseStringMap('- a', 'fields'), /Input 'fields': must be a YAML or JSON mapping/);
  assert.throws(() => parseStringMap('a: { b: 1 }', 'fields'), /value of 'a' must be a scalar/);
});

test('Redactor removes every secret, longest first', () => {
  const redactor = new Redactor();
  redactor.add('secret-token');
  redactor.add('secret-token-long');
  redactor.add('ab'); // too short to mask safely
  assert.equal(redactor.redact('x secret-token-long y secret-token ab'), 'x *** y *** ab');
});

test('parseByteSize reads bytes and binary units; formatBytes shows them back', async () => {
  const { parseByteSize, formatBytes } = await import('./index.ts');
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

// Unit tests of structured.ts: YAML or JSON inputs with line and column in errors, flat string maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStringMap, parseStructured } from './structured.ts';

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

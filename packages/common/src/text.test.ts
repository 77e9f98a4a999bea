import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scalarText } from './text.ts';

test('scalarText: scalars as String() writes them, the rest as JSON, never [object Object]', () => {
  assert.equal(scalarText('GHSA-1234'), 'GHSA-1234');
  assert.equal(scalarText(1089), '1089');
  assert.equal(scalarText(false), 'false');
  assert.equal(scalarText(10n), '10');
  assert.equal(scalarText({ id: 7 }), '{"id":7}');
  assert.equal(scalarText(['a', 1]), '["a",1]');
  assert.equal(scalarText(undefined), '');
  assert.equal(scalarText(null, 'advisory'), 'advisory');
  assert.equal(scalarText(Symbol('s'), 'x'), 'x');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(scalarText(cyclic, 'unreadable'), 'unreadable');
});

// The shared model's one function: truncation keeps the limit, ellipsis included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, truncate } from './model.ts';

test('truncate keeps text within the limit, the ellipsis counted', () => {
  assert.equal(truncate('short', 10), 'short');
  assert.equal(truncate('exactly10!', 10), 'exactly10!');
  assert.equal(truncate('one character too long', 10), 'one chara…');
  assert.equal(truncate('one character too long', 10).length, 10);
  assert.equal(truncate('abc', 0), '…');
  const long = 'x'.repeat(DEFAULT_LIMITS.maxMessageChars + 5);
  assert.equal(truncate(long, DEFAULT_LIMITS.maxMessageChars).length, DEFAULT_LIMITS.maxMessageChars);
});

// Unit tests of duration.ts: durations as inputs (units, compounds, bare milliseconds) and back as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.ts';
import { InputError } from './errors.ts';

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

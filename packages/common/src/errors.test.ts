// Unit tests of errors.ts: InputError names the input first; errorMessage never shows a stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, errorMessage } from './errors.ts';

test('InputError: the message starts with the input as the user wrote it, which it keeps', () => {
  const flag = new InputError('--base-url', 'must be http or https');
  assert.equal(flag.message, "Input '--base-url': must be http or https");
  assert.equal(flag.input, '--base-url');
  assert.equal(flag.name, 'InputError');
  assert.ok(flag instanceof Error);
  assert.match(String(flag), /^InputError: Input '--base-url': /);
});

test('errorMessage: the message with its cause, never a stack; anything thrown becomes text', () => {
  const cause = new Error('connect ECONNREFUSED 127.0.0.1:1');
  assert.equal(
    errorMessage(new Error('cannot reach Prometheus', { cause })),
    'cannot reach Prometheus (cause: connect ECONNREFUSED 127.0.0.1:1)',
  );
  assert.equal(errorMessage(new InputError('timeout', 'not a duration')), "Input 'timeout': not a duration");
  assert.equal(errorMessage(new Error('plain', { cause: 'a string cause is not shown' })), 'plain');
  assert.equal(errorMessage('a thrown string'), 'a thrown string');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorMessage(undefined), 'undefined');
  assert.doesNotMatch(errorMessage(new Error('x')), /\n\s+at /);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DESCRIPTION_LIMIT, finalState, shorten } from './github-deployment.ts';

test('a status description fits GitHub’s 140 characters on one line', () => {
  assert.equal(shorten('short\nreason'), 'short reason');
  const long = shorten('x'.repeat(500));
  assert.equal(long.length, DESCRIPTION_LIMIT);
  assert.ok(long.endsWith('…'));
});

test('each result maps to the deployment state GitHub shows', () => {
  assert.equal(finalState('promoted', false), 'success');
  assert.equal(finalState('unchanged', false), 'success');
  assert.equal(finalState('rolled-back', false), 'success'); // a rollback someone asked for
  assert.equal(finalState('rolled-back', true), 'failure'); // rolled back by itself
  assert.equal(finalState('failed', true), 'failure');
  assert.equal(finalState('aborted', false), 'inactive');
  assert.equal(finalState('preview-ready', false), undefined);
});

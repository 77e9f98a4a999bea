// The JSON adci prints and writes: the engine's result with the adci version first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADCI_VERSION } from '@adci/common/basics';
import { versioned } from './json.ts';

test('versioned puts the adci version first and keeps the result as it is', () => {
  const result = { passed: false, counts: { failed: 1 } };
  const out = versioned(result);
  assert.deepEqual(Object.keys(out), ['adciVersion', 'passed', 'counts']);
  assert.equal(out.adciVersion, ADCI_VERSION);
  assert.match(JSON.stringify(out), /^\{"adciVersion":"\d+\.\d+\.\d+[^"]*","passed":false,/);
  assert.equal(out.counts, result.counts);
});

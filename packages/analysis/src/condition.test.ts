// Unit tests of condition.ts: success conditions (comparisons of result, joined by and/or) parsed and judged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCondition, holds } from './index.ts';

test('conditions: comparisons of result, joined by and/or', () => {
  const c = parseCondition('result < 0.01');
  assert.equal(c.threshold, 0.01);
  assert.equal(holds(c, 0.009), true);
  assert.equal(holds(c, 0.01), false);
  const range = parseCondition('result >= 100 and result < 200');
  assert.equal(holds(range, 150), true);
  assert.equal(holds(range, 250), false);
  assert.equal(holds(parseCondition('result == 0 || result > 5'), 6), true);
  assert.equal(holds(parseCondition('result <= 1e-3'), 0.001), true);
  assert.throws(() => parseCondition('result < 1 and result > 0 or result == 5'), /mixes 'and' and 'or'/);
  assert.throws(() => parseCondition('res < 1'), /'res < 1' is not a comparison of result/);
  assert.throws(() => parseCondition('result < 50ms'), /not a comparison/);
  assert.throws(() => parseCondition(''), /is empty/);
});

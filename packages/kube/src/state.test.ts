// The names that carry blue-green state on the cluster: colours, colour names, the phase order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATIONS, colorName, COLOR_LABEL, isColor, PHASES } from './state.ts';

test('colours: exactly blue and green; a colour name is <app>-<colour>', () => {
  assert.deepEqual(['blue', 'green', 'Blue', 'red', '', undefined, 1].map(isColor), [
    true,
    true,
    false,
    false,
    false,
    false,
    false,
  ]);
  assert.equal(colorName('bid', 'green'), 'bid-green');
});

test('labels and annotations live under adci.dev/ and are all distinct; phases run lock to unlock', () => {
  const names = [COLOR_LABEL, ...Object.values(ANNOTATIONS)];
  assert.ok(names.every((n) => n.startsWith('adci.dev/')));
  assert.equal(new Set(Object.values(ANNOTATIONS)).size, Object.values(ANNOTATIONS).length);
  assert.equal(PHASES[0], 'lock');
  assert.equal(PHASES.at(-1), 'unlock');
  assert.ok(PHASES.indexOf('switch') > PHASES.indexOf('wait-ready'));
  assert.ok(PHASES.indexOf('verify-endpoints') === PHASES.indexOf('switch') + 1);
});

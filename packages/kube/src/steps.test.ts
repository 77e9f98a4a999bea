// The declared plans (PLANS) as the design states them (docs/architecture.md, "PLANS is where the
// order lives"): the order of each action's steps, and the compensation beside each step — nothing
// before the switch ever reverts (traffic never moved), the switch and the endpoint verification
// finish once started, a failure after the switch reverts and a cancel resumes, and nothing after the
// post-promotion checks takes the release back. The steps' behaviour is driven through every action
// in deploy.test.ts (MemoryKube) and on the local cluster in test/e2e/blue-green-*.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PLANS } from './steps.ts';

const names = (action: keyof typeof PLANS): string[] => PLANS[action].map((step) => step.name);

test('each action runs its steps in the documented order', () => {
  assert.deepEqual(names('deploy'), [
    'plan',
    'validate',
    'apply',
    'wait-ready',
    'preview-check',
    'preview-ready',
    'scale-up',
    'switch',
    'verify-endpoints',
    'post-check',
    'hold',
    'drain',
    'scale-down',
  ]);
  assert.deepEqual(names('promote'), [
    'plan',
    'wait-ready',
    'scale-up',
    'switch',
    'verify-endpoints',
    'post-check',
    'hold',
    'drain',
    'scale-down',
  ]);
  // A rollback brings the idle colour (or a stored release) up through the same checks as a deploy.
  assert.deepEqual(
    names('rollback'),
    names('deploy').filter((name) => name !== 'preview-ready' && name !== 'hold'),
  );
  assert.deepEqual(names('abort'), ['plan', 'abort']);
  assert.deepEqual(names('status'), ['plan']);
});

test('compensations: before the switch nothing reverts; the switch finishes; after it a failure reverts and a cancel resumes', () => {
  for (const [action, steps] of Object.entries(PLANS)) {
    const switchAt = steps.findIndex((step) => step.name === 'switch');
    const postCheckAt = steps.findIndex((step) => step.name === 'post-check');
    steps.forEach((step, i) => {
      const where = `${action}/${step.name}`;
      const onCancel = step.onCancel ?? step.onFailure;
      if (switchAt < 0 || i < switchAt) {
        assert.ok(['stop', 'abandon'].includes(step.onFailure), `${where}: traffic never moved, so no revert`);
        assert.ok(['stop', 'abandon'].includes(onCancel), where);
      } else if (i === switchAt) {
        assert.equal(step.onFailure, 'revert', where);
        assert.equal(onCancel, 'abandon', `${where}: a cancel before it starts leaves traffic where it was`);
        assert.equal(step.finishOnCancel, true, `${where}: a half-done switch is worse than a late stop`);
      } else if (i <= postCheckAt) {
        assert.equal(step.onFailure, 'revert', `${where}: the previous colour is still up`);
        assert.equal(onCancel, 'resume', `${where}: a re-run finishes the release`);
      } else {
        assert.equal(step.onFailure, 'resume', `${where}: the release is live and verified; nothing takes it back`);
        assert.equal(onCancel, 'resume', where);
      }
    });
    const verify = steps.find((step) => step.name === 'verify-endpoints');
    if (verify) assert.equal(verify.finishOnCancel, true, `${action}/verify-endpoints`);
  }
});

test('only the plan runs unconditionally; every other step says when it has something to do', () => {
  for (const [action, steps] of Object.entries(PLANS)) {
    for (const step of steps.slice(1)) {
      if (action === 'abort') continue;
      assert.equal(typeof step.when, 'function', `${action}/${step.name}`);
    }
    assert.equal(steps[0]?.name, 'plan');
    assert.equal(steps[0]?.when, undefined);
  }
});

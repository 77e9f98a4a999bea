// The state machine's driver: steps in order, `when` skipping, `done` ending the plan, and the
// compensation each step declares for a failure or a cancellation (finishOnCancel letting a
// started step finish). The run it drives here records what the driver asks of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CANCELLED,
  Cancelled,
  failureMessage,
  runSteps,
  type Compensation,
  type Driven,
  type Step,
} from './machine.ts';
import type { Phase } from './state.ts';

class Run implements Driven {
  readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  done = false;
  readonly log: string[] = [];
  async phase<T>(name: Phase, work: () => Promise<T>, options?: { finishOnCancel?: boolean }): Promise<T> {
    this.log.push(`start ${name}`);
    const value = await work();
    if (this.signal.aborted && !options?.finishOnCancel) throw new Cancelled();
    this.log.push(`end ${name}${value === undefined ? '' : `: ${String(value)}`}`);
    return value;
  }
  compensate(kind: Compensation, error: unknown, step: Phase): Promise<never> {
    this.log.push(`compensate ${kind} after ${step}: ${failureMessage(error, this.signal.aborted)}`);
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

const step = (name: Phase, over: Partial<Step<Run>> = {}): Step<Run> => ({
  name,
  run: () => Promise.resolve(undefined),
  onFailure: 'stop',
  ...over,
});

test('steps run in order; a step whose when says no is skipped; done ends the plan', async () => {
  const run = new Run();
  await runSteps(
    [
      step('lock'),
      step('plan', { run: (r) => ((r.done = false), Promise.resolve('2 changes')) }),
      step('validate', { when: () => false }),
      step('apply', { run: (r) => ((r.done = true), Promise.resolve(undefined)) }),
      step('switch'),
    ],
    run,
  );
  assert.deepEqual(run.log, [
    'start lock',
    'end lock',
    'start plan',
    'end plan: 2 changes',
    'start apply',
    'end apply',
  ]);
});

test("a failing step's onFailure runs, with its error; no later step starts", async () => {
  const run = new Run();
  await assert.rejects(
    runSteps(
      [
        step('apply', { onFailure: 'stop' }),
        step('switch', { onFailure: 'revert', run: () => Promise.reject(new Error('endpoints never moved')) }),
        step('post-check'),
      ],
      run,
    ),
    /endpoints never moved/,
  );
  assert.deepEqual(run.log, [
    'start apply',
    'end apply',
    'start switch',
    'compensate revert after switch: endpoints never moved',
  ]);
});

test('a cancellation takes onCancel (default onFailure); a finishOnCancel step finishes first; nothing starts after', async () => {
  const run = new Run();
  await assert.rejects(
    runSteps(
      [
        step('wait-ready', {
          onFailure: 'abandon',
          onCancel: 'stop',
          run: (r) => (r.controller.abort(), Promise.resolve(undefined)),
        }),
        step('switch'),
      ],
      run,
    ),
    Cancelled,
  );
  assert.deepEqual(run.log, ['start wait-ready', `compensate stop after wait-ready: ${CANCELLED}`]);

  const defaulted = new Run();
  defaulted.controller.abort();
  await assert.rejects(runSteps([step('scale-up', { onFailure: 'abandon' })], defaulted), Cancelled);
  assert.deepEqual(
    defaulted.log,
    [`compensate abandon after scale-up: ${CANCELLED}`],
    'a cancelled run starts no step',
  );

  const finishing = new Run();
  await assert.rejects(
    runSteps(
      [
        step('switch', {
          onFailure: 'revert',
          finishOnCancel: true,
          run: (r) => (r.controller.abort(), Promise.resolve('moved')),
        }),
        step('post-check', { onFailure: 'revert' }),
      ],
      finishing,
    ),
    Cancelled,
  );
  assert.deepEqual(finishing.log, [
    'start switch',
    'end switch: moved',
    `compensate revert after post-check: ${CANCELLED}`,
  ]);
});

test('failureMessage words a cancellation one way; other errors by their message', () => {
  assert.equal(failureMessage(new Cancelled(), false), CANCELLED);
  assert.equal(failureMessage(new Error('boom'), true), CANCELLED);
  assert.equal(failureMessage(new Error('boom'), false), 'boom');
  assert.equal(new Cancelled().name, 'Cancelled');
});

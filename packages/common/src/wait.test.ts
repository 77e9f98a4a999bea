// Unit tests of wait.ts: waitUntil, the one polling loop, on a virtual clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from './ports.ts';
import { waitUntil, WaitTimeoutError } from './basics.ts';

/** Virtual time: sleeping moves the clock forward at once and records the wait. */
class FakeClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    this.sleeps.push(ms);
    this.time += ms;
    return Promise.resolve();
  }
}

/** A clock whose sleeps never end unless aborted, to show that aborting stops a wait at once. */
class StuckClock implements Clock {
  sleeping = Promise.withResolvers<void>();
  now(): number {
    return 0;
  }
  sleep(_ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeping.resolve();
    return new Promise((_resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
  }
}

test('waitUntil returns the first value that is neither undefined nor false', async () => {
  const clock = new FakeClock();
  const answers: unknown[] = [undefined, false, 0];
  let calls = 0;
  const value = await waitUntil(() => answers[calls++] as number | undefined | false, {
    timeoutMs: 10_000,
    intervalMs: 250,
    description: 'a number',
    clock,
  });
  assert.equal(value, 0);
  assert.equal(calls, 3);
  assert.deepEqual(clock.sleeps, [250, 250]);

  const asynchronous = await waitUntil(() => Promise.resolve({ ready: true }), {
    timeoutMs: 0,
    intervalMs: 1,
    description: 'x',
    clock,
  });
  assert.deepEqual(asynchronous, { ready: true });
});
test('waitUntil times out with a message naming what it waited for; the last probe is at the deadline', async () => {
  const clock = new FakeClock();
  const probedAt: number[] = [];
  await assert.rejects(
    waitUntil(
      () => {
        probedAt.push(clock.now());
        return undefined;
      },
      { timeoutMs: 5000, intervalMs: 1500, description: 'deployment web-green to be available', clock },
    ),
    (error) => {
      assert.ok(error instanceof WaitTimeoutError);
      assert.equal(error.message, 'timed out after 5s waiting for deployment web-green to be available');
      assert.equal(error.description, 'deployment web-green to be available');
      assert.equal(error.name, 'WaitTimeoutError');
      return true;
    },
  );
  assert.deepEqual(probedAt, [0, 1500, 3000, 4500, 5000]);
  assert.deepEqual(clock.sleeps, [1500, 1500, 1500, 500]);
});
test('waitUntil ends at once with the error a probe throws (fail fast)', async () => {
  const clock = new FakeClock();
  let calls = 0;
  await assert.rejects(
    waitUntil(
      () => {
        if (++calls === 2) throw new Error('pod web-1: ImagePullBackOff');
        return false;
      },
      { timeoutMs: 60_000, intervalMs: 1000, description: 'pods', clock },
    ),
    /ImagePullBackOff/,
  );
  assert.equal(calls, 2);
});
test('waitUntil stops waiting at once when aborted, with the signal reason', async () => {
  const reason = new Error('cancelled');
  const clock = new StuckClock();
  const controller = new AbortController();
  const pending = waitUntil(() => undefined, {
    timeoutMs: 60_000,
    intervalMs: 1000,
    description: 'never',
    clock,
    signal: controller.signal,
  });
  await clock.sleeping.promise;
  controller.abort(reason);
  await assert.rejects(pending, (error) => error === reason);

  await assert.rejects(
    waitUntil(() => 1, { timeoutMs: 1, intervalMs: 1, description: 'x', signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
});
test('waitUntil refuses bad options', async () => {
  const clock = new FakeClock();
  await assert.rejects(
    waitUntil(() => 1, { timeoutMs: -1, intervalMs: 1, description: 'x', clock }),
    /timeoutMs/,
  );
  await assert.rejects(
    waitUntil(() => 1, { timeoutMs: 1, intervalMs: 0, description: 'x', clock }),
    /intervalMs/,
  );
  await assert.rejects(
    waitUntil(() => 1, { timeoutMs: 1, intervalMs: 1, description: '', clock }),
    /description/,
  );
});

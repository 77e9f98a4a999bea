// Unit tests of retry.ts: the back-off, retry with its budget, Retry-After waits and cancellation, on a
// virtual clock (and once on the real one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Clock } from './ports.ts';
import { backoffDelay, retry, waitUntil, WaitTimeoutError } from './basics.ts';
import * as index from './index.ts';

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

const failing = (message: string) => new Error(message);

test('backoffDelay grows by the factor up to maxMs, 1-based', () => {
  const options = { initialMs: 100, maxMs: 500, jitter: 'none' } as const;
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => backoffDelay(n, options)),
    [100, 200, 400, 500, 500],
  );
  assert.deepEqual(
    [1, 2, 3].map((n) => backoffDelay(n, { initialMs: 10, maxMs: 1000, factor: 3, jitter: 'none' })),
    [10, 30, 90],
  );
  // Far-out attempts neither overflow nor turn into NaN.
  assert.equal(backoffDelay(5000, options), 500);
  assert.equal(backoffDelay(5000, { initialMs: 0, maxMs: 0 }), 0);
});
test('backoffDelay jitter: equal keeps at least half, full may reach zero', () => {
  const options = { initialMs: 100, maxMs: 1000 };
  assert.equal(
    backoffDelay(2, options, () => 0),
    100,
  ); // equal is the default
  assert.equal(
    backoffDelay(2, options, () => 0.5),
    150,
  );
  assert.equal(
    backoffDelay(2, { ...options, jitter: 'full' }, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(2, { ...options, jitter: 'full' }, () => 0.5),
    100,
  );
  for (let i = 0; i < 200; i++) {
    const delay = backoffDelay(3, options);
    assert.ok(delay >= 200 && delay <= 400, `equal jitter out of range: ${delay}`);
  }
});
test('backoffDelay refuses nonsense options, naming them', () => {
  assert.throws(() => backoffDelay(1, { initialMs: -1, maxMs: 5 }), /initialMs must be a finite number ≥ 0, got -1/);
  assert.throws(() => backoffDelay(1, { initialMs: 10, maxMs: 5 }), /maxMs must be .* ≥ initialMs \(10\), got 5/);
  assert.throws(() => backoffDelay(1, { initialMs: 1, maxMs: 5, factor: 0.5 }), /factor must be .* ≥ 1/);
  assert.throws(
    () => backoffDelay(1, { initialMs: 1, maxMs: 5, jitter: 'some' as 'none' }),
    /jitter must be 'equal', 'full' or 'none', got 'some'/,
  );
});
test('retry returns the first success without waiting', async () => {
  const clock = new FakeClock();
  const seen: number[] = [];
  const value = await retry(
    (attempt) => {
      seen.push(attempt);
      return Promise.resolve('ok');
    },
    { attempts: 3, clock },
  );
  assert.equal(value, 'ok');
  assert.deepEqual(seen, [1]);
  assert.deepEqual(clock.sleeps, []);
});
test('retry backs off between failures and reports each retry', async () => {
  const clock = new FakeClock();
  const retries: { attempt: number; delayMs: number; message: string }[] = [];
  const value = await retry(
    (attempt) => (attempt < 4 ? Promise.reject(failing(`fail ${attempt}`)) : Promise.resolve(attempt)),
    {
      attempts: 5,
      initialMs: 100,
      maxMs: 300,
      jitter: 'none',
      clock,
      onRetry: ({ error, attempt, delayMs }) => retries.push({ attempt, delayMs, message: (error as Error).message }),
    },
  );
  assert.equal(value, 4);
  assert.deepEqual(clock.sleeps, [100, 200, 300]);
  assert.deepEqual(retries, [
    { attempt: 1, delayMs: 100, message: 'fail 1' },
    { attempt: 2, delayMs: 200, message: 'fail 2' },
    { attempt: 3, delayMs: 300, message: 'fail 3' },
  ]);
});
test('retry rethrows the last error when the attempts run out', async () => {
  const clock = new FakeClock();
  const errors: Error[] = [];
  let calls = 0;
  await assert.rejects(
    retry(
      () => {
        calls++;
        const error = failing(`fail ${calls}`);
        errors.push(error);
        return Promise.reject(error);
      },
      { attempts: 3, initialMs: 10, clock, random: () => 0 },
    ),
    (error) => error === errors[2],
  );
  assert.equal(calls, 3);
  assert.deepEqual(clock.sleeps, [5, 10]); // equal jitter with random() = 0: half of 10, half of 20
});
test('retry rethrows at once when retryable says false, and tells it the attempt', async () => {
  const clock = new FakeClock();
  const asked: [string, number][] = [];
  await assert.rejects(
    retry((attempt) => Promise.reject(failing(attempt === 1 ? 'transient' : 'permanent')), {
      attempts: 10,
      clock,
      retryable: (error, attempt) => {
        asked.push([(error as Error).message, attempt]);
        return (error as Error).message === 'transient';
      },
    }),
    /permanent/,
  );
  assert.deepEqual(asked, [
    ['transient', 1],
    ['permanent', 2],
  ]);
  assert.equal(clock.sleeps.length, 1);
});
test('retry waits exactly the number retryable returns, without advancing the back-off', async () => {
  const clock = new FakeClock();
  const verdicts: (boolean | number)[] = [true, 5000, true, 0];
  const value = await retry(
    (attempt) => (attempt <= verdicts.length ? Promise.reject(failing('busy')) : Promise.resolve('done')),
    {
      attempts: 10,
      initialMs: 100,
      maxMs: 10_000,
      jitter: 'none',
      clock,
      retryable: (_error, attempt) => verdicts[attempt - 1] as boolean | number,
    },
  );
  assert.equal(value, 'done');
  // 100 (back-off 1), 5000 (Retry-After), 200 (back-off 2), no sleep for a zero wait.
  assert.deepEqual(clock.sleeps, [100, 5000, 200]);
});
test('retry never sleeps past timeoutMs: the last back-off is shortened, then the last error is rethrown', async () => {
  const clock = new FakeClock();
  let calls = 0;
  await assert.rejects(
    retry(
      () => {
        calls++;
        return Promise.reject(failing(`fail ${calls}`));
      },
      { timeoutMs: 1000, initialMs: 400, maxMs: 5000, jitter: 'none', clock },
    ),
    /fail 3/,
  );
  assert.deepEqual(clock.sleeps, [400, 600]);
  assert.equal(clock.time, 1000);
});
test('retry counts the time attempts take against timeoutMs', async () => {
  const clock = new FakeClock();
  let calls = 0;
  await assert.rejects(
    retry(
      () => {
        calls++;
        clock.time += 700; // each attempt is slow
        return Promise.reject(failing('slow'));
      },
      { timeoutMs: 1000, initialMs: 100, jitter: 'none', clock },
    ),
    /slow/,
  );
  // 0..700 first attempt, 100 back-off, 800..1500 second attempt: budget gone, no third.
  assert.equal(calls, 2);
  assert.deepEqual(clock.sleeps, [100]);
});
test('retry does not start a Retry-After wait that would end past the budget', async () => {
  const clock = new FakeClock();
  let calls = 0;
  await assert.rejects(
    retry(
      () => {
        calls++;
        return Promise.reject(failing('429'));
      },
      { timeoutMs: 10_000, clock, retryable: () => 30_000 },
    ),
    /429/,
  );
  assert.equal(calls, 1);
  assert.deepEqual(clock.sleeps, []);
});
test('retry refuses to run unbounded or with bad bounds', async () => {
  const op = () => Promise.resolve(1);
  await assert.rejects(retry(op), /give attempts or timeoutMs/);
  await assert.rejects(retry(op, { attempts: 0 }), /attempts must be a whole number ≥ 1, got 0/);
  await assert.rejects(retry(op, { attempts: 1.5 }), /attempts must be a whole number/);
  await assert.rejects(retry(op, { timeoutMs: -5 }), /timeoutMs must be a finite number ≥ 0, got -5/);
  await assert.rejects(retry(op, { attempts: 2, initialMs: 50, maxMs: 10 }), /maxMs must be/);
});
test('retry rejects with the signal reason: aborted before, during a wait, during an attempt', async () => {
  const reason = new Error('cancelled by SIGINT');

  let called = false;
  await assert.rejects(
    retry(
      () => {
        called = true;
        return Promise.resolve(1);
      },
      { attempts: 3, signal: AbortSignal.abort(reason) },
    ),
    (error) => error === reason,
  );
  assert.equal(called, false);

  const clock = new StuckClock();
  const controller = new AbortController();
  const pending = retry(() => Promise.reject(failing('down')), { attempts: 3, clock, signal: controller.signal });
  await clock.sleeping.promise;
  controller.abort(reason);
  await assert.rejects(pending, (error) => error === reason);

  const during = new AbortController();
  let attempts = 0;
  await assert.rejects(
    retry(
      () => {
        attempts++;
        during.abort(reason);
        return Promise.reject(failing('request aborted')); // what a fetch throws when aborted
      },
      { attempts: 3, clock: new FakeClock(), signal: during.signal },
    ),
    (error) => error === reason,
  );
  assert.equal(attempts, 1);
});
test('retry works on the real clock', async () => {
  let calls = 0;
  const value = await retry(
    () => {
      calls++;
      return calls < 3 ? Promise.reject(failing('not yet')) : Promise.resolve('real');
    },
    { attempts: 3, initialMs: 1, maxMs: 2 },
  );
  assert.equal(value, 'real');
});
test('retry and waitUntil are exported from @adci/common too, and only the structured entry loads the YAML parser', () => {
  assert.equal(index.retry, retry);
  assert.equal(index.waitUntil, waitUntil);
  assert.equal(index.WaitTimeoutError, WaitTimeoutError);
  // Module hooks see every module the entry loads; the structured entry is the control that they would see yaml.
  const loadsYaml = (entry: string): boolean => {
    const script =
      "const { registerHooks } = await import('node:module'); const seen = [];" +
      'registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });' +
      `await import('${entry}');` +
      "process.stdout.write(String(seen.some((url) => url.includes('/node_modules/yaml/'))));";
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout === 'true';
  };
  assert.equal(loadsYaml('@adci/common/basics'), false);
  assert.equal(loadsYaml('@adci/common'), false);
  assert.equal(loadsYaml('@adci/common/structured'), true);
});

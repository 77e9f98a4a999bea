import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCancellation } from './cancel.ts';

test('withCancellation: SIGTERM aborts the work; afterwards nothing listens any more', async () => {
  const before = process.listenerCount('SIGTERM');
  const reason = await withCancellation(
    (signal) =>
      new Promise<unknown>((resolve) => {
        signal.addEventListener('abort', () => resolve(signal.reason));
        process.emit('SIGTERM', 'SIGTERM');
      }),
  );
  assert.match(String(reason), /cancelled/);
  assert.equal(process.listenerCount('SIGTERM'), before);
});

test('withCancellation: a failing run stops listening too', async () => {
  const before = process.listenerCount('SIGINT');
  await assert.rejects(
    withCancellation(() => Promise.reject(new Error('boom'))),
    /boom/,
  );
  assert.equal(process.listenerCount('SIGINT'), before);
});

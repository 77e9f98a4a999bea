// A shard's plan: `i/n` read with errors naming the setting, whole units shared out with the
// remainder going to the first shards (so the shards add up exactly), and each shard's load phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseShard, shardLoad, shareOf } from './shard-plan.ts';
import type { LoadSpec } from './types.ts';

test('parseShard reads i/n and refuses anything else, naming the setting', () => {
  assert.deepEqual(parseShard(' 2 / 4 ', 'shard'), { index: 2, count: 4 });
  assert.throws(() => parseShard('2-4', 'shard'), /Input 'shard': '2-4' is not a shard \(write i\/n/);
  assert.throws(
    () => parseShard('5/4', '--shard'),
    /'5\/4': the shard number must be between 1 and the number of shards/,
  );
  assert.throws(() => parseShard('0/4', 'shard'), /between 1 and the number of shards/);
});

test('shareOf: the shares add up to the whole, the remainder one each to the first shards', () => {
  const shares = [1, 2, 3, 4].map((index) => shareOf(10, { index, count: 4 }));
  assert.deepEqual(shares, [3, 3, 2, 2]);
  assert.equal(
    shares.reduce((a, b) => a + b, 0),
    10,
  );
});

const load = (model: LoadSpec['model']): LoadSpec =>
  ({
    model,
    durationMs: 10_000,
    requests: [],
    thresholds: [{ expression: 'p(95)<300ms' }],
    abortOnFail: true,
  }) as unknown as LoadSpec;
const names = { shard: 'shard', connections: 'load-connections' };

test('shardLoad: the open model keeps the rate and shares the in-flight cap; thresholds wait for the merge', () => {
  const shard = { index: 1, count: 3 };
  const part = shardLoad(load({ kind: 'open', ratePerSecond: 900, maxInFlight: 250 }), shard, names);
  assert.deepEqual(part.model, { kind: 'open', ratePerSecond: 900, maxInFlight: 84 });
  assert.deepEqual(part.thresholds, []);
  assert.equal(part.abortOnFail, false);
  assert.deepEqual(part.shard, shard);
});

test('shardLoad: the closed model shares its connections; too few for the shards is an error naming the input', () => {
  const part = shardLoad(load({ kind: 'closed', connections: 5 }), { index: 2, count: 2 }, names);
  assert.deepEqual(part.model, { kind: 'closed', connections: 2 });
  assert.throws(
    () => shardLoad(load({ kind: 'closed', connections: 2 }), { index: 1, count: 3 }, names),
    /Input 'load-connections': 2 connections cannot be shared by 3 shards/,
  );
});

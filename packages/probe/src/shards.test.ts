import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { InputError, systemClock } from '@adci/common';
import { LatencyHistogram } from './histogram.ts';
import { runLoad } from './load.ts';
import { parseChecksDocument } from './spec.ts';
import type { HttpClient } from './http.ts';
import {
  captureHistogram,
  findShardFiles,
  mergeShards,
  parseShard,
  shardLoad,
  shareOf,
  writeShardResult,
  type ShardId,
} from './shards.ts';
import type { LoadSpec, SmokeResult } from './types.ts';

const loadOf = async (yaml: string): Promise<LoadSpec> => {
  const load = (await parseChecksDocument(`load:\n  path: /\n${yaml}`, 'checks')).load;
  assert.ok(load);
  return load;
};

async function refusal(body: () => unknown, pattern: RegExp): Promise<void> {
  await assert.rejects(Promise.resolve().then(body), (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

test('a shard is i/n with 1 <= i <= n', async () => {
  assert.deepEqual(parseShard(' 2 / 4 ', 'shard'), { index: 2, count: 4 });
  await refusal(() => parseShard('0/4', 'shard'), /Input 'shard': '0\/4'.*between 1 and/);
  await refusal(() => parseShard('5/4', '--shard'), /Input '--shard'/);
  await refusal(() => parseShard('two', 'shard'), /not a shard \(write i\/n/);
});

test('whole units are shared out exactly, the remainder one each to the first shards', () => {
  const shares = [1, 2, 3, 4].map((index) => shareOf(10, { index, count: 4 }));
  assert.deepEqual(shares, [3, 3, 2, 2]);
  assert.equal(
    [1, 2, 3].reduce((sum, index) => sum + shareOf(1001, { index, count: 3 }), 0),
    1001,
  );
});

test('the closed model shares connections; the open model keeps the whole rate and shares max-in-flight', async () => {
  const names = { shard: 'shard', connections: 'load-connections' };
  const closed = await loadOf('  connections: 10\n  duration: 1s\n  thresholds: [ rps>=10 ]\n  abort-on-fail: true\n');
  const parts = [1, 2, 3, 4].map((index) => shardLoad(closed, { index, count: 4 }, names));
  assert.deepEqual(
    parts.map((p) => (p.model.kind === 'closed' ? p.model.connections : 0)),
    [3, 3, 2, 2],
  );
  // Thresholds are judged once, on the merged results.
  assert.deepEqual(parts[0]?.thresholds, []);
  assert.equal(parts[0]?.abortOnFail, false);
  await refusal(
    async () => shardLoad(await loadOf('  connections: 3\n  duration: 1s\n'), { index: 1, count: 4 }, names),
    /Input 'load-connections': 3 connections cannot be shared by 4 shards/,
  );
  const open = shardLoad(
    await loadOf('  rate: 1001/s\n  duration: 1s\n  max-in-flight: 10\n'),
    { index: 4, count: 4 },
    names,
  );
  assert.deepEqual(open.model, { kind: 'open', ratePerSecond: 1001, maxInFlight: 2 });
  assert.deepEqual(open.shard, { index: 4, count: 4 });
});

test('open-model shards together send exactly the arrivals of the whole schedule', async () => {
  const client: HttpClient = {
    send: () => Promise.reject(new Error('not used')),
    fire: (_request, _timeout, done) => setImmediate(() => done(200, undefined)),
    dedicated: () => client,
    close: () => Promise.resolve(),
  };
  const whole = await loadOf('  rate: 1003/s\n  duration: 300ms\n');
  const target = { baseUrl: new URL('http://127.0.0.1:1/'), headers: {}, timeoutMs: 1000, lookup: () => undefined };
  const results = await Promise.all(
    [1, 2, 3].map((index) =>
      runLoad(shardLoad(whole, { index, count: 3 }, { shard: 's', connections: 'c' }), target, {
        client,
        clock: systemClock,
      }),
    ),
  );
  const planned = Math.floor((300 * 1003) / 1000);
  assert.deepEqual(
    results.map((r) => r.sent + r.dropped),
    [1, 2, 3].map((index) => shareOf(planned, { index, count: 3 })),
  );
  assert.equal(results[0]?.requestedRate, Math.round((1003 / 3) * 10_000) / 10_000);
});

// ---- result files and merge ----

/** Latencies spread over five orders of magnitude, as a real service's tail is. */
function samples(n: number, seed: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(Math.exp((x / 2147483648) * 11) / 100); // 0.01 ms .. ~600 ms
  }
  return out;
}

const plan = await loadOf('  rate: 400/s\n  duration: 2s\n  thresholds: [ p(99)<1s, error_rate<0.05, rps>=100 ]\n');

function shardResult(shard: ShardId, latencies: number[], startedAtMs: number, overrides: Partial<SmokeResult> = {}) {
  const histogram = new LatencyHistogram();
  for (const ms of latencies) histogram.recordMs(ms);
  const captured = captureHistogram(histogram);
  histogram.destroy();
  const result: SmokeResult = {
    passed: true,
    baseUrl: 'http://127.0.0.1:8080/',
    startedAt: new Date(startedAtMs - 50).toISOString(),
    durationMs: 2100,
    checks: [],
    counts: { passed: 0, failed: 0, skipped: 0 },
    load: {
      model: 'open',
      requestedRate: 100,
      maxInFlight: 250,
      plannedDurationMs: 2000,
      durationMs: 2000,
      startedAt: new Date(startedAtMs).toISOString(),
      aborted: false,
      sent: latencies.length,
      completed: latencies.length,
      dropped: 0,
      errors: shard.index,
      errorRate: 0,
      rps: 0,
      sentRate: 0,
      statusCounts: { '200': latencies.length - shard.index, '500': shard.index },
      errorKinds: { 'unexpected-status': shard.index },
      latency: { p50: 0, p90: 0, p95: 0, p99: 0, max: 0, min: 0, avg: 0 },
      timeline: [],
      timelineBucketSeconds: 1,
      thresholds: [],
      passed: true,
    },
    ...overrides,
  };
  return { result, captured };
}

function writeShards(dir: string, count: number, perShard = 800, start = 1_900_000_000_000): number[][] {
  const all: number[][] = [];
  for (let index = 1; index <= count; index++) {
    const latencies = samples(perShard, index * 7919);
    all.push(latencies);
    const shard = { index, count };
    const { result, captured } = shardResult(shard, latencies, start + index * 10);
    writeShardResult({ dir, shard, plan, result, histogram: captured, run: '42.1' });
  }
  return all;
}

async function withDir(body: (dir: string) => unknown): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shards-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('merged percentiles, max, min and avg equal those of one histogram of every sample', async () => {
  await withDir((dir) => {
    const all = writeShards(dir, 4);
    const reference = new LatencyHistogram();
    for (const ms of all.flat()) reference.recordMs(ms);
    const merged = mergeShards(findShardFiles(dir, '/', 'merge'), dir);
    assert.deepEqual(merged.load?.latency, reference.summary());
    const load = merged.load;
    assert.ok(load);
    assert.equal(load.completed, 3200);
    assert.equal(load.errors, 1 + 2 + 3 + 4);
    assert.equal(load.errorRate, Math.round((10 / 3200) * 10_000) / 10_000);
    assert.deepEqual(load.statusCounts, { '200': 3190, '500': 10 });
    // The wall window runs from the first shard's start to the last shard's end.
    assert.equal(load.durationMs, 2030);
    assert.equal(load.rps, Math.round((3200 / 2.03) * 10_000) / 10_000);
    assert.equal(load.requestedRate, 400);
    assert.deepEqual(
      load.thresholds.map((t) => [t.threshold, t.passed]),
      [
        ['p(99)<1s', true],
        ['error_rate<0.05', true],
        ['rps>=100', true],
      ],
    );
    assert.equal(merged.passed, true);
    assert.deepEqual(
      merged.shards?.map((s) => s.index),
      [1, 2, 3, 4],
    );
    reference.destroy();
  });
});

test('the histogram log is HdrHistogram interval log 1.3, readable by its HistogramLogReader', async () => {
  await withDir((dir) => {
    const [latencies = []] = writeShards(dir, 1);
    const text = readFileSync(join(dir, 'shard-1-of-1.hlog'), 'utf8');
    assert.match(text, /^#\[Histogram log format version 1\.3\]$/m);
    assert.match(text, /^#\[StartTime: \d+\.\d{3} \(seconds since epoch\), /m);
    assert.match(text, /^"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"$/m);
    assert.match(text, /^0\.000,2\.000,\d+\.\d{3},HISTFAA/m);
    const reader = new hdr.HistogramLogReader(text);
    const histogram = reader.nextIntervalHistogram();
    assert.ok(histogram);
    assert.equal(histogram.totalCount, latencies.length);
    assert.equal(histogram.startTimeStampMsec, 1_900_000_000_010);
    assert.equal(reader.nextIntervalHistogram(), null);
  });
});

test('a missing, duplicate or foreign shard is an error naming the file', async () => {
  await withDir(async (dir) => {
    writeShards(dir, 4);
    rmSync(join(dir, 'shard-3-of-4.json'));
    await refusal(
      () => mergeShards(findShardFiles(dir, '/', 'merge'), dir),
      /Input 'merge': '.*': shard 3 of 4 missing/,
    );
  });
  await withDir(async (dir) => {
    writeShards(join(dir, 'a'), 2);
    writeShards(join(dir, 'b'), 2);
    await refusal(
      () => mergeShards(findShardFiles(dir, '/', 'merge'), dir),
      /b\/shard-1-of-2\.json: shard 1\/2 is also in .*a\/shard-1-of-2\.json/,
    );
  });
  await withDir(async (dir) => {
    writeShards(join(dir, 'a'), 2);
    writeShards(join(dir, 'b'), 3);
    await refusal(
      () => mergeShards(findShardFiles(dir, '/', 'merge'), dir),
      /b\/shard-1-of-3\.json: shard 1\/3 does not belong with .*a\/shard-1-of-2\.json .*different numbers of shards/,
    );
  });
  await withDir(async (dir) => {
    writeShards(dir, 2);
    const path = join(dir, 'shard-2-of-2.json');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"42.1"', '"43.1"'));
    await refusal(() => mergeShards(findShardFiles(dir, '/', 'merge'), dir), /shard-2-of-2\.json: from run '43\.1'/);
  });
  await withDir(async (dir) => {
    writeShards(dir, 2);
    const path = join(dir, 'shard-2-of-2.json');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"rps>=100"', '"rps>=10"'));
    await refusal(
      () => mergeShards(findShardFiles(dir, '/', 'merge'), dir),
      /shard-2-of-2\.json: its load phase \(.*rps>=10\]\) differs from/,
    );
  });
});

test('a garbled result file or histogram log is an error naming the file', async () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['not JSON', (d) => writeFileSync(join(d, 'shard-1-of-2.json'), '{"format": '), /shard-1-of-2\.json: is not JSON/],
    [
      'another shape',
      (d) =>
        writeFileSync(join(d, 'shard-1-of-2.json'), '{"format":"adci-load-shard/1","shard":{"index":1,"count":2}}'),
      /shard-1-of-2\.json: baseUrl must be a string/,
    ],
    [
      'a count that is not a count',
      (d) => {
        const p = join(d, 'shard-1-of-2.json');
        writeFileSync(p, readFileSync(p, 'utf8').replace(/"sent": \d+/, '"sent": -3'));
      },
      /shard-1-of-2\.json: load\.sent must be an integer >= 0/,
    ],
    [
      'a histogram that is not base64 HdrHistogram',
      (d) => {
        const p = join(d, 'shard-2-of-2.hlog');
        writeFileSync(p, readFileSync(p, 'utf8').replace(/HISTFAA\S+/, 'HISTFAAAAAAAAAAAAAAAA'));
      },
      /shard-2-of-2\.hlog:6: not a compressed HdrHistogram/,
    ],
    [
      'a line that is not an interval',
      (d) => writeFileSync(join(d, 'shard-2-of-2.hlog'), '#[Histogram log format version 1.3]\ngarbage\n'),
      /shard-2-of-2\.hlog:2: not an interval line/,
    ],
    [
      'an empty log',
      (d) => writeFileSync(join(d, 'shard-2-of-2.hlog'), '#[Histogram log format version 1.3]\n'),
      /shard-2-of-2\.hlog: holds no interval histogram/,
    ],
    ['a missing log', (d) => rmSync(join(d, 'shard-2-of-2.hlog')), /shard-2-of-2\.hlog: cannot be read \(ENOENT\)/],
    [
      "another shard's log",
      (d) => copyFileSync(join(d, 'other', 'shard-1-of-1.hlog'), join(d, 'shard-2-of-2.hlog')),
      /shard-2-of-2\.hlog: holds 50 latencies, but .*shard-2-of-2\.json counts 800/,
    ],
  ];
  for (const [what, garble, pattern] of cases) {
    await withDir(async (dir) => {
      writeShards(dir, 2);
      mkdirSync(join(dir, 'other'));
      writeShards(join(dir, 'other'), 1, 50);
      garble(dir);
      const files = findShardFiles(join(dir, 'shard-*-of-2.json'), '/', 'merge');
      assert.equal(files.length, 2, what);
      await refusal(() => mergeShards(files, dir), pattern);
    });
  }
});

test('nothing to merge, or a shard without load results, is an error', async () => {
  await withDir(async (dir) => {
    await refusal(() => findShardFiles(dir, '/', 'merge'), /Input 'merge': '.*' holds no shard result files/);
    await refusal(() => findShardFiles(join(dir, 'none-*.json'), '/', 'merge'), /holds no shard result files/);
    const { result } = shardResult({ index: 1, count: 1 }, [1, 2], 1_900_000_000_000);
    const failed: SmokeResult = { ...result, passed: false, checks: [] };
    delete failed.load;
    writeShardResult({ dir, shard: { index: 1, count: 1 }, plan, result: failed });
    await refusal(
      () => mergeShards(findShardFiles(dir, '/', 'merge'), dir),
      /shard-1-of-1\.json: shard 1\/1 has no load results \(the load phase did not run\)/,
    );
  });
});

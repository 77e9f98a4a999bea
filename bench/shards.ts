// Merging shard results (`smoke-test` merge mode): 16 shards of 1 M latency samples each, merged
// from their result files and HdrHistogram logs on disk, timed against recording the same 16 M
// samples into one histogram (the baseline, in the same run), and checked for exactness: the merged
// percentiles, max, min and avg equal the baseline histogram's.
import { isDeepStrictEqual } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LatencyHistogram,
  captureHistogram,
  findShardFiles,
  mergeShards,
  parseChecksDocument,
  writeShardResult,
  type SmokeResult,
} from '@adci/probe';
import type { BenchFigure } from './figures.ts';

const SHARDS = 16;
const PER_SHARD = 1_000_000;
const MERGE_ROUNDS = 5;
const BASELINE_ROUNDS = 3;

/** Latencies from 10 µs to ~10 s with a long tail (a deterministic generator, so runs compare). */
function samples(shard: number): Float64Array {
  const out = new Float64Array(PER_SHARD);
  let x = shard * 2_654_435_761;
  for (let i = 0; i < PER_SHARD; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    const u = x / 4_294_967_296;
    out[i] = 0.01 * Math.exp(u * u * 13.8);
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function shardResult(histogram: LatencyHistogram, startedAtMs: number): SmokeResult {
  return {
    passed: true,
    baseUrl: 'http://127.0.0.1:8080/',
    startedAt: new Date(startedAtMs).toISOString(),
    durationMs: 60_000,
    checks: [],
    counts: { passed: 0, failed: 0, skipped: 0 },
    load: {
      model: 'open',
      plannedDurationMs: 60_000,
      durationMs: 60_000,
      startedAt: new Date(startedAtMs).toISOString(),
      aborted: false,
      sent: histogram.count,
      completed: histogram.count,
      dropped: 0,
      errors: 0,
      errorRate: 0,
      rps: 0,
      sentRate: 0,
      statusCounts: { '200': histogram.count },
      errorKinds: {},
      latency: histogram.summary(),
      timeline: [],
      timelineBucketSeconds: 1,
      thresholds: [],
      passed: true,
    },
  };
}

export async function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-shards-'));
  try {
    const plan = (
      await parseChecksDocument(
        `load:\n  path: /\n  rate: ${(SHARDS * PER_SHARD) / 60}/s\n  duration: 60s\n  thresholds: [ p(99)<10s, error_rate<0.01 ]\n`,
        'bench',
      )
    ).load;
    if (!plan) throw new Error('no load block');
    const all: Float64Array[] = [];
    const start = Date.now();
    for (let index = 1; index <= SHARDS; index++) {
      const values = samples(index);
      all.push(values);
      const histogram = new LatencyHistogram();
      for (const ms of values) histogram.recordMs(ms);
      const shard = { index, count: SHARDS };
      writeShardResult({
        dir,
        shard,
        plan,
        result: shardResult(histogram, start),
        histogram: captureHistogram(histogram),
      });
      histogram.destroy();
    }

    // Baseline: one histogram records every sample.
    const baselineMs: number[] = [];
    let reference: LatencyHistogram | undefined;
    for (let round = 0; round < BASELINE_ROUNDS; round++) {
      reference?.destroy();
      reference = new LatencyHistogram();
      const t0 = performance.now();
      for (const values of all) for (const ms of values) reference.recordMs(ms);
      baselineMs.push(performance.now() - t0);
    }
    if (!reference) throw new Error('no baseline');

    const mergeMs: number[] = [];
    let merged: SmokeResult | undefined;
    for (let round = 0; round < MERGE_ROUNDS; round++) {
      const t0 = performance.now();
      merged = mergeShards(findShardFiles(dir, dir, 'merge'), dir);
      mergeMs.push(performance.now() - t0);
    }
    const exact =
      merged?.load !== undefined &&
      isDeepStrictEqual(merged.load.latency, reference.summary()) &&
      merged.load.completed === reference.count &&
      reference.count === SHARDS * PER_SHARD;
    const mergeTime = median(mergeMs);
    const baselineTime = median(baselineMs);
    const ratio = mergeTime / baselineTime;
    const l = merged?.load?.latency;
    reference.destroy();
    return [
      {
        name: `merge of ${SHARDS} shard histograms of ${PER_SHARD / 1e6} M samples each vs recording them into one`,
        ratio,
        target: '< 1.0x, under 1 s and exact',
        ok: exact && ratio < 1 && mergeTime < 1000,
        detail:
          `merge (read, decode, add, judge) ${mergeTime.toFixed(1)} ms (median of ${MERGE_ROUNDS}) vs ` +
          `${((SHARDS * PER_SHARD) / 1e6).toFixed(0)} M recordings ${baselineTime.toFixed(0)} ms (median of ${BASELINE_ROUNDS}); ` +
          `${exact ? 'exact' : 'NOT EXACT'}: p50 ${l?.p50} p95 ${l?.p95} p99 ${l?.p99} max ${l?.max} ms`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Load beyond one runner: a shard (`i/n`) runs its share of a load phase and writes its counts
// (JSON) and its latency histogram (an HdrHistogram interval log) to a directory; `merge` reads
// every shard's files and judges the thresholds once, on the exact merged histogram and the summed
// counts. Anything missing, garbled or from another run is an error naming the file: never a pass.
import { existsSync, globSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { InputError } from '@adci/common/basics';
import { LatencyHistogram } from './histogram.ts';
import { evaluateThresholds, parseThreshold, withImplicitErrorRate, type MetricSource } from './thresholds.ts';
import type { LatencySummary, LoadResult, LoadSpec, ShardSummary, SmokeResult } from './types.ts';
import type { ShardId } from './shard-plan.ts';

// The plan (which shard sends what) has no histogram in it: settings read it without loading one.
export { parseShard, shareOf, shardLoad, type ShardId } from './shard-plan.ts';

/** Version of the shard result file; merge refuses any other. */
export const SHARD_FORMAT = 'adci-load-shard/1';

/** What merge needs of a shard's histogram beyond its counts: the exact sum, minimum and maximum. */
export interface CapturedHistogram {
  encoded: string;
  count: number;
  sumUs: number;
  minUs: number;
  maxUs: number;
}

export function captureHistogram(histogram: LatencyHistogram): CapturedHistogram {
  return {
    encoded: histogram.encodeCompressed(),
    count: histogram.count,
    sumUs: histogram.sumMicros,
    minUs: histogram.minMicros,
    maxUs: histogram.maxMicros,
  };
}

/** The shard result file (JSON), beside its histogram log. */
export interface ShardFile {
  format: typeof SHARD_FORMAT;
  shard: ShardId;
  /** Identifies the run (e.g. GitHub's run id and attempt); merge refuses shards of several runs. */
  run?: string;
  baseUrl: string;
  /** The whole load phase, as every shard was given it: merge refuses shards that disagree. */
  plan: {
    model: 'open' | 'closed';
    rate?: number;
    maxInFlight?: number;
    connections?: number;
    durationMs: number;
    thresholds: string[];
  };
  /** The shard's own verdict: its checks passed and its load phase ran to the end. */
  passed: boolean;
  problems: string[];
  /** Absent when the load phase did not run (its checks failed with fail-fast, or a failed wait). */
  load?: {
    histogram: string;
    startedAtMs: number;
    durationMs: number;
    requestedRate?: number;
    connections?: number;
    sent: number;
    completed: number;
    dropped: number;
    /** Errors, including the requests abandoned in flight (`unfinished`). */
    errors: number;
    unfinished: number;
    aborted: boolean;
    abortReason?: string;
    statusCounts: Record<string, number>;
    errorKinds: Record<string, number>;
    latencyUs: { count: number; sum: number; min: number; max: number };
  };
}

export function shardFileName(shard: ShardId, extension: 'json' | 'hlog'): string {
  return `shard-${shard.index}-of-${shard.count}.${extension}`;
}

const round3 = (n: number): string => (Math.round(n * 1000) / 1000).toFixed(3);

/**
 * HdrHistogram's interval log (format 1.3, as its Java HistogramLogWriter writes it): a start
 * time, the legend, and one interval line holding the whole load phase's histogram of latencies in
 * microseconds, compressed and base64-encoded. HdrHistogram's HistogramLogReader and
 * HistogramLogProcessor read it.
 */
export function histogramLog(
  captured: CapturedHistogram,
  startedAtMs: number,
  durationMs: number,
  label: string,
): string {
  const start = (startedAtMs / 1000).toFixed(3);
  return [
    `#[${label}: latencies in microseconds]`,
    '#[Histogram log format version 1.3]',
    `#[StartTime: ${start} (seconds since epoch), ${new Date(startedAtMs).toISOString()}]`,
    `#[BaseTime: ${start} (seconds since epoch)]`,
    '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"',
    `0.000,${round3(durationMs / 1000)},${round3(captured.maxUs / 1000)},${captured.encoded}`,
    '',
  ].join('\n');
}

export interface ShardWriteOptions {
  dir: string;
  shard: ShardId;
  /** The whole load phase (before shardLoad), with its thresholds. */
  plan: LoadSpec;
  result: SmokeResult;
  histogram?: CapturedHistogram;
  run?: string;
  /** Masks secrets in what is written. */
  redact?: (text: string) => string;
}

/** Writes `shard-i-of-n.json` and `shard-i-of-n.hlog` into `dir`; returns the JSON file's path. */
export function writeShardResult(options: ShardWriteOptions): string {
  const { dir, shard, plan, result } = options;
  const redact = options.redact ?? ((text: string) => text);
  mkdirSync(dir, { recursive: true });
  const problems: string[] = [];
  const failed = result.checks.filter((c) => c.outcome === 'failed');
  if (result.wait && !result.wait.ready) problems.push(`${result.wait.url} never became ready`);
  if (failed.length > 0) problems.push(`${failed.length} of ${result.checks.length} checks failed`);
  if (result.load?.aborted) problems.push(`load phase stopped early: ${result.load.abortReason ?? ''}`);
  if (!result.load) problems.push('the load phase did not run');
  const file: ShardFile = {
    format: SHARD_FORMAT,
    shard: { index: shard.index, count: shard.count },
    ...(options.run ? { run: options.run } : {}),
    baseUrl: result.baseUrl,
    plan: {
      model: plan.model.kind,
      ...(plan.model.kind === 'open'
        ? { rate: plan.model.ratePerSecond, maxInFlight: plan.model.maxInFlight }
        : { connections: plan.model.connections }),
      durationMs: plan.durationMs,
      // The implicit error rate is added again when the plan is read back (merge).
      thresholds: plan.thresholds.filter((t) => !t.implicit).map((t) => t.text),
    },
    passed: problems.length === 0,
    problems,
  };
  const load = result.load;
  if (load && options.histogram) {
    const h = options.histogram;
    const startedAtMs = load.startedAt ? Date.parse(load.startedAt) : Date.parse(result.startedAt);
    const logName = shardFileName(shard, 'hlog');
    writeFileSync(
      join(dir, logName),
      histogramLog(h, startedAtMs, load.durationMs, `adci load shard ${shard.index}/${shard.count}`),
    );
    file.load = {
      histogram: logName,
      startedAtMs,
      durationMs: load.durationMs,
      ...(load.requestedRate !== undefined ? { requestedRate: load.requestedRate } : {}),
      ...(load.connections !== undefined ? { connections: load.connections } : {}),
      sent: load.sent,
      completed: load.completed,
      dropped: load.dropped,
      errors: load.errors,
      unfinished: load.errorKinds.unfinished ?? 0,
      aborted: load.aborted,
      ...(load.abortReason ? { abortReason: load.abortReason } : {}),
      statusCounts: load.statusCounts,
      errorKinds: load.errorKinds,
      latencyUs: { count: h.count, sum: h.sumUs, min: h.minUs, max: h.maxUs },
    };
  }
  const path = join(dir, shardFileName(shard, 'json'));
  writeFileSync(path, `${redact(JSON.stringify(file, null, 2))}\n`);
  return path;
}

// ---- merge ----

const SHARD_FILE = /^shard-\d+-of-\d+\.json$/;

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile() && SHARD_FILE.test(entry.name)) out.push(path);
  }
}

/**
 * The shard result files `source` names: a directory (every `shard-i-of-n.json` below it, as
 * actions/download-artifact lays several artifacts out) or a glob of result files or directories,
 * relative to `cwd`. Finding none is an error naming `source`.
 */
export function findShardFiles(source: string, cwd: string, name: string): string[] {
  const trimmed = source.trim();
  if (!trimmed) throw new InputError(name, 'is empty: give a directory or a glob of shard result files');
  const absolute = isAbsolute(trimmed) ? trimmed : resolve(cwd, trimmed);
  const files: string[] = [];
  if (existsSync(absolute) && statSync(absolute).isDirectory()) walk(absolute, files);
  else {
    const matches = globSync(trimmed, { cwd }).map((m) => (isAbsolute(m) ? m : resolve(cwd, m)));
    for (const match of matches) {
      if (statSync(match).isDirectory()) walk(match, files);
      else files.push(match);
    }
  }
  if (files.length === 0) throw new InputError(name, `'${trimmed}' holds no shard result files (shard-i-of-n.json)`);
  return [...new Set(files)].sort();
}

type Json = Record<string, unknown>;

/** Reads and checks one shard result file's shape; every problem names the file. */
function readShardFile(path: string, name: string): ShardFile {
  const fail = (problem: string): never => {
    throw new InputError(name, `${path}: ${problem}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(code ? `cannot be read (${code})` : `is not JSON (${(error as Error).message})`);
  }
  const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) return fail('is not a shard result (not a JSON object)');
  if (value.format !== SHARD_FORMAT) {
    return fail(`is not a shard result of this version (format '${String(value.format)}', expected '${SHARD_FORMAT}')`);
  }
  const count = (v: unknown, field: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return fail(`${field} must be an integer >= 0`);
    return v;
  };
  const number = (v: unknown, field: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return fail(`${field} must be a number >= 0`);
    return v;
  };
  const counts = (v: unknown, field: string): Record<string, number> => {
    if (!isObject(v)) return fail(`${field} must be an object of counts`);
    for (const [k, n] of Object.entries(v)) count(n, `${field}.${k}`);
    return v as Record<string, number>;
  };
  const shard = value.shard;
  if (!isObject(shard)) return fail('has no shard');
  const index = count(shard.index, 'shard.index');
  const total = count(shard.count, 'shard.count');
  if (total < 1 || index < 1 || index > total) fail(`shard ${index}/${total} is not a shard number`);
  if (typeof value.baseUrl !== 'string') fail('baseUrl must be a string');
  if (value.run !== undefined && typeof value.run !== 'string') fail('run must be a string');
  if (typeof value.passed !== 'boolean') fail('passed must be true or false');
  if (!Array.isArray(value.problems) || value.problems.some((p) => typeof p !== 'string')) {
    fail('problems must be a list of strings');
  }
  const plan = value.plan;
  if (!isObject(plan)) return fail('has no plan');
  if (plan.model !== 'open' && plan.model !== 'closed') fail(`plan.model must be open or closed`);
  if (plan.model === 'open') {
    number(plan.rate, 'plan.rate');
    count(plan.maxInFlight, 'plan.maxInFlight');
  } else count(plan.connections, 'plan.connections');
  number(plan.durationMs, 'plan.durationMs');
  if (!Array.isArray(plan.thresholds) || plan.thresholds.some((t) => typeof t !== 'string')) {
    fail('plan.thresholds must be a list of strings');
  }
  const load = value.load;
  if (load !== undefined) {
    if (!isObject(load)) return fail('load must be an object');
    if (typeof load.histogram !== 'string' || load.histogram === '' || basename(load.histogram) !== load.histogram) {
      fail('load.histogram must name a file beside it');
    }
    number(load.startedAtMs, 'load.startedAtMs');
    number(load.durationMs, 'load.durationMs');
    for (const field of ['sent', 'completed', 'dropped', 'errors', 'unfinished']) count(load[field], `load.${field}`);
    if (typeof load.aborted !== 'boolean') fail('load.aborted must be true or false');
    counts(load.statusCounts, 'load.statusCounts');
    counts(load.errorKinds, 'load.errorKinds');
    const latency = load.latencyUs;
    if (!isObject(latency)) return fail('load.latencyUs is missing');
    const n = count(latency.count, 'load.latencyUs.count');
    const min = count(latency.min, 'load.latencyUs.min');
    const max = count(latency.max, 'load.latencyUs.max');
    const sum = number(latency.sum, 'load.latencyUs.sum');
    if (n !== (load.completed as number) + (load.unfinished as number)) {
      fail(
        `load.latencyUs.count (${n}) is not completed + unfinished (${String(load.completed)} + ${String(load.unfinished)})`,
      );
    }
    if (n > 0 && (min > max || sum < n * min || sum > n * max)) fail('load.latencyUs min, max and sum disagree');
  }
  return value as unknown as ShardFile;
}

/** Adds the interval histograms of one log to `merged`; returns how many values they held. */
function addHistogramLog(path: string, merged: LatencyHistogram, name: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(name, `${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let values = 0;
  let intervals = 0;
  const lines = text.split(/\r\n|\r|\n/);
  lines.forEach((line, i) => {
    const at = `${path}:${i + 1}`;
    if (line.trim() === '' || line.startsWith('#') || line.startsWith('"StartTimestamp"')) return;
    const fields = line.split(',');
    if (fields[0]?.startsWith('Tag=')) fields.shift();
    if (fields.length !== 4 || fields.slice(0, 3).some((f) => f.trim() === '' || !Number.isFinite(Number(f)))) {
      throw new InputError(name, `${at}: not an interval line (start,length,max,compressed histogram)`);
    }
    try {
      values += merged.addCompressed((fields[3] as string).trim());
    } catch (error) {
      throw new InputError(name, `${at}: not a compressed HdrHistogram (${(error as Error).message})`);
    }
    intervals++;
  });
  if (intervals === 0) throw new InputError(name, `${path}: holds no interval histogram`);
  return values;
}

const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;

/**
 * Merges the shard results in `files` (from findShardFiles; `source` is what the user gave, for
 * messages) into one smoke result whose load phase is judged on the merged histogram and the summed
 * counts: error rate from the summed counts, rate = summed responses / the wall-clock window from
 * the first shard's start to the last shard's end.
 */
export function mergeShards(files: string[], source: string, name = 'merge'): SmokeResult {
  const shards = files.map((path) => ({ path, file: readShardFile(path, name) }));
  const first = shards[0];
  if (!first) throw new InputError(name, `'${source}' holds no shard result files`);
  const count = first.file.shard.count;
  const byIndex = new Map<number, string>();
  for (const { path, file } of shards) {
    if (file.shard.count !== count) {
      throw new InputError(
        name,
        `${path}: shard ${file.shard.index}/${file.shard.count} does not belong with ${first.path} (shard ${first.file.shard.index}/${count}): different numbers of shards`,
      );
    }
    const other = byIndex.get(file.shard.index);
    if (other) throw new InputError(name, `${path}: shard ${file.shard.index}/${count} is also in ${other}`);
    byIndex.set(file.shard.index, path);
    if ((file.run ?? '') !== (first.file.run ?? '')) {
      throw new InputError(
        name,
        `${path}: from run '${file.run ?? '(none)'}', but ${first.path} is from run '${first.file.run ?? '(none)'}'`,
      );
    }
    if (JSON.stringify(file.plan) !== JSON.stringify(first.file.plan) || file.baseUrl !== first.file.baseUrl) {
      throw new InputError(
        name,
        `${path}: its load phase (${describePlan(file)}) differs from ${first.path} (${describePlan(first.file)})`,
      );
    }
  }
  const missing: number[] = [];
  for (let i = 1; i <= count; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) {
    throw new InputError(
      name,
      `'${source}': shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${count} missing (found ${files
        .map((f) => relative(process.cwd(), f) || f)
        .join(', ')})`,
    );
  }
  for (const { path, file } of shards) {
    if (!file.load) {
      throw new InputError(
        name,
        `${path}: shard ${file.shard.index}/${count} has no load results (${file.problems.join('; ') || 'no load phase'})`,
      );
    }
  }

  const merged = new LatencyHistogram();
  try {
    const totals = { sent: 0, completed: 0, dropped: 0, errors: 0, unfinished: 0 };
    const statusCounts: Record<string, number> = {};
    const errorKinds: Record<string, number> = {};
    const add = (into: Record<string, number>, from: Record<string, number>): void => {
      for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
    };
    let windowStart = Infinity;
    let windowEnd = -Infinity;
    const summaries: ShardSummary[] = [];
    const aborts: string[] = [];
    for (const { path, file } of shards.sort((a, b) => a.file.shard.index - b.file.shard.index)) {
      const load = file.load as NonNullable<ShardFile['load']>;
      const logPath = join(dirname(path), load.histogram);
      const values = addHistogramLog(logPath, merged, name);
      if (values !== load.latencyUs.count) {
        throw new InputError(name, `${logPath}: holds ${values} latencies, but ${path} counts ${load.latencyUs.count}`);
      }
      merged.addExact(load.latencyUs);
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += load[key];
      add(statusCounts, load.statusCounts);
      add(errorKinds, load.errorKinds);
      windowStart = Math.min(windowStart, load.startedAtMs);
      windowEnd = Math.max(windowEnd, load.startedAtMs + load.durationMs);
      if (load.aborted) aborts.push(`shard ${file.shard.index}/${count}: ${load.abortReason ?? 'stopped early'}`);
      const summary: ShardSummary = {
        index: file.shard.index,
        count,
        file: path,
        passed: file.passed,
        completed: load.completed,
        startedAt: new Date(load.startedAtMs).toISOString(),
        durationMs: load.durationMs,
      };
      if (file.problems.length > 0) summary.problems = file.problems;
      summaries.push(summary);
    }
    const windowMs = Math.max(0, windowEnd - windowStart);
    const judged = totals.completed + totals.unfinished;
    const source_: MetricSource = {
      percentile: (p) => merged.percentileMs(p),
      avg: merged.avgMs,
      min: merged.minMs,
      max: merged.maxMs,
      errorRate: judged === 0 ? 0 : totals.errors / judged,
      rps: windowMs <= 0 ? 0 : totals.completed / (windowMs / 1000),
      dropped: totals.dropped,
      droppedRate: totals.sent + totals.dropped === 0 ? 0 : totals.dropped / (totals.sent + totals.dropped),
    };
    const plan = first.file.plan;
    const thresholds = evaluateThresholds(
      withImplicitErrorRate(plan.thresholds.map((t) => parseThreshold(t, `${first.path} plan.thresholds`))),
      source_,
    );
    const latency: LatencySummary = merged.summary();
    const load: LoadResult = {
      model: plan.model,
      plannedDurationMs: plan.durationMs,
      durationMs: Math.round(windowMs),
      startedAt: new Date(windowStart).toISOString(),
      aborted: aborts.length > 0,
      sent: totals.sent,
      completed: totals.completed,
      dropped: totals.dropped,
      errors: totals.errors,
      errorRate: round4(source_.errorRate),
      rps: round4(source_.rps),
      sentRate: round4(windowMs > 0 ? totals.sent / (windowMs / 1000) : 0),
      statusCounts,
      errorKinds,
      latency,
      // Per-second percentiles cannot be merged exactly from the shards' timelines: none is shown.
      timeline: [],
      timelineBucketSeconds: 1,
      thresholds,
      passed: false,
    };
    if (plan.model === 'open') {
      load.requestedRate = plan.rate;
      load.maxInFlight = plan.maxInFlight;
    } else load.connections = plan.connections;
    if (aborts.length > 0) load.abortReason = aborts.join('; ');
    load.passed = !load.aborted && thresholds.every((t) => t.passed);
    const failedShards = summaries.filter((s) => !s.passed).length;
    const result: SmokeResult = {
      passed: false,
      baseUrl: first.file.baseUrl,
      startedAt: load.startedAt as string,
      durationMs: load.durationMs,
      checks: [],
      load,
      shards: summaries,
      counts: {
        passed: thresholds.filter((t) => t.passed).length,
        failed: thresholds.filter((t) => !t.passed).length + failedShards,
        skipped: 0,
      },
    };
    result.passed = result.counts.failed === 0 && load.passed;
    return result;
  } finally {
    merged.destroy();
  }
}

function describePlan(file: ShardFile): string {
  const p = file.plan;
  const model = p.model === 'open' ? `${p.rate}/s, max ${p.maxInFlight} in flight` : `${p.connections} connections`;
  return `${file.baseUrl}, ${model}, ${p.durationMs}ms, thresholds [${p.thresholds.join(', ')}]`;
}

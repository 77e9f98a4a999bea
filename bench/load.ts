// Load-generator benchmarks against servers in separate processes on 127.0.0.1:
// - a 1 s stall of the server in the middle of a 2,000 req/s open-model run: the engine's p95 and
//   p99 against the ground truth, computed here (see `groundTruth`) from the schedule, the window
//   the server was actually frozen and how fast the server worked off the stall's backlog, both
//   reported by the server (bench/stall-server.ts): each request's latency from its intended send time to its response
//   (coordinated-omission-correct). The median of STALL_RUNS runs, as the machine is shared;
// - the open model's client CPU at 2,000 req/s against k6 running the same schedule, when a k6
//   binary is there (it is not built here: see `k6Binary`), and against vegeta, an open-model
//   tool that can be built here (bench/vegeta.ts), on the same schedule; both exact on rate.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { systemClock } from '@adci/common';
import {
  createHttpClient,
  defaultMaxInFlight,
  parseChecksDocument,
  runLoad,
  type HttpClient,
  type LoadResult,
} from '@adci/probe';
import type { BenchFigure } from './figures.ts';
import { ensureVegeta, runMeasured, VEGETA_VERSION } from './vegeta.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const RATE = 2000;
const STALL_SECONDS = 6;
const STALL_AT_MS = 2500;
const STALL_MS = 1000;
const STALL_RUNS = 3;
const CPU_SECONDS = 5;

interface Server {
  url: string;
  child: ChildProcess;
}

async function startServer(file: string): Promise<Server> {
  const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return { url: `http://127.0.0.1:${message.port}`, child };
}

async function stopServer(server: Server): Promise<void> {
  server.child.disconnect();
  if (server.child.exitCode === null) await once(server.child, 'exit');
}

/**
 * An open-model run at RATE, with max-in-flight room for the stall so that no arrival is dropped;
 * `onFirstSecond` is called when its first second is over.
 */
async function openRun(
  url: string,
  seconds: number,
  client: HttpClient,
  onFirstSecond?: () => void,
  maxInFlight = RATE * 3,
): Promise<LoadResult> {
  const block = `  duration: ${seconds}s\n  rate: ${RATE}/s\n  max-in-flight: ${maxInFlight}\n`;
  const load = (await parseChecksDocument(`load:\n  path: /\n${block}`, 'bench')).load;
  if (!load) throw new Error('no load block');
  let first = true;
  return runLoad(
    load,
    { baseUrl: new URL(url), headers: {}, timeoutMs: 10_000, lookup: () => undefined },
    {
      client,
      clock: systemClock,
      onProgress: () => {
        if (first) onFirstSecond?.();
        first = false;
      },
    },
  );
}

/** The value at quantile `q` in [0, 1] of sorted values, nearest rank (as HdrHistogram reads it). */
function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/**
 * The ground truth of a run, as a client that sends every request at its intended time would see
 * it: request i is due at `startMs + i / rate`; the server answers in order, one request every
 * 1/capacity seconds at most (the rate at which it worked off this run's backlog), and nothing while it is
 * frozen. So a request due during the freeze is answered after the freeze's end, behind those due
 * before it; a request due after it, once the backlog is gone.
 */
function groundTruth(
  startMs: number,
  planned: number,
  freeze: { from: number; to: number },
  capacity: number,
): Float64Array {
  const latencies = new Float64Array(planned);
  const serviceMs = 1000 / capacity;
  let free = -Infinity;
  for (let i = 0; i < planned; i++) {
    const due = startMs + (i * 1000) / RATE;
    let begin = Math.max(due, free);
    if (begin >= freeze.from && begin < freeze.to) begin = freeze.to;
    free = begin + serviceMs;
    latencies[i] = free - due;
  }
  return latencies.sort();
}

interface StallRun {
  result: LoadResult;
  truth: { p95: number; p99: number };
  freeze: { from: number; to: number };
  capacity: number;
}

async function stallRun(client: HttpClient): Promise<StallRun> {
  const server = await startServer(join(import.meta.dirname, 'stall-server.ts'));
  try {
    // The server reports the freeze window, then its drain rate.
    const reports: { from?: number; to?: number; drainRate?: number }[] = [];
    server.child.on('message', (message: { from?: number; to?: number; drainRate?: number }) => reports.push(message));
    // The connections are opened before the schedule starts: the stall is timed from its first second.
    const result = await openRun(server.url, STALL_SECONDS, client, () =>
      server.child.send({ freezeAt: Date.now() + STALL_AT_MS - 1000, freezeMs: STALL_MS }),
    );
    const freeze = reports.find((r) => r.to !== undefined) as { from: number; to: number } | undefined;
    const capacity = reports.find((r) => r.drainRate !== undefined)?.drainRate;
    if (!freeze || capacity === undefined)
      throw new Error(`the stall server did not report: ${JSON.stringify(reports)}`);
    const startMs = Date.parse(result.startedAt ?? '');
    const truth = groundTruth(startMs, result.sent + result.dropped, freeze, capacity);
    return { result, truth: { p95: percentile(truth, 0.95), p99: percentile(truth, 0.99) }, freeze, capacity };
  } finally {
    await stopServer(server);
  }
}

/**
 * A k6 binary, when one is there: K6_BIN, or `k6` in the Go build cache (~/.cache/adci/k6/k6).
 * k6 is not built by this repository: the Go module list this machine may use marks
 * go.k6.io/k6 as not to be used (it is under the AGPL), so the figure reads "k6 unavailable".
 */
function k6Binary(): string | undefined {
  const candidates = [
    process.env.K6_BIN,
    join(process.env.ADCI_CACHE_DIR ?? join(process.env.HOME ?? '/root', '.cache', 'adci'), 'k6', 'k6'),
  ];
  return candidates.find((path): path is string => path !== undefined && path !== '' && existsSync(path));
}

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const ms = (n: number): string => `${n.toFixed(0)}ms`;

  const client = createHttpClient();
  try {
    // A first run warms the bench's client and the machine up, and is not counted (its ground
    // truth read far off the others in trials).
    await stallRun(client);
    const runs: StallRun[] = [];
    for (let i = 0; i < STALL_RUNS; i++) runs.push(await stallRun(client));
    const ratio95 = (r: StallRun): number => r.result.latency.p95 / r.truth.p95;
    const ratio99 = (r: StallRun): number => r.result.latency.p99 / r.truth.p99;
    const all = (f: (r: StallRun) => number): string => runs.map((r) => f(r).toFixed(3)).join(', ');
    const median = (f: (r: StallRun) => number): StallRun =>
      [...runs].sort((a, b) => f(a) - f(b))[Math.floor(runs.length / 2)] as StallRun;
    const m95 = median(ratio95);
    const m99 = median(ratio99);
    const p95 = ratio95(m95);
    const p99 = ratio99(m99);
    const { result, truth, freeze, capacity } = m95;
    const within = (ratio: number): boolean => Math.abs(ratio - 1) <= 0.05;
    const detail =
      `${RATE}/s for ${STALL_SECONDS}s, server frozen ${freeze.to - freeze.from}ms from ` +
      `${freeze.from - Date.parse(result.startedAt ?? '')}ms; engine p95 ${ms(result.latency.p95)} p99 ${ms(result.latency.p99)}, ` +
      `ground truth p95 ${ms(truth.p95)} p99 ${ms(truth.p99)} (backlog worked off at ${capacity.toFixed(0)} req/s); ${result.completed} responses, ${result.errors} errors, ` +
      `${result.dropped} dropped; ${result.preopenedConnections ?? 0} connections opened ahead, ` +
      `${result.openedConnections ?? 0} at the end; ${result.waitedForConnection ?? 0} requests waited for a connection`;
    figures.push(
      {
        name: 'load: p95 under a 1 s server stall vs ground truth',
        ratio: p95,
        target: '1 ± 0.05',
        ok: within(p95),
        detail: `median of ${STALL_RUNS} runs (${all(ratio95)}); the median run: ${detail}`,
      },
      {
        name: 'load: p99 under a 1 s server stall vs ground truth',
        ratio: p99,
        target: '1 ± 0.05',
        ok: within(p99),
        detail: `median of ${STALL_RUNS} runs (${all(ratio99)}); engine p99 ${ms(m99.result.latency.p99)}, ground truth p99 ${ms(m99.truth.p99)}`,
      },
    );
  } finally {
    await client.close();
  }

  figures.push(await vegetaFigure());

  const k6 = k6Binary();
  if (!k6) {
    figures.push({
      name: `load: open-model client CPU at ${RATE}/s vs k6`,
      ratio: Number.NaN,
      target: '<= 0.5x',
      ok: true,
      skipped:
        'k6 unavailable: go.k6.io/k6 is marked not to be used on this machine (AGPL); set K6_BIN to a k6 binary to measure',
      detail: await openCpu(),
    });
  }
  return figures;
}

/**
 * The engine's own CPU per request for a plain open-model run at RATE (shown when k6 is absent),
 * with the default max-in-flight (1,000 at 2,000/s, all opened ahead: their connects are counted).
 */
async function openCpu(): Promise<string> {
  const server = await startServer(join(import.meta.dirname, '..', 'test', 'fakes', 'service-minimal.ts'));
  const client = createHttpClient();
  try {
    await openRun(server.url, 1, client, undefined, defaultMaxInFlight(RATE));
    const before = process.cpuUsage();
    const result = await openRun(server.url, CPU_SECONDS, client, undefined, defaultMaxInFlight(RATE));
    const cpu = process.cpuUsage(before);
    const us = (cpu.user + cpu.system) / Math.max(1, result.completed);
    return (
      `engine alone: ${us.toFixed(1)} µs CPU/request at ${RATE}/s over ${CPU_SECONDS}s ` +
      `(${result.completed} responses, achieved ${(result.sentRate / RATE).toFixed(4)} of the rate, ` +
      `${result.preopenedConnections ?? 0} connections opened ahead)`
    );
  } finally {
    await client.close();
    await stopServer(server);
  }
}

/** One paired round: the engine's and vegeta's CPU per response and achieved rate on one schedule. */
interface CpuRun {
  usPerResponse: number;
  rate: number;
  /** The share of requests that failed, and the first errors (vegeta). */
  failures?: string;
}

async function engineCpu(url: string, client: HttpClient): Promise<CpuRun> {
  const before = process.cpuUsage();
  const result = await openRun(url, CPU_SECONDS, client, undefined, defaultMaxInFlight(RATE));
  const cpu = process.cpuUsage(before);
  if (result.errors > 0) throw new Error(`engine open-model run had ${result.errors} errors`);
  return { usPerResponse: (cpu.user + cpu.system) / Math.max(1, result.completed), rate: result.sentRate };
}

async function vegetaCpu(binary: string, url: string, dir: string): Promise<CpuRun> {
  const targets = join(dir, 'targets.txt');
  const results = join(dir, 'results.bin');
  writeFileSync(targets, `GET ${url}/\n`);
  const attack = await runMeasured(binary, [
    'attack',
    `-rate=${RATE}/s`,
    `-duration=${CPU_SECONDS}s`,
    `-targets=${targets}`,
    `-output=${results}`,
    '-timeout=10s',
  ]);
  const reportFile = join(dir, 'report.json');
  await runMeasured(binary, ['report', '-type=json', `-output=${reportFile}`, results]);
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
    requests: number;
    rate: number;
    success: number;
    errors: string[] | null;
  };
  const run: CpuRun = { usPerResponse: attack.cpuUs / Math.max(1, report.requests), rate: report.rate };
  if (report.success < 1)
    run.failures = `${((1 - report.success) * 100).toFixed(2)}% (${(report.errors ?? []).slice(0, 2).join('; ')})`;
  return run;
}

/**
 * The open model's client CPU per response at RATE against vegeta on the same schedule (paired
 * rounds in ABBA order, median of the ratios); both must keep the rate within 1 %.
 */
async function vegetaFigure(): Promise<BenchFigure> {
  const name = `load: open-model client CPU at ${RATE}/s vs vegeta ${VEGETA_VERSION} (k6 stand-in)`;
  const target = '<= 0.5x, both within 1 % of the rate';
  const { binary, unavailable } = await ensureVegeta();
  if (!binary)
    return { name, ratio: Number.NaN, target, ok: true, skipped: unavailable ?? 'vegeta unavailable', detail: '' };
  const server = await startServer(join(import.meta.dirname, '..', 'test', 'fakes', 'service-minimal.ts'));
  const client = createHttpClient();
  const dir = mkdtempSync(join(tmpdir(), 'adci-bench-vegeta-'));
  try {
    // Warm both up.
    await openRun(server.url, 1, client, undefined, defaultMaxInFlight(RATE));
    await vegetaCpu(binary, server.url, dir);
    const ours: CpuRun[] = [];
    const theirs: CpuRun[] = [];
    for (let round = 0; round < 4; round++) {
      if (round % 2 === 0) {
        theirs.push(await vegetaCpu(binary, server.url, dir));
        ours.push(await engineCpu(server.url, client));
      } else {
        ours.push(await engineCpu(server.url, client));
        theirs.push(await vegetaCpu(binary, server.url, dir));
      }
    }
    const ratios = ours.map((r, i) => r.usPerResponse / (theirs[i] as CpuRun).usPerResponse).sort((a, b) => a - b);
    const ratio = ((ratios[1] as number) + (ratios[2] as number)) / 2;
    const exact = (runs: CpuRun[]): boolean => runs.every((r) => Math.abs(r.rate / RATE - 1) <= 0.01);
    const med = (runs: CpuRun[], f: (r: CpuRun) => number): number => {
      const v = runs.map(f).sort((a, b) => a - b);
      return ((v[1] as number) + (v[2] as number)) / 2;
    };
    const missed = [exact(ours) ? '' : 'the engine', exact(theirs) ? '' : 'vegeta'].filter(Boolean);
    const failed = theirs.flatMap((r) => (r.failures ? [r.failures] : []));
    return {
      name,
      ratio,
      target,
      ok: ratio <= 0.5 && missed.length === 0 && failed.length === 0,
      detail:
        (missed.length > 0 ? `${missed.join(' and ')} missed the rate by more than 1 % in a round; ` : '') +
        (failed.length > 0 ? `vegeta's requests failed in ${failed.length} round(s): ${failed.join(', ')}; ` : '') +
        `same server, ${RATE}/s for ${CPU_SECONDS}s each, 4 paired rounds (ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}): ` +
        `engine ${med(ours, (r) => r.usPerResponse).toFixed(1)} µs CPU/response at ${ours.map((r) => r.rate.toFixed(1)).join(', ')}/s ` +
        `(its ${defaultMaxInFlight(RATE)} connections opened ahead counted), vegeta ${med(theirs, (r) => r.usPerResponse).toFixed(1)} µs ` +
        `(user + system of its process) at ${theirs.map((r) => r.rate.toFixed(1)).join(', ')}/s`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await client.close();
    await stopServer(server);
  }
}

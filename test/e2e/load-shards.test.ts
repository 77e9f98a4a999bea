// End-to-end: a load phase split across 4 shards running in parallel (separate processes) against
// one loopback service, then merged. The merged percentiles and max equal those of one histogram
// that recorded every raw sample of every shard; the merged rate is within 2% of the target; and
// missing, duplicate, mismatched and garbled shards are errors naming the file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { LatencyHistogram, type SmokeResult } from '@adci/probe';
import { repoRoot, runActionBundle } from '../runner/index.ts';

const RATE = 400;
const SECONDS = 6;
const SHARDS = 4;
const work = mkdtempSync(join(tmpdir(), 'load-shards-'));
let server: Server;
let baseUrl = '';

before(async () => {
  // Latencies with a tail: most answers at once, every 10th after 3 ms, every 100th after 25 ms.
  let n = 0;
  server = createServer((_req, res) => {
    n++;
    const delay = n % 100 === 0 ? 25 : n % 10 === 0 ? 3 : 0;
    const answer = (): void => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    };
    if (delay === 0) answer();
    else setTimeout(answer, delay);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** `adci smoke ...args` through the bundled command, as `npx adci` runs it. */
async function adci(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'adci.js'), 'smoke', ...args], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { stdout, stderr, code };
}

/** Runs the 4 worker shards in parallel with a shared start barrier; returns every raw sample. */
async function runWorkerShards(dir: string): Promise<number[]> {
  const workers = Array.from({ length: SHARDS }, (_, i) =>
    fork(
      join(import.meta.dirname, 'load-shard-worker.ts'),
      [baseUrl, `${i + 1}/${SHARDS}`, `${RATE}/s`, `${SECONDS}s`, dir, join(dir, `samples-${i + 1}.json`)],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    ),
  );
  await Promise.all(workers.map((w) => once(w, 'message')));
  const startAt = new Date(Date.now() + 1500).toISOString();
  for (const w of workers) w.send({ startAt });
  const codes = await Promise.all(workers.map(async (w) => ((await once(w, 'exit')) as [number | null])[0]));
  assert.deepEqual(codes, [0, 0, 0, 0]);
  const samples: number[] = [];
  for (let i = 1; i <= SHARDS; i++) {
    samples.push(...(JSON.parse(readFileSync(join(dir, `samples-${i}.json`), 'utf8')) as number[]));
  }
  return samples;
}

test('4 shards in parallel: the merged p50/p95/p99/max are exactly those of every sample in one histogram', async () => {
  const dir = join(work, 'workers');
  const samples = await runWorkerShards(dir);
  const reference = new LatencyHistogram();
  for (let i = 0; i < samples.length; i += 2) reference.recordMs(samples[i] as number, samples[i + 1]);

  const merged = await adci(['--merge', dir, '--json']);
  assert.equal(merged.code, 0, merged.stderr + merged.stdout);
  const result = JSON.parse(merged.stdout) as SmokeResult;
  const load = result.load;
  assert.ok(load);
  const expected = reference.summary();
  assert.deepEqual(
    { p50: load.latency.p50, p95: load.latency.p95, p99: load.latency.p99, max: load.latency.max },
    { p50: expected.p50, p95: expected.p95, p99: expected.p99, max: expected.max },
  );
  // Everything else the histogram gives is exact too.
  assert.deepEqual(load.latency, expected);
  assert.equal(load.completed + (load.errorKinds.unfinished ?? 0), reference.count);
  reference.destroy();

  // The shards sent exactly the whole schedule between them, and the rate is the whole rate.
  assert.equal(load.sent + load.dropped, RATE * SECONDS);
  assert.equal(load.requestedRate, RATE);
  const off = Math.abs(load.rps - RATE) / RATE;
  assert.ok(off < 0.02, `merged rate ${load.rps}/s is ${(off * 100).toFixed(2)}% off ${RATE}/s`);
  assert.deepEqual(
    result.shards?.map((s) => `${s.index}/${s.count} ${s.passed}`),
    ['1/4 true', '2/4 true', '3/4 true', '4/4 true'],
  );
  assert.equal(result.passed, true);
});

test('adci smoke --shard writes HdrHistogram logs that its own reader adds up to the merge', async () => {
  const dir = join(work, 'cli');
  // The bundles take a while to start on a busy machine: a start barrier well ahead.
  const startAt = new Date(Date.now() + 6000).toISOString();
  const runs = await Promise.all(
    Array.from({ length: SHARDS }, (_, i) =>
      adci([
        '--base-url',
        baseUrl,
        '--checks',
        '- path: /healthz\n',
        '--load-rate',
        `${RATE}/s`,
        '--load-duration',
        `${SECONDS}s`,
        '--load-path',
        '/work',
        '--load-threshold',
        'p(99)<2s',
        '--load-threshold',
        `rps>=${RATE * 0.98}`,
        '--load-start-at',
        startAt,
        '--shard',
        `${i + 1}/${SHARDS}`,
        '--shard-dir',
        dir,
      ]),
    ),
  );
  for (const run of runs) assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.match(runs[0]?.stderr ?? '', /shard 1\/4 results: .*shard-1-of-4\.json/);

  // HdrHistogram's own log reader, independently of the merge.
  const independent = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (let i = 1; i <= SHARDS; i++) {
    const reader = new hdr.HistogramLogReader(readFileSync(join(dir, `shard-${i}-of-${SHARDS}.hlog`), 'utf8'));
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) independent.add(h);
  }

  const merged = await runActionBundle('smoke-test', {
    with: { 'base-url': baseUrl, merge: 'cli/shard-*-of-4.json' },
    env: { GITHUB_WORKSPACE: work, RUNNER_TEMP: work },
    cwd: work,
    timeoutMs: 60_000,
  });
  assert.equal(merged.exitCode, 0, merged.stdout);
  const result = JSON.parse(readFileSync(merged.outputs.report ?? '', 'utf8')) as SmokeResult;
  const load = result.load;
  assert.ok(load);
  assert.equal(load.completed + (load.errorKinds.unfinished ?? 0), independent.totalCount);
  for (const [p, key] of [
    [50, 'p50'],
    [95, 'p95'],
    [99, 'p99'],
  ] as const) {
    assert.equal(load.latency[key], independent.getValueAtPercentile(p) / 1000, `p${p}`);
  }
  independent.destroy();
  assert.equal(load.sent + load.dropped, RATE * SECONDS);
  assert.ok(Math.abs(load.rps - RATE) / RATE < 0.02, `merged rate ${load.rps}/s`);
  assert.equal(merged.outputs['p99-ms'], String(load.latency.p99));
  assert.match(merged.summary, /Merged from 4 shards/);
  assert.match(merged.summary, /\| `rps>=392` \| ✅ pass \|/);
});

/** A copy of the CLI shards' results, changed by `change`, merged by `adci smoke --merge`. */
async function mergeAltered(change: (dir: string) => void): Promise<Run> {
  const dir = mkdtempSync(join(work, 'altered-'));
  cpSync(join(work, 'cli'), dir, { recursive: true });
  change(dir);
  return adci(['--merge', dir]);
}

test('missing, duplicate, mismatched and garbled shards fail the merge, naming the file', async () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['missing', (d) => rmSync(join(d, 'shard-3-of-4.json')), /shard 3 of 4 missing/],
    [
      'duplicate',
      (d) => {
        mkdirSync(join(d, 'copy'));
        cpSync(join(d, 'shard-2-of-4.json'), join(d, 'copy', 'shard-2-of-4.json'));
      },
      /shard-2-of-4\.json: shard 2\/4 is also in .*altered-\w+\/(copy\/)?shard-2-of-4\.json/,
    ],
    [
      'another number of shards',
      (d) => {
        const text = readFileSync(join(d, 'shard-4-of-4.json'), 'utf8').replace('"count": 4', '"count": 5');
        writeFileSync(join(d, 'shard-4-of-5.json'), text);
      },
      /shard-4-of-5\.json: shard 4\/5 does not belong with .*different numbers of shards/,
    ],
    [
      'garbled histogram',
      (d) => writeFileSync(join(d, 'shard-1-of-4.hlog'), '0.000,4.000,1.000,bm90IGEgaGlzdG9ncmFt\n'),
      /shard-1-of-4\.hlog:1: not a compressed HdrHistogram/,
    ],
    ['garbled result', (d) => writeFileSync(join(d, 'shard-2-of-4.json'), '{'), /shard-2-of-4\.json: is not JSON/],
  ];
  for (const [what, change, pattern] of cases) {
    const run = await mergeAltered(change);
    // Exit 2: an error (not a verdict), as for any bad input.
    assert.equal(run.code, 2, `${what}: ${run.stdout}`);
    assert.match(run.stderr, pattern, what);
    assert.doesNotMatch(run.stdout, /passed/, what);
  }
  const none = await adci(['--merge', 'nothing-here-*.json']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Input '--merge': 'nothing-here-\*\.json' holds no shard result files/);
});

/** HdrHistogram's Java jar from the local Maven repository (`mvn dependency:get -Dartifact=org.hdrhistogram:HdrHistogram:2.2.2`). */
function hdrHistogramJar(): string | undefined {
  const base = join(homedir(), '.m2', 'repository', 'org', 'hdrhistogram', 'HdrHistogram');
  if (!existsSync(base)) return undefined;
  for (const version of readdirSync(base).sort().reverse()) {
    const jar = join(base, version, `HdrHistogram-${version}.jar`);
    if (existsSync(jar)) return jar;
  }
  return undefined;
}

const jar = hdrHistogramJar();
const java = spawnSync('java', ['-version']).status === 0;

test(
  "HdrHistogram's own Java HistogramLogProcessor reads a shard's log",
  { skip: !jar || !java ? 'needs java and the HdrHistogram jar in ~/.m2 (mvn dependency:get)' : false },
  () => {
    const log = join(work, 'cli', 'shard-1-of-4.hlog');
    const shard = JSON.parse(readFileSync(join(work, 'cli', 'shard-1-of-4.json'), 'utf8')) as {
      load: { latencyUs: { count: number; sum: number } };
    };
    const run = spawnSync(
      'java',
      ['-cp', jar as string, 'org.HdrHistogram.HistogramLogProcessor', '-i', log, '-outputValueUnitRatio', '1000'],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    const total = /#\[Max\s+=\s+[\d.]+, Total count\s+=\s+(\d+)\]/.exec(run.stdout);
    assert.equal(Number(total?.[1]), shard.load.latencyUs.count, run.stdout);
    const mean = /#\[Mean\s+=\s+([\d.]+),/.exec(run.stdout);
    // Java's mean is from bucket midpoints: within the histogram's 3 significant digits of the exact one.
    const exact = shard.load.latencyUs.sum / shard.load.latencyUs.count / 1000;
    assert.ok(Math.abs(Number(mean?.[1]) - exact) / exact < 0.002, `${mean?.[1]} vs ${exact}`);
  },
);

test('smoke-test shards (the action) write their results to shard-dir; merge refuses another run attempt', async () => {
  const startAt = new Date(Date.now() + 4000).toISOString();
  const shard = (index: number, attempt: string) =>
    runActionBundle('smoke-test', {
      with: {
        'base-url': baseUrl,
        'load-connections': '3',
        'load-duration': '1s',
        'load-path': '/work',
        'load-thresholds': 'error_rate<0.01',
        'load-start-at': startAt,
        shard: `${index}/2`,
        'shard-dir': `action/${index}`,
        'report-file': `action/report-${index}.json`,
      },
      env: { GITHUB_WORKSPACE: work, RUNNER_TEMP: work, GITHUB_RUN_ATTEMPT: attempt },
      cwd: work,
      timeoutMs: 60_000,
    });
  const [first, second] = await Promise.all([shard(1, '1'), shard(2, '1')]);
  assert.equal(first?.exitCode, 0, first?.stdout);
  assert.equal(second?.exitCode, 0, second?.stdout);
  assert.equal(first?.outputs['shard-dir'], join(work, 'action', '1'));
  assert.match(first?.stdout ?? '', /closed model, shard 1\/2, 2 connections/);
  assert.match(second?.stdout ?? '', /closed model, shard 2\/2, 1 connections/);
  const file = JSON.parse(readFileSync(join(work, 'action', '2', 'shard-2-of-2.json'), 'utf8')) as { run: string };
  assert.equal(file.run, '7001.1');

  const merged = await runActionBundle('smoke-test', {
    with: { 'base-url': baseUrl, merge: 'action' },
    env: { GITHUB_WORKSPACE: work, RUNNER_TEMP: work },
    cwd: work,
    timeoutMs: 60_000,
  });
  assert.equal(merged.exitCode, 0, merged.stdout);
  const result = JSON.parse(readFileSync(merged.outputs.report ?? '', 'utf8')) as SmokeResult;
  assert.equal(result.load?.connections, 3);
  assert.equal(result.shards?.length, 2);

  // A re-run of one shard alone (attempt 2) does not mix with attempt 1.
  const rerun = await shard(2, '2');
  assert.equal(rerun.exitCode, 0, rerun.stdout);
  const refused = await runActionBundle('smoke-test', {
    with: { 'base-url': baseUrl, merge: 'action' },
    env: { GITHUB_WORKSPACE: work, RUNNER_TEMP: work },
    cwd: work,
    timeoutMs: 60_000,
  });
  assert.equal(refused.exitCode, 1);
  assert.match(
    refused.annotations.map((a) => a.message).join('\n'),
    /shard-2-of-2\.json: from run '7001\.2', but .*shard-1-of-2\.json is from run '7001\.1'/,
  );
});

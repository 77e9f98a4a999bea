// The same Artillery scenario, at the same arrival rate, through real Artillery 2 (from the npm
// registry) and through `adci smoke --artillery`, one after the other against one minimal server:
// the achieved request rates must agree within 2 %, and adci's CPU time for the whole run (its
// process, start-up included) must be at most 0.3x Artillery's. Each side's CPU is measured by
// bash's `times` around its process, so worker threads and children count.
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SmokeResult } from '@adci/probe';
import type { BenchFigure } from './figures.ts';

const ARTILLERY_VERSION = '2.0.34';
const RATE = 300;
const SECONDS = 10;
const repoRoot = join(import.meta.dirname, '..');

/**
 * Artillery's directory: ADCI_ARTILLERY_DIR, else a cache under ~/.cache/adci installed once with
 * npm (install scripts off: its optional browser engine would download a browser).
 */
function artilleryBin(): string {
  const dir = process.env.ADCI_ARTILLERY_DIR || join(homedir(), '.cache', 'adci', `artillery-${ARTILLERY_VERSION}`);
  const bin = join(dir, 'node_modules', 'artillery', 'bin', 'run');
  if (!existsSync(bin)) {
    process.stdout.write(`installing artillery@${ARTILLERY_VERSION} into ${dir} (once)\n`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"name":"adci-bench-artillery","private":true}\n');
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', `artillery@${ARTILLERY_VERSION}`],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  return bin;
}

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(join(repoRoot, 'test', 'fakes', 'service-minimal.ts'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return { url: `http://127.0.0.1:${message.port}`, child };
}

/** Runs a command under bash, whose `times` gives the CPU of everything it ran (user + system). */
async function timed(
  command: string[],
  env: Record<string, string>,
): Promise<{ cpuMs: number; stdout: string; code: number }> {
  // A fixed script: the command comes in as arguments, never inside the script's text.
  const child = spawn('bash', ['-c', '"$@" >&4; status=$?; times >&3; exit $status', 'bench', ...command], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'pipe'],
  });
  let times = '';
  let stdout = '';
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => (times += chunk.toString()));
  (child.stdio[4] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  // Second line: the children's user and system time, e.g. "0m1.234s 0m0.120s".
  const children = times.trim().split('\n')[1] ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (seconds.length !== 2) throw new Error(`cannot read CPU times from bash's times: ${JSON.stringify(times)}`);
  return { cpuMs: ((seconds[0] as number) + (seconds[1] as number)) * 1000, stdout, code };
}

interface ArtilleryReport {
  aggregate: { counters: Record<string, number>; firstCounterAt: number; lastCounterAt: number };
}

export async function run(): Promise<BenchFigure[]> {
  const bin = artilleryBin();
  const { url, child } = await startServer();
  const dir = mkdtempSync(join(tmpdir(), 'bench-artillery-'));
  try {
    const scenario = join(dir, 'scenario.yml');
    writeFileSync(
      scenario,
      `config:
  target: "${url}"
  phases:
    - duration: ${SECONDS}
      arrivalRate: ${RATE}
  plugins:
    expect: {}
scenarios:
  - flow:
      - get:
          url: "/"
          expect:
            - statusCode: 200
`,
    );
    const output = join(dir, 'report.json');
    const theirs = await timed([process.execPath, bin, 'run', '--output', output, scenario], {
      ARTILLERY_DISABLE_TELEMETRY: 'true',
    });
    if (theirs.code !== 0) throw new Error(`artillery exited ${theirs.code}`);
    const report = JSON.parse(readFileSync(output, 'utf8')) as ArtilleryReport;
    const counters = report.aggregate.counters;
    const theirRequests = counters['http.requests'] ?? 0;
    const theirErrors = Object.entries(counters)
      .filter(([k]) => k.startsWith('errors.'))
      .reduce((sum, [, n]) => sum + n, 0);
    // From the first request to the last response recorded.
    const theirSeconds = (report.aggregate.lastCounterAt - report.aggregate.firstCounterAt) / 1000;
    const theirRate = theirRequests / theirSeconds;

    const ours = await timed(
      [process.execPath, join(repoRoot, 'bin', 'adci.js'), 'smoke', '--artillery', scenario, '--json'],
      {},
    );
    const result = JSON.parse(ours.stdout) as SmokeResult;
    const load = result.load;
    if (!load) throw new Error('adci ran no load phase');
    const ourRate = load.sentRate;
    const rateRatio = ourRate / theirRate;
    const cpuRatio = ours.cpuMs / theirs.cpuMs;
    const fmt = (n: number): string => n.toFixed(1);
    return [
      {
        name: `Artillery scenario at ${RATE}/s: achieved rate, adci vs Artillery`,
        ratio: rateRatio,
        target: 'within 2% (0.98–1.02x)',
        ok: Math.abs(rateRatio - 1) <= 0.02,
        detail:
          `adci ${load.sent} requests, ${fmt(ourRate)}/s (${load.errors} errors, ${load.dropped} dropped); ` +
          `Artillery ${ARTILLERY_VERSION} ${theirRequests} requests in ${fmt(theirSeconds)}s, ${fmt(theirRate)}/s ` +
          `(${theirErrors} errors); same server, one after the other`,
      },
      {
        name: `Artillery scenario at ${RATE}/s: CPU for the run, adci vs Artillery`,
        ratio: cpuRatio,
        target: '<= 0.3x',
        ok: cpuRatio <= 0.3,
        detail:
          `user+system CPU of each whole process (start-up included) for ${SECONDS}s at ${RATE}/s: ` +
          `adci ${Math.round(ours.cpuMs)}ms, Artillery ${Math.round(theirs.cpuMs)}ms`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    child.disconnect();
    if (child.exitCode === null) await once(child, 'exit');
  }
}

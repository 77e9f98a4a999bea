// Cold start of each built action: process start to exit on a missing required input, as a
// ratio to `node -e 0` measured in the same run (medians of interleaved runs).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchFigure } from './figures.ts';

const root = join(import.meta.dirname, '..');
const RUNS = 15;
/** Targets from the issues; an action without one is reported against notify's. */
const TARGETS: Record<string, number> = { notify: 3.5 };

function timeOnce(args: string[], env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

export async function run(): Promise<BenchFigure[]> {
  const temp = mkdtempSync(join(tmpdir(), 'adci-bench-'));
  const summary = join(temp, 'summary');
  writeFileSync(summary, '');
  // The runner's environment with no inputs at all: every action must fail fast naming the input.
  const env = { PATH: process.env.PATH, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, RUNNER_TEMP: temp };
  const actions = readdirSync(root).filter(
    (name) => existsSync(join(root, name, 'action.yml')) && existsSync(join(root, 'dist', name, 'index.js')),
  );
  const samples: Record<string, number[]> = { baseline: [] };
  for (const name of actions) samples[name] = [];
  timeOnce(['-e', '0'], env); // warm the page cache
  for (let i = 0; i < RUNS; i++) {
    samples.baseline!.push(timeOnce(['-e', '0'], env));
    for (const name of actions) samples[name]!.push(timeOnce([join(root, 'dist', name, 'index.js')], env));
  }
  const baseline = median(samples.baseline!);
  return actions.map((name) => {
    const ms = median(samples[name]!);
    const ratio = ms / baseline;
    const target = TARGETS[name];
    return {
      name: `${name} cold start`,
      ratio,
      target: target ? `<= ${target}x node -e 0` : 'reported',
      ok: target ? ratio <= target : true,
      detail: `${ms.toFixed(1)} ms vs node -e 0 ${baseline.toFixed(1)} ms (median of ${RUNS})`,
    };
  });
}

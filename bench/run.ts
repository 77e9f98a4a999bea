// `npm run bench`: every performance target as a ratio against a baseline measured in the same run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchFigure } from './figures.ts';

const suites = ['cold-start', 'smoke', 'load', 'artillery', 'shards', 'gate', 'deploy', 'analysis', 'waves'];
const only = process.argv.slice(2);
const figures: BenchFigure[] = [];
for (const suite of suites.filter((s) => only.length === 0 || only.includes(s))) {
  const file = join(import.meta.dirname, `${suite}.ts`);
  if (!existsSync(file)) continue;
  process.stdout.write(`── ${suite}\n`);
  const module = (await import(file)) as { run: () => Promise<BenchFigure[]> };
  for (const figure of await module.run()) {
    figures.push(figure);
    if (figure.skipped !== undefined) {
      process.stdout.write(`SKIP  ${figure.name} (target ${figure.target}): ${figure.skipped} — ${figure.detail}\n`);
      continue;
    }
    process.stdout.write(
      `${figure.ok ? 'PASS' : 'FAIL'}  ${figure.name}: ${figure.ratio.toFixed(3)}x (target ${figure.target}) — ${figure.detail}\n`,
    );
  }
}
const failed = figures.filter((f) => !f.ok && f.skipped === undefined);
const skipped = figures.filter((f) => f.skipped !== undefined).length;
const measured = figures.length - skipped;
process.stdout.write(
  `\n${measured - failed.length} of ${measured} targets met${skipped > 0 ? ` (${skipped} not measured here)` : ''}\n`,
);
if (failed.length > 0) process.exitCode = 1;

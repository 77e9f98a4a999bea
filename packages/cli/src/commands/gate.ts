// `adci gate`: the quality-gate engine from GitLab CI, Jenkins or a terminal. Prints the same
// verdict and summary as the action (plain text, Markdown or JSON) and exits 1 when the gate fails.
// The options are declared here; the engine loads only when the command runs (gate-run.ts).
import type { Command } from 'commander';
import type { GateOptions } from './gate-run.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split('\n')];

export function registerGate(program: Command): void {
  program
    .command('gate')
    .description('read test, coverage, lint and security reports and gate on thresholds (exit 1 when it fails)')
    .requiredOption('--reports <globs>', 'report glob, repeatable ("format: glob" forces a format)', collect, [])
    .option('--thresholds <yaml>', 'thresholds as YAML, e.g. \'coverage.line: ">= 80"\'')
    .option('--thresholds-file <path>', 'file holding the thresholds')
    .option('--base <ref>', 'diff base for changed lines (default: the merge request base CI provides)')
    .option('--head <ref>', 'diff head for changed lines', 'HEAD')
    .option('--min-changed-lines <n>', 'fewest changed coverable lines for coverage.diff to gate', '20')
    .option('--baseline <path>', "a previous run's JSON report, for deltas")
    .option('--ignore-malformed', 'skip malformed reports with a warning', false)
    .option('--root <dir>', 'repository root for globs, paths and git', '.')
    .option('--report-file <path>', 'also write the JSON result to this file')
    .option('--json', 'print the JSON result instead of text', false)
    .option('--markdown', 'print the Markdown summary instead of text', false)
    .option('--verbose', 'log each report read', false)
    .action(async (options: GateOptions) => {
      // The engine loads only when this command runs.
      const { runGateAction } = await import('./gate-run.ts');
      await runGateAction(options);
    });
}

// `adci gate`: the quality-gate engine from GitLab CI, Jenkins or a terminal. Prints the same
// verdict and summary as the action (plain text, Markdown or JSON) and exits 1 when the gate fails.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { InputError, consoleLogger, errorMessage, writeReportFile } from '@adci/common';
import {
  gateSettings,
  gitDiffArgs,
  parseUnifiedDiff,
  renderMarkdown,
  renderTerminal,
  runGate,
  type ChangedLines,
} from '@adci/reports';
import { versioned } from '../json.ts';

const execFileAsync = promisify(execFile);

interface GateOptions {
  reports: string[];
  thresholds?: string;
  thresholdsFile?: string;
  base?: string;
  head: string;
  minChangedLines: string;
  baseline?: string;
  ignoreMalformed: boolean;
  root: string;
  reportFile?: string;
  json: boolean;
  markdown: boolean;
  verbose: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split('\n')];

/** The merge-request base GitLab and Jenkins provide, when no --base is given. */
function defaultBase(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CI_MERGE_REQUEST_DIFF_BASE_SHA) return env.CI_MERGE_REQUEST_DIFF_BASE_SHA;
  if (env.GITHUB_BASE_REF) return `origin/${env.GITHUB_BASE_REF}`;
  if (env.CHANGE_TARGET) return `origin/${env.CHANGE_TARGET}`;
  return undefined;
}

async function changedLines(
  root: string,
  base: string,
  head: string,
): Promise<{ lines?: ChangedLines; error?: string }> {
  try {
    const { stdout } = await execFileAsync('git', gitDiffArgs(base, head), { cwd: root, maxBuffer: 512 * 1024 * 1024 });
    return { lines: parseUnifiedDiff(stdout) };
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
    return { error: `git diff ${base}...${head} failed (${stderr.split('\n')[0]}); fetch both commits` };
  }
}

function readText(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(
      option,
      `cannot read '${path}': ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`,
    );
  }
}

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
      const logger = consoleLogger(options.verbose);
      const root = resolve(options.root);
      if (options.thresholds !== undefined && options.thresholdsFile) {
        throw new InputError('--thresholds', 'give either --thresholds or --thresholds-file, not both');
      }
      const settings = gateSettings(
        {
          root,
          reports: options.reports,
          thresholds: options.thresholdsFile
            ? readText(options.thresholdsFile, '--thresholds-file')
            : options.thresholds,
          thresholdsFromFile: Boolean(options.thresholdsFile),
          minChangedLines: options.minChangedLines,
          baseline: options.baseline
            ? { file: options.baseline, text: readText(options.baseline, '--baseline') }
            : undefined,
          ignoreMalformed: options.ignoreMalformed,
        },
        (name) => `--${name}`,
      );
      const base = options.base ?? defaultBase();
      const changed = base ? await changedLines(root, base, options.head) : {};
      if (changed.error) logger.warning(`changed lines unknown: ${changed.error}`);
      const report = runGate({ ...settings, changedLines: changed.lines, changedLinesError: changed.error }, logger);
      if (options.reportFile) {
        writeReportFile(resolve(options.reportFile), `${JSON.stringify(versioned(report), null, 1)}\n`);
      }
      if (options.json) process.stdout.write(`${JSON.stringify(versioned(report), null, 2)}\n`);
      else if (options.markdown) process.stdout.write(renderMarkdown(report, { fullReportHint: options.reportFile }));
      else process.stdout.write(renderTerminal(report));
      if (!report.passed) process.exitCode = 1;
    });
}

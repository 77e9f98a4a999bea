// `adci gate`, run: the quality-gate engine from GitLab CI, Jenkins or a terminal. Prints the same
// verdict and summary as the action (plain text, Markdown or JSON) and exits 1 when the gate fails.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
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

/** The command's options as commander parses them (declared in gate.ts). */
export interface GateOptions {
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

const execFileAsync = promisify(execFile);

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

export async function runGateAction(options: GateOptions): Promise<void> {
  const logger = consoleLogger(options.verbose);
  const root = resolve(options.root);
  if (options.thresholds !== undefined && options.thresholdsFile) {
    throw new InputError('--thresholds', 'give either --thresholds or --thresholds-file, not both');
  }
  const settings = await gateSettings(
    {
      root,
      reports: options.reports,
      thresholds: options.thresholdsFile ? readText(options.thresholdsFile, '--thresholds-file') : options.thresholds,
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
  const report = await runGate({ ...settings, changedLines: changed.lines, changedLinesError: changed.error }, logger);
  if (options.reportFile) {
    writeReportFile(resolve(options.reportFile), `${JSON.stringify(versioned(report), null, 1)}\n`);
  }
  if (options.json) process.stdout.write(`${JSON.stringify(versioned(report), null, 2)}\n`);
  else if (options.markdown) process.stdout.write(renderMarkdown(report, { fullReportHint: options.reportFile }));
  else process.stdout.write(renderTerminal(report));
  if (!report.passed) process.exitCode = 1;
}

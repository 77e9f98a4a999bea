// Every smoke-test input is read and validated here, once, into one settings object. Header
// values (and the environment values their placeholders name) are masked as they are read.
import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { InputError, templateNames, urlSecrets } from '@adci/common';
import {
  readInputFile,
  readBoolean,
  readDuration,
  readInteger,
  readLines,
  readString,
  readStringMap,
  readText,
  maskUrlPassword,
  workspaceDir,
} from '@adci/action-common';
import { SMOKE_DEFAULTS, loadRequests, smokeSettings, type LoadOverrides, type SmokeSettings } from '@adci/probe';

export interface SmokeInputs {
  engine: SmokeSettings;
  /** Shard mode: where the shard result files go (the `shard-dir` output). */
  shardDir?: string;
  /** Shard mode: identifies the run in the shard files, so merge refuses results of other runs. */
  run?: string;
  /** Where the JSON report is written (the `report` output). */
  reportFile: string;
  junitFile?: string;
  /** `{{ env.NAME }}` values for placeholders. */
  env: (name: string) => string | undefined;
  /** Header values and referenced env values, for the Redactor. */
  secrets: string[];
}

function optional(name: string): string | undefined {
  return readString(name) || undefined;
}

function readLoadOverrides(): LoadOverrides {
  const overrides: LoadOverrides = {};
  const set = (key: keyof LoadOverrides, name: string): void => {
    const value = optional(name);
    if (value !== undefined) (overrides as Record<string, unknown>)[key] = value;
  };
  set('rate', 'load-rate');
  set('connections', 'load-connections');
  set('duration', 'load-duration');
  set('maxInFlight', 'load-max-in-flight');
  set('path', 'load-path');
  const thresholds = readLines('load-thresholds');
  if (thresholds.length > 0) overrides.thresholds = thresholds;
  if (readString('load-abort-on-fail') !== '') overrides.abortOnFail = readBoolean('load-abort-on-fail', false);
  return overrides;
}

function inWorkspace(path: string, workspace: string): string {
  return isAbsolute(path) ? path : join(workspace, path);
}

/** A file named by an input (or by a file it names), relative to the workspace; errors name the input. */
function readWorkspaceFile(path: string, workspace: string, input: string): string {
  try {
    return readFileSync(inWorkspace(path, workspace), 'utf8');
  } catch (error) {
    throw new InputError(input, `cannot read '${path}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** Merge mode (`merge` input): the shard result files to merge, and where the reports go. */
export interface MergeInputs {
  source: string;
  files: string[];
  reportFile: string;
  junitFile?: string;
}

/** The merge inputs, or undefined when `merge` is not given (a normal run or a shard). */
export async function readMergeInputs(): Promise<MergeInputs | undefined> {
  const source = readString('merge');
  if (!source) return undefined;
  if (readString('shard')) throw new InputError('merge', 'give merge or shard, not both');
  const workspace = workspaceDir();
  // Shards (and the histogram library they encode with) load only in merge mode.
  const { findShardFiles } = await import('@adci/probe/shards');
  const files = findShardFiles(source, workspace, 'merge');
  const { reportFile, junitFile } = reportPaths(workspace);
  return { source, files, reportFile, ...(junitFile ? { junitFile } : {}) };
}

function reportPaths(workspace: string): { reportFile: string; junitFile?: string } {
  const reportInput = readString('report-file');
  const tempDir = process.env.RUNNER_TEMP || workspace;
  const reportFile = reportInput ? inWorkspace(reportInput, workspace) : join(tempDir, 'smoke-test-report.json');
  const junitInput = readString('junit-file');
  return { reportFile, ...(junitInput ? { junitFile: inWorkspace(junitInput, workspace) } : {}) };
}

export async function readInputs(): Promise<SmokeInputs> {
  const workspace = workspaceDir();
  const env = (name: string): string | undefined => process.env[name];
  const headers = await readStringMap('headers');
  const secrets: string[] = [];
  const mask = (value: string | undefined): void => {
    if (value) {
      core.setSecret(value);
      secrets.push(value);
    }
  };
  Object.values(headers).forEach(mask);
  // A password or token in the base URL (`https://ci:<password>@host/?token=...`).
  urlSecrets(readString('base-url')).forEach(mask);

  const engine = await smokeSettings({
    baseUrl: readString('base-url'),
    checks: readText('checks'),
    checksFile: readString('checks-file'),
    readChecksFile: () => readInputFile('checks-file', workspace)?.text ?? '',
    waitFor: readString('wait-for'),
    waitTimeoutMs: readDuration('wait-timeout', '5m'),
    waitIntervalMs: readDuration('wait-interval', '2s'),
    retries: readInteger('retries', SMOKE_DEFAULTS.retries, 0),
    timeoutMs: readDuration('timeout', '10s'),
    headers,
    failFast: readBoolean('fail-fast', SMOKE_DEFAULTS.failFast),
    insecureTls: readBoolean('insecure-tls', SMOKE_DEFAULTS.insecureTls),
    maxBody: readString('max-body'),
    load: readLoadOverrides(),
    shard: readString('shard'),
    loadStartAt: readString('load-start-at'),
    artillery: readString('artillery'),
    readArtilleryFile: (path) => readWorkspaceFile(path, workspace, 'artillery'),
  });
  // Environment values used in headers are credentials (`Bearer {{ env.API_TOKEN }}`).
  const headerTemplates = [
    ...Object.values(headers),
    ...engine.checks.flatMap((c) => Object.values(c.headers)),
    ...(engine.load ? loadRequests(engine.load) : []).flatMap((r) => Object.values(r.headers)),
  ];
  for (const name of headerTemplates.flatMap(templateNames)) {
    if (name.startsWith('env.')) mask(env(name.slice(4)));
  }

  const { reportFile, junitFile } = reportPaths(workspace);
  const inputs: SmokeInputs = { engine, reportFile, env, secrets };
  if (junitFile) inputs.junitFile = junitFile;
  if (engine.shard) {
    const dir = readString('shard-dir');
    inputs.shardDir = dir
      ? inWorkspace(dir, workspace)
      : join(process.env.RUNNER_TEMP || workspace, 'smoke-test-shards');
    if (process.env.GITHUB_RUN_ID) inputs.run = `${process.env.GITHUB_RUN_ID}.${process.env.GITHUB_RUN_ATTEMPT ?? '1'}`;
  }
  return inputs;
}

// ── the analysis input (a metric analysis run alongside the checks; see analysis.ts) ──

export interface AnalysisInputs {
  file: string;
  text: string;
  prometheusUrl?: string;
  prometheusToken?: string;
  vars: Record<string, string>;
}

export async function readAnalysisInputs(workspace: string): Promise<AnalysisInputs | undefined> {
  const input = readInputFile('analysis', workspace);
  const prometheusUrl = readString('prometheus-url') || undefined;
  const prometheusToken = readString('prometheus-token') || undefined;
  if (prometheusToken) core.setSecret(prometheusToken);
  maskUrlPassword(prometheusUrl);
  if (!input) {
    if (prometheusUrl) throw new InputError('prometheus-url', 'is given without an analysis file to run');
    return undefined;
  }
  return { ...input, prometheusUrl, prometheusToken, vars: await readStringMap('analysis-vars') };
}

// Every smoke-test input is read and validated here, once, into one settings object. Header
// values (and the environment values their placeholders name) are masked as they are read.
import * as core from '@actions/core';
import { isAbsolute, join } from 'node:path';
import { templateNames } from '@adci/common';
import {
  readInputFile,
  readBoolean,
  readDuration,
  readInteger,
  readLines,
  readString,
  readStringMap,
  readText,
} from '@adci/action-common';
import { SMOKE_DEFAULTS, smokeSettings, type LoadOverrides, type SmokeSettings } from '@adci/probe';

export interface SmokeInputs {
  engine: SmokeSettings;
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

export async function readInputs(): Promise<SmokeInputs> {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
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

  const engine = smokeSettings({
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
    load: readLoadOverrides(),
  });
  // Environment values used in headers are credentials (`Bearer {{ env.API_TOKEN }}`).
  const headerTemplates = [
    ...Object.values(headers),
    ...engine.checks.flatMap((c) => Object.values(c.headers)),
    ...(engine.load?.requests ?? []).flatMap((r) => Object.values(r.headers)),
  ];
  for (const name of headerTemplates.flatMap(templateNames)) {
    if (name.startsWith('env.')) mask(env(name.slice(4)));
  }

  const reportInput = readString('report-file');
  const tempDir = process.env.RUNNER_TEMP || workspace;
  const reportFile = reportInput
    ? isAbsolute(reportInput)
      ? reportInput
      : join(workspace, reportInput)
    : join(tempDir, 'smoke-test-report.json');
  const junitInput = readString('junit-file');
  const inputs: SmokeInputs = { engine, reportFile, env, secrets };
  if (junitInput) inputs.junitFile = isAbsolute(junitInput) ? junitInput : join(workspace, junitInput);
  return inputs;
}

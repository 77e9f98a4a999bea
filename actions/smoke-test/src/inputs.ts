// Every smoke-test input is read and validated here, once, into one settings object. Header
// values (and the environment values their placeholders name) are masked as they are read.
import * as core from '@actions/core';
import { isAbsolute, join } from 'node:path';
import { InputError, templateNames } from '@adci/common';
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
import {
  SMOKE_DEFAULTS,
  mergeLoadOverrides,
  parseChecksDocument,
  type ChecksDocument,
  type LoadOverrides,
  type SmokeSettings,
} from '@adci/probe';

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

function readBaseUrl(): string {
  const value = readString('base-url');
  if (!value) throw new InputError('base-url', 'is required but was not given');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError('base-url', `'${value}' is not a URL (write e.g. https://staging.example.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError('base-url', `must be an http or https URL, not ${url.protocol}`);
  }
  return url.href;
}

function readChecks(workspace: string): ChecksDocument {
  const inline = readText('checks');
  const file = readString('checks-file');
  if (inline.trim() && file) throw new InputError('checks', 'give either checks or checks-file, not both');
  if (inline.trim()) return parseChecksDocument(inline, 'checks');
  const loaded = readInputFile('checks-file', workspace);
  if (!loaded) return { checks: [] };
  return parseChecksDocument(loaded.text, `checks-file ${loaded.file}`);
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
  if (overrides.rate !== undefined && overrides.connections !== undefined) {
    throw new InputError(
      'load-connections',
      'give load-rate (open model) or load-connections (closed model), not both',
    );
  }
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

  const baseUrl = readBaseUrl();
  const document = readChecks(workspace);
  const load = mergeLoadOverrides(document.load, readLoadOverrides(), 'load-*');
  // Environment values used in headers are credentials (`Bearer {{ env.API_TOKEN }}`).
  const headerTemplates = [
    ...Object.values(headers),
    ...document.checks.flatMap((c) => Object.values(c.headers)),
    ...(load?.requests ?? []).flatMap((r) => Object.values(r.headers)),
  ];
  for (const name of headerTemplates.flatMap(templateNames)) {
    if (name.startsWith('env.')) mask(env(name.slice(4)));
  }

  const waitFor = optional('wait-for');
  if (document.checks.length === 0 && !load && !waitFor) {
    throw new InputError('checks', 'nothing to do: give checks or checks-file, a load phase, or wait-for');
  }
  const timeoutMs = readDuration('timeout', '10s');
  if (timeoutMs <= 0) throw new InputError('timeout', 'must be longer than 0');
  const waitIntervalMs = readDuration('wait-interval', '2s');
  if (waitIntervalMs <= 0) throw new InputError('wait-interval', 'must be longer than 0');

  const engine: SmokeSettings = {
    baseUrl,
    checks: document.checks,
    waitTimeoutMs: readDuration('wait-timeout', '5m'),
    waitIntervalMs,
    retries: readInteger('retries', SMOKE_DEFAULTS.retries, 0),
    timeoutMs,
    headers,
    failFast: readBoolean('fail-fast', SMOKE_DEFAULTS.failFast),
    insecureTls: readBoolean('insecure-tls', SMOKE_DEFAULTS.insecureTls),
  };
  if (load) engine.load = load;
  if (waitFor) engine.waitFor = waitFor;

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

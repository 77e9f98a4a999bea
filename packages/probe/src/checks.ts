// Waiting for a service to come up, then running the checks in order: each check's captures feed
// the placeholders of the next, so a user journey (create, read back, delete) is one smoke test.
import {
  errorMessage,
  formatDuration,
  redactUrlSecrets,
  silentLogger,
  type Clock,
  type Logger,
  type Redactor,
} from '@adci/common';
import { capture, judge, prepareJsonPath } from './expect.ts';
import { TransportError, type HttpClient, type HttpResponse } from './http.ts';
import { buildRequest, joinUrl, withUrlCredentials, type BuiltRequest } from './request.ts';
import type { CheckResult, CheckSpec, StatusExpectation, WaitResult } from './types.ts';

/** A check with no `expect.status` wants a 2xx. */
export const DEFAULT_STATUS: StatusExpectation = { codes: [], classes: [2], text: '2xx' };
const EXCERPT_CHARS = 500;
const EXCERPT_WINDOW = 64 * 1024;

export interface ProbePorts {
  client: HttpClient;
  clock: Clock;
  redactor: Redactor;
  logger?: Logger;
  signal?: AbortSignal;
  /** Looks up `{{ env.NAME }}` values (given NAME); the engine never reads the environment. */
  env?: (name: string) => string | undefined;
}

export interface WaitSettings {
  baseUrl: URL;
  /** Path (or absolute URL) polled until it answers 2xx. */
  path: string;
  timeoutMs: number;
  intervalMs: number;
  requestTimeoutMs: number;
  headers: Record<string, string>;
}

export interface CheckSettings {
  baseUrl: URL;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Extra attempts for a failing check. */
  retries: number;
  retryDelayMs: number;
  failFast: boolean;
  /** Variables whose captured values are masked (those used in headers). */
  secretVariables?: ReadonlySet<string>;
  /** The setting that raises the body cap, named when a body is truncated (`max-body`). */
  maxBodySetting?: string;
}

/**
 * Polls until the service answers 2xx: refused or reset connections, timeouts, 5xx and any other
 * status count as "still warming up" until the wait times out.
 */
export async function waitForService(settings: WaitSettings, ports: ProbePorts): Promise<WaitResult> {
  const { client, clock, redactor } = ports;
  const logger = ports.logger ?? silentLogger;
  const url = /^https?:\/\//.test(settings.path) ? new URL(settings.path) : joinUrl(settings.baseUrl, settings.path);
  redactor.addUrl(url);
  const shownUrl = redactor.redact(url.href);
  const headers = withUrlCredentials(url, lowerCaseKeys(settings.headers));
  const start = clock.now();
  let attempts = 0;
  let lastProblem: string;
  for (;;) {
    attempts++;
    const remaining = settings.timeoutMs - (clock.now() - start);
    try {
      const response = await client.send({
        method: 'GET',
        url,
        headers,
        timeoutMs: Math.max(1, Math.min(settings.requestTimeoutMs, remaining)),
        ...(ports.signal ? { signal: ports.signal } : {}),
      });
      if (response.status >= 200 && response.status < 300) {
        const elapsedMs = Math.round(clock.now() - start);
        logger.info(
          `${shownUrl} answered ${response.status} after ${attempts} attempt(s), ${formatDuration(elapsedMs)}`,
        );
        return { url: shownUrl, ready: true, attempts, elapsedMs };
      }
      lastProblem = `status ${response.status}`;
    } catch (error) {
      if (ports.signal?.aborted) throw error;
      lastProblem = errorMessage(error);
    }
    const elapsed = clock.now() - start;
    if (elapsed + settings.intervalMs > settings.timeoutMs) {
      return {
        url: shownUrl,
        ready: false,
        attempts,
        elapsedMs: Math.round(elapsed),
        lastProblem: redactor.redact(lastProblem),
      };
    }
    logger.debug(`waiting for ${shownUrl}: ${redactor.redact(lastProblem)}`);
    await clock.sleep(settings.intervalMs, ports.signal);
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Runs checks in order. `variables` holds captures, and grows as checks capture values. */
export async function runChecks(
  checks: readonly CheckSpec[],
  settings: CheckSettings,
  ports: ProbePorts,
  variables: Record<string, string> = {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let stopped = false;
  await prepareJsonPath(checks.flatMap((c) => [...c.expect.json.map((j) => j.path), ...Object.values(c.capture)]));
  for (const check of checks) {
    if (stopped) {
      results.push(skipped(check, 'skipped after an earlier failure (fail-fast)'));
      continue;
    }
    const result = await runCheck(check, settings, ports, variables);
    results.push(result);
    if (result.outcome === 'failed' && settings.failFast) stopped = true;
  }
  return results;
}

export function skipped(check: CheckSpec, reason: string): CheckResult {
  return {
    name: redactUrlSecrets(check.name),
    outcome: 'skipped',
    method: check.method,
    url: redactUrlSecrets(check.url ?? check.path ?? ''),
    attempts: 0,
    failures: [],
    error: reason,
    captured: [],
  };
}

export function templateLookup(
  variables: Record<string, string>,
  env: ((name: string) => string | undefined) | undefined,
): (name: string) => string | undefined {
  return (name) => (name.startsWith('env.') ? env?.(name.slice(4)) : variables[name]);
}

async function runCheck(
  check: CheckSpec,
  settings: CheckSettings,
  ports: ProbePorts,
  variables: Record<string, string>,
): Promise<CheckResult> {
  const { client, clock, redactor } = ports;
  const logger = ports.logger ?? silentLogger;
  const result: CheckResult = {
    // A check named by default is named by its path, which may carry a secret parameter.
    name: redactor.redact(check.name),
    outcome: 'failed',
    method: check.method,
    url: redactor.redact(check.url ?? check.path ?? ''),
    attempts: 0,
    failures: [],
    captured: [],
  };
  let request: BuiltRequest;
  try {
    request = buildRequest(check, settings.baseUrl, settings.headers, templateLookup(variables, ports.env));
  } catch (error) {
    result.error = redactor.redact(errorMessage(error));
    return result;
  }
  // The URL's own credentials are masked wherever they show up (an error page echoing them).
  redactor.addUrl(request.url);
  result.url = redactor.redact(request.url.href);
  for (let attempt = 0; attempt <= settings.retries; attempt++) {
    if (attempt > 0) await clock.sleep(settings.retryDelayMs, ports.signal);
    result.attempts = attempt + 1;
    let response: HttpResponse;
    try {
      response = await client.send({
        method: request.method,
        url: request.url,
        headers: request.headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
        timeoutMs: settings.timeoutMs,
        ...(ports.signal ? { signal: ports.signal } : {}),
      });
    } catch (error) {
      if (ports.signal?.aborted) throw error;
      result.error = redactor.redact(error instanceof TransportError ? error.message : errorMessage(error));
      result.failures = [];
      delete result.status;
      delete result.latencyMs;
      delete result.excerpt;
      continue;
    }
    delete result.error;
    result.status = response.status;
    result.latencyMs = Math.round(response.latencyMs * 10) / 10;
    const options = settings.maxBodySetting ? { maxBodySetting: settings.maxBodySetting } : {};
    const failures = judge(response, check.expect, DEFAULT_STATUS, options);
    const captured = failures.length === 0 ? capture(response, check.capture, options) : { values: {}, failures: [] };
    result.failures = [...failures, ...captured.failures].map((f) => ({
      assertion: f.assertion,
      expected: redactor.redact(f.expected),
      actual: redactor.redact(f.actual),
    }));
    if (result.failures.length === 0) {
      Object.assign(variables, captured.values);
      for (const [name, value] of Object.entries(captured.values)) {
        if (settings.secretVariables?.has(name)) redactor.add(value);
      }
      result.captured = Object.keys(captured.values);
      result.outcome = 'passed';
      delete result.excerpt;
      break;
    }
    result.excerpt = excerpt(response, redactor);
    if (attempt < settings.retries) {
      logger.info(`check '${check.name}' attempt ${attempt + 1} failed: ${describeFailure(result)}; retrying`);
    }
  }
  return result;
}

/**
 * The start of the body, secrets masked. Only a window well past the excerpt is redacted, so a body
 * of many MiB (a raised `max-body`) is not scanned whole for 500 characters; a secret that begins
 * in the excerpt is far shorter than the window, so it is masked whole.
 */
function excerpt(response: HttpResponse, redactor: Redactor): string {
  const window = response.body.length > EXCERPT_WINDOW ? response.body.slice(0, EXCERPT_WINDOW) : response.body;
  const body = redactor.redact(window);
  const total = window === response.body ? body.length : response.body.length;
  return body.length > EXCERPT_CHARS ? `${body.slice(0, EXCERPT_CHARS)}… (${total} chars)` : body;
}

/** One line saying why a check failed: the transport error, or each expected vs actual. */
export function describeFailure(result: CheckResult): string {
  if (result.error) return result.error;
  return result.failures.map((f) => `${f.assertion}: expected ${f.expected}, got ${f.actual}`).join('; ');
}

// `adci smoke`, run: the probe engine (checks, captures, load phase, thresholds) from GitLab CI,
// Jenkins or a terminal, with the same checks file as the smoke-test action.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  InputError,
  Redactor,
  consoleLogger,
  errorMessage,
  formatDuration,
  parseDuration,
  parseStringMap,
  type Logger,
} from '@adci/common';
import {
  captureHistogram,
  describeFailure,
  findShardFiles,
  mergeShards,
  runSmoke,
  writeShardResult,
  type CapturedHistogram,
  smokeSettings,
  toJUnitXml,
  type SmokeResult,
  type SmokeSettings,
} from '@adci/probe';
import { versioned } from '../json.ts';
import type { SmokeOptions } from './smoke.ts';

function readInteger(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InputError(name, `'${value}' is not an integer >= 0`);
  return n;
}

function readChecksFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError('--checks-file', `cannot read '${path}': ${(error as NodeJS.ErrnoException).code}`);
  }
}

function readArtilleryFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError('--artillery', `cannot read '${path}': ${(error as NodeJS.ErrnoException).code}`);
  }
}

/** Turns command-line options into engine settings, validated by the same rules as the action's inputs. */
export function smokeSettingsFromOptions(options: SmokeOptions): SmokeSettings {
  return smokeSettings(
    {
      baseUrl: options.baseUrl ?? '',
      checks: options.checks ?? '',
      checksFile: options.checksFile ?? '',
      readChecksFile,
      waitFor: options.waitFor ?? '',
      waitTimeoutMs: parseDuration(options.waitTimeout, '--wait-timeout'),
      waitIntervalMs: parseDuration(options.waitInterval, '--wait-interval'),
      retries: readInteger(options.retries, '--retries'),
      timeoutMs: parseDuration(options.timeout, '--timeout'),
      headers: parseStringMap(options.headers, '--headers'),
      failFast: options.failFast,
      insecureTls: options.insecureTls,
      ...(options.maxBody !== undefined ? { maxBody: options.maxBody } : {}),
      load: {
        ...(options.loadRate !== undefined ? { rate: options.loadRate } : {}),
        ...(options.loadConnections !== undefined ? { connections: options.loadConnections } : {}),
        ...(options.loadDuration !== undefined ? { duration: options.loadDuration } : {}),
        ...(options.loadMaxInFlight !== undefined ? { maxInFlight: options.loadMaxInFlight } : {}),
        ...(options.loadPath !== undefined ? { path: options.loadPath } : {}),
        ...(options.loadThreshold.length > 0 ? { thresholds: options.loadThreshold } : {}),
        ...(options.loadAbortOnFail !== undefined ? { abortOnFail: options.loadAbortOnFail } : {}),
      },
      shard: options.shard ?? '',
      loadStartAt: options.loadStartAt ?? '',
      artillery: options.artillery ?? '',
      readArtilleryFile,
    },
    (name) => `--${name}`,
  );
}

/** The result as terminal text. */
export function renderSmokeText(result: SmokeResult): string {
  const lines: string[] = [];
  if (result.wait) {
    const w = result.wait;
    lines.push(
      w.ready
        ? `ready    ${w.url} after ${w.attempts} attempt(s), ${formatDuration(w.elapsedMs)}`
        : `NOT READY ${w.url} after ${formatDuration(w.elapsedMs)}: ${w.lastProblem ?? ''}`,
    );
  }
  for (const c of result.checks) {
    const latency = c.latencyMs === undefined ? '' : ` ${formatDuration(c.latencyMs)}`;
    const status = c.status === undefined ? '' : ` ${c.status}`;
    const line = `${c.outcome.toUpperCase().padEnd(8)} ${c.name}${status}${latency}`;
    lines.push(c.outcome === 'passed' ? line : `${line}: ${describeFailure(c)}`);
    if (c.outcome === 'failed' && c.excerpt) lines.push(`         response: ${c.excerpt.slice(0, 300)}`);
  }
  const load = result.load;
  if (load) {
    const l = load.latency;
    lines.push(
      `load     ${load.model} model: ${load.completed} responses, ${load.rps}/s, ${load.dropped} dropped, ` +
        `error rate ${(load.errorRate * 100).toFixed(2)}%`,
      `         p50 ${l.p50}ms  p90 ${l.p90}ms  p95 ${l.p95}ms  p99 ${l.p99}ms  max ${l.max}ms`,
    );
    if (load.waitedForConnection !== undefined) {
      lines.push(
        `         connections: ${load.preopenedConnections ?? 0} opened ahead, ${load.openedConnections ?? 0} at the end; ` +
          `${load.waitedForConnection} requests waited for one`,
      );
    }
    if (load.aborted) lines.push(`         stopped early: ${load.abortReason ?? ''}`);
    for (const s of result.shards ?? []) {
      lines.push(
        `${s.passed ? 'shard' : 'SHARD FAILED'}    ${s.index}/${s.count}: ${s.completed} responses from ${s.startedAt} ` +
          `for ${formatDuration(s.durationMs)}${s.problems ? ` (${s.problems.join('; ')})` : ''}`,
      );
    }
    for (const t of load.thresholds)
      lines.push(
        `${t.passed ? 'PASSED' : 'FAILED'}   ${t.threshold} (actual ${t.actual}${t.latency ? 'ms' : ''})` +
          (t.implicit ? ' (implicit: no threshold names the error rate)' : ''),
      );
  }
  lines.push(
    `${result.passed ? 'smoke test passed' : 'smoke test FAILED'}: ${result.counts.passed} passed, ${result.counts.failed} failed` +
      (result.counts.skipped ? `, ${result.counts.skipped} skipped` : ''),
  );
  return `${lines.join('\n')}\n`;
}

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Every line logged through the redactor (secrets, URL credentials, secret query parameters). */
function redactingLogger(logger: Logger, redactor: Redactor): Logger {
  return {
    debug: (m) => logger.debug(redactor.redact(m)),
    info: (m) => logger.info(redactor.redact(m)),
    warning: (m) => logger.warning(redactor.redact(m)),
    error: (m) => logger.error(redactor.redact(m)),
  };
}

async function runSmokeCommand(options: SmokeOptions, redactor: Redactor): Promise<void> {
  if (options.merge !== undefined) {
    if (options.shard !== undefined) throw new InputError('--merge', 'give --merge or --shard, not both');
    const result = mergeShards(findShardFiles(options.merge, process.cwd(), '--merge'), options.merge, '--merge');
    const json = redactor.redact(JSON.stringify(versioned(result), null, 2));
    if (options.reportFile) writeFile(options.reportFile, `${json}\n`);
    if (options.junitFile) writeFile(options.junitFile, redactor.redact(toJUnitXml(result)));
    process.stdout.write(options.json ? `${json}\n` : redactor.redact(renderSmokeText(result)));
    if (!result.passed) process.exitCode = 1;
    return;
  }
  const settings = smokeSettingsFromOptions(options);
  let histogram: CapturedHistogram | undefined;
  const env = (name: string): string | undefined => process.env[name];
  const logger = redactingLogger(consoleLogger(options.verbose), redactor);
  const controller = new AbortController();
  const cancel = (): void => controller.abort(new Error('cancelled'));
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const result = await runSmoke(settings, {
    logger,
    redactor,
    env,
    signal: controller.signal,
    ...(options.verbose
      ? { onLoadProgress: (p) => logger.debug(`t=${p.second}s ${p.requests} req, p99 ${p.p99}ms`) }
      : {}),
    ...(settings.shard ? { onLoadHistogram: (h) => (histogram = captureHistogram(h)) } : {}),
  });
  if (settings.shard) {
    const file = writeShardResult({
      dir: options.shardDir,
      shard: settings.shard,
      plan: settings.shard.plan,
      result,
      ...(histogram ? { histogram } : {}),
      redact: (text) => redactor.redact(text),
    });
    logger.info(`shard ${settings.shard.index}/${settings.shard.count} results: ${file}`);
  }
  process.off('SIGINT', cancel);
  process.off('SIGTERM', cancel);
  const json = redactor.redact(JSON.stringify(versioned(result), null, 2));
  if (options.reportFile) writeFile(options.reportFile, `${json}\n`);
  if (options.junitFile) writeFile(options.junitFile, redactor.redact(toJUnitXml(result)));
  process.stdout.write(options.json ? `${json}\n` : redactor.redact(renderSmokeText(result)));
  if (!result.passed) process.exitCode = 1;
}

export async function runSmokeAction(options: SmokeOptions): Promise<void> {
  // The engine adds header values and the env values they name to the redactor; errors may
  // quote a URL with its credentials.
  const redactor = new Redactor();
  try {
    await runSmokeCommand(options, redactor);
  } catch (error) {
    // No `cause`: it would show the unredacted message again.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(redactor.redact(errorMessage(error)));
  }
}

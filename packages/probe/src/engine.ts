// The smoke engine's front door: wait for the service, run the checks, run the load phase,
// and return one result object. blue-green-deploy calls this for its pre/post-promotion checks.
import { Redactor, silentLogger, systemClock, templateNames, type Clock, type Logger } from '@adci/common';
import { runChecks, skipped, templateLookup, waitForService } from './checks.ts';
import { DEFAULT_MAX_BODY_BYTES, createHttpClient, type HttpClient } from './http.ts';
import type { LoadPorts } from './load.ts';
import { loadRequests } from './flows.ts';
import type { CheckSpec, LoadSpec, SmokeResult, TimelinePoint } from './types.ts';

export interface SmokeSettings {
  baseUrl: string;
  checks: CheckSpec[];
  load?: LoadSpec;
  /** A path (or URL) polled until it answers 2xx before any check runs. */
  waitFor?: string;
  waitTimeoutMs: number;
  waitIntervalMs: number;
  retries: number;
  timeoutMs: number;
  /** Sent with every request; values are treated as secrets. */
  headers: Record<string, string>;
  failFast: boolean;
  insecureTls: boolean;
  /**
   * Largest response body kept for a check's assertions, in bytes; a longer body is reported as
   * truncated rather than judged on its first part. Applies to the client runSmoke creates (a
   * client given in the ports keeps its own cap).
   */
  maxBodyBytes: number;
  /** The setting that raises `maxBodyBytes` as the front end names it (`max-body`, `--max-body`). */
  maxBodySetting?: string;
  /**
   * Wall-clock time (ms since the epoch) the load phase waits for after the checks, so shards on
   * several runners send one schedule together. Already past: the load starts at once.
   */
  loadStartAtMs?: number;
  /** This runner is one shard of the load phase (`load` is its part; `plan` is the whole). */
  shard?: { index: number; count: number; plan: LoadSpec };
}

export const SMOKE_DEFAULTS = {
  waitTimeoutMs: 5 * 60_000,
  waitIntervalMs: 2000,
  retries: 0,
  timeoutMs: 10_000,
  failFast: false,
  insecureTls: false,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
} as const;

export interface SmokePorts {
  clock?: Clock;
  logger?: Logger;
  /** Secrets to mask; the engine adds header values and `env.*` values used in headers. */
  redactor?: Redactor;
  signal?: AbortSignal;
  /** Looks up `{{ env.NAME }}` placeholders; the engine never reads the environment itself. */
  env?: (name: string) => string | undefined;
  /** Replaces the undici client (tests). */
  client?: HttpClient;
  onLoadProgress?: (point: TimelinePoint) => void;
  /** See LoadPorts: every latency recorded, and the whole histogram at the end (shards.ts). */
  onLoadSample?: LoadPorts['onSample'];
  onLoadHistogram?: LoadPorts['onHistogram'];
}

/** Header values, and the `env.*` values they refer to, are secrets (tokens, API keys). */
function collectSecrets(settings: SmokeSettings, redactor: Redactor, env: SmokePorts['env']): Set<string> {
  const secretVariables = new Set<string>();
  const headerValues = [
    ...Object.values(settings.headers),
    ...settings.checks.flatMap((c) => Object.values(c.headers)),
    ...(settings.load ? loadRequests(settings.load) : []).flatMap((r) => Object.values(r.headers)),
  ];
  for (const value of Object.values(settings.headers)) redactor.add(value);
  for (const value of headerValues) {
    for (const name of templateNames(value)) {
      if (name.startsWith('env.')) redactor.add(env?.(name.slice(4)));
      else secretVariables.add(name);
    }
    // `Bearer xyz` written literally in a checks file: mask the credential part too.
    const credential = /^(?:Bearer|Basic|Token)\s+(\S{8,})$/i.exec(value);
    if (credential && templateNames(value).length === 0) redactor.add(credential[1]);
  }
  return secretVariables;
}

export async function runSmoke(settings: SmokeSettings, ports: SmokePorts = {}): Promise<SmokeResult> {
  const clock = ports.clock ?? systemClock;
  const logger = ports.logger ?? silentLogger;
  const redactor = ports.redactor ?? new Redactor();
  // Captured values used in headers (a token from a login check) are secrets too.
  const secretVariables = collectSecrets(settings, redactor, ports.env);
  const baseUrl = new URL(settings.baseUrl);
  redactor.addUrl(baseUrl);
  const client =
    ports.client ?? createHttpClient({ insecureTls: settings.insecureTls, maxBodyBytes: settings.maxBodyBytes });
  // The transport's own headers (API server credentials) are secrets like the settings' headers.
  for (const secret of client.secrets ?? []) redactor.add(secret);
  const startedAt = new Date().toISOString();
  const start = clock.now();
  const probePorts = {
    client,
    clock,
    redactor,
    logger,
    ...(ports.signal ? { signal: ports.signal } : {}),
    ...(ports.env ? { env: ports.env } : {}),
  };
  const result: SmokeResult = {
    passed: false,
    baseUrl: redactor.redact(baseUrl.href),
    startedAt,
    durationMs: 0,
    checks: [],
    counts: { passed: 0, failed: 0, skipped: 0 },
  };
  try {
    if (settings.waitFor) {
      logger.info(`waiting for ${redactor.redact(settings.waitFor)} (up to ${settings.waitTimeoutMs}ms)`);
      result.wait = await waitForService(
        {
          baseUrl,
          path: settings.waitFor,
          timeoutMs: settings.waitTimeoutMs,
          intervalMs: settings.waitIntervalMs,
          requestTimeoutMs: settings.timeoutMs,
          headers: settings.headers,
        },
        probePorts,
      );
    }
    const variables: Record<string, string> = {};
    if (result.wait && !result.wait.ready) {
      result.checks = settings.checks.map((c) => skipped(c, 'skipped: the service never became ready'));
    } else {
      result.checks = await runChecks(
        settings.checks,
        {
          baseUrl,
          headers: settings.headers,
          timeoutMs: settings.timeoutMs,
          retries: settings.retries,
          retryDelayMs: settings.waitIntervalMs,
          failFast: settings.failFast,
          secretVariables,
          ...(settings.maxBodySetting ? { maxBodySetting: settings.maxBodySetting } : {}),
        },
        probePorts,
        variables,
      );
      const checksFailed = result.checks.some((c) => c.outcome === 'failed');
      if (settings.load && !(checksFailed && settings.failFast)) {
        if (settings.loadStartAtMs !== undefined) {
          const waitMs = settings.loadStartAtMs - Date.now();
          const at = new Date(settings.loadStartAtMs).toISOString();
          if (waitMs > 0) {
            logger.info(`load phase starts at ${at} (in ${Math.ceil(waitMs)}ms)`);
            // A cancel ends the wait; the load phase then stops at once as cancelled.
            await clock.sleep(waitMs, ports.signal).catch(() => undefined);
          } else logger.warning(`load phase start time ${at} had passed ${Math.ceil(-waitMs)}ms ago; starting now`);
        }
        logger.info(describeLoad(settings.load));
        // The load generator and its histogram library load only when a load phase runs.
        const { runLoad } = await import('./load.ts');
        result.load = await runLoad(
          settings.load,
          {
            baseUrl,
            headers: settings.headers,
            timeoutMs: settings.timeoutMs,
            lookup: templateLookup(variables, ports.env),
          },
          {
            client,
            clock,
            logger,
            ...(ports.signal ? { signal: ports.signal } : {}),
            ...(ports.onLoadProgress ? { onProgress: ports.onLoadProgress } : {}),
            ...(ports.onLoadSample ? { onSample: ports.onLoadSample } : {}),
            ...(ports.onLoadHistogram ? { onHistogram: ports.onLoadHistogram } : {}),
          },
        );
      }
    }
  } finally {
    if (!ports.client) await client.close();
  }
  const thresholds = result.load?.thresholds ?? [];
  const aborted = result.load?.aborted ? 1 : 0;
  result.counts = {
    passed: result.checks.filter((c) => c.outcome === 'passed').length + thresholds.filter((t) => t.passed).length,
    failed:
      result.checks.filter((c) => c.outcome === 'failed').length +
      thresholds.filter((t) => !t.passed).length +
      (result.wait && !result.wait.ready ? 1 : 0) +
      (aborted && thresholds.every((t) => t.passed) ? 1 : 0),
    skipped: result.checks.filter((c) => c.outcome === 'skipped').length,
  };
  result.passed = result.counts.failed === 0 && (result.load?.passed ?? true);
  result.durationMs = Math.round(clock.now() - start);
  return result;
}

function describeLoad(load: LoadSpec): string {
  if (load.flows) {
    const phases = (load.phases ?? []).length;
    return (
      `load phase: open model, ${load.flows.length} scenario(s) over ${phases} phase(s), ` +
      `${Math.round(load.model.kind === 'open' ? load.model.ratePerSecond * 1000 : 0) / 1000} arrivals/s on average ` +
      `(max ${load.model.kind === 'open' ? load.model.maxInFlight : 0} virtual users) for ${load.durationMs}ms`
    );
  }
  const shard = load.shard ? `shard ${load.shard.index}/${load.shard.count}, ` : '';
  const model =
    load.model.kind === 'open'
      ? `open model, ${shard}${Math.round((load.model.ratePerSecond / (load.shard?.count ?? 1)) * 1000) / 1000}/s ` +
        `(max ${load.model.maxInFlight} in flight)`
      : `closed model, ${shard}${load.model.connections} connections`;
  return `load phase: ${model} for ${load.durationMs}ms`;
}

// `adci smoke`: the probe engine (checks, captures, load phase, thresholds) from GitLab CI,
// Jenkins or a terminal, with the same checks file as the smoke-test action.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  InputError,
  Redactor,
  consoleLogger,
  errorMessage,
  parseDuration,
  parseStringMap,
  redactingLogger,
  writeReportFile,
} from '@adci/common';
import {
  captureHistogram,
  findShardFiles,
  mergeShards,
  runSmoke,
  writeShardResult,
  renderSmokeText,
  type CapturedHistogram,
  smokeSettings,
  toJUnitXml,
  type SmokeSettings,
} from '@adci/probe';
import type { AnalysisSettings } from '@adci/analysis';
import { versioned } from '../json.ts';
import { withCancellation } from '../cancel.ts';

interface SmokeOptions {
  baseUrl?: string;
  checks?: string;
  checksFile?: string;
  artillery?: string;
  waitFor?: string;
  waitTimeout: string;
  waitInterval: string;
  retries: string;
  timeout: string;
  headers: string;
  failFast: boolean;
  junitFile?: string;
  reportFile?: string;
  insecureTls: boolean;
  maxBody?: string;
  loadRate?: string;
  loadConnections?: string;
  loadDuration?: string;
  loadMaxInFlight?: string;
  loadPath?: string;
  loadThreshold: string[];
  loadAbortOnFail?: boolean;
  loadStartAt?: string;
  shard?: string;
  shardDir: string;
  merge?: string;
  analysis?: string;
  prometheusUrl?: string;
  analysisVars?: string;
  json: boolean;
  verbose: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

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

function readAnalysisFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError('--analysis', `cannot read '${path}': ${(error as NodeJS.ErrnoException).code}`);
  }
}

/**
 * `--analysis` as the engine's settings, validated by the action's rules before any request is
 * sent; undefined without it. The token comes from ADCI_PROMETHEUS_TOKEN, as for `adci deploy`.
 */
async function analysisFromOptions(options: SmokeOptions, redactor: Redactor): Promise<AnalysisSettings | undefined> {
  if (!options.analysis) {
    if (options.prometheusUrl) throw new InputError('--prometheus-url', 'is given without an --analysis file to run');
    return undefined;
  }
  const { analysisSettings } = await import('@adci/analysis');
  const prometheusToken = process.env.ADCI_PROMETHEUS_TOKEN || undefined;
  redactor.add(prometheusToken);
  return analysisSettings(
    {
      file: options.analysis,
      text: readAnalysisFile(options.analysis),
      prometheusUrl: options.prometheusUrl,
      prometheusToken,
      vars: options.analysisVars?.trim() ? parseStringMap(options.analysisVars, '--analysis-vars') : {},
    },
    (name) => `--${name}`,
  );
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

async function runSmokeCommand(options: SmokeOptions, redactor: Redactor): Promise<void> {
  if (options.merge !== undefined) {
    if (options.shard !== undefined) throw new InputError('--merge', 'give --merge or --shard, not both');
    const result = mergeShards(findShardFiles(options.merge, process.cwd(), '--merge'), options.merge, '--merge');
    const json = redactor.redact(JSON.stringify(versioned(result), null, 2));
    if (options.reportFile) writeReportFile(options.reportFile, `${json}\n`);
    if (options.junitFile) writeReportFile(options.junitFile, redactor.redact(toJUnitXml(result)));
    process.stdout.write(options.json ? `${json}\n` : redactor.redact(renderSmokeText(result)));
    if (!result.passed) process.exitCode = 1;
    return;
  }
  const settings = smokeSettingsFromOptions(options);
  const analysisSettings = await analysisFromOptions(options, redactor);
  let histogram: CapturedHistogram | undefined;
  const env = (name: string): string | undefined => process.env[name];
  const logger = redactingLogger(consoleLogger(options.verbose), redactor);
  const { result, analysis } = await withCancellation(async (signal) => {
    // The analysis runs alongside the checks and the load phase, judging the server's own metrics.
    const analysing = analysisSettings
      ? import('@adci/analysis').then(({ runAnalysis }) => runAnalysis(analysisSettings, { logger, signal }))
      : undefined;
    analysing?.catch(() => undefined); // awaited after the checks
    const smoked = await runSmoke(settings, {
      logger,
      redactor,
      env,
      signal,
      ...(options.verbose
        ? { onLoadProgress: (p) => logger.debug(`t=${p.second}s ${p.requests} req, p99 ${p.p99}ms`) }
        : {}),
      ...(settings.shard ? { onLoadHistogram: (h) => (histogram = captureHistogram(h)) } : {}),
    });
    return { result: smoked, analysis: analysing ? await analysing : undefined };
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
  const json = redactor.redact(JSON.stringify(versioned(analysis ? { ...result, analysis } : result), null, 2));
  if (options.reportFile) writeReportFile(options.reportFile, `${json}\n`);
  if (options.junitFile) writeReportFile(options.junitFile, redactor.redact(toJUnitXml(result)));
  if (options.json) process.stdout.write(`${json}\n`);
  else {
    process.stdout.write(redactor.redact(renderSmokeText(result)));
    if (analysis) {
      const { renderAnalysisText } = await import('@adci/analysis');
      process.stdout.write(`${redactor.redact(renderAnalysisText(analysis))}\n`);
    }
  }
  if (!result.passed || (analysis && !analysis.passed)) process.exitCode = 1;
}

export function registerSmoke(program: Command): void {
  program
    .command('smoke')
    .description('run HTTP smoke checks and an optional load phase against a service (exit 1 on failure)')
    .option(
      '--base-url <url>',
      "base URL of the service; check paths are joined to it (required unless --merge, or an --artillery scenario's config.target gives it)",
    )
    .option('--checks <yaml>', 'checks as inline YAML (the checks-file shape)')
    .option('--checks-file <path>', 'YAML or JSON checks file')
    .option(
      '--artillery <path>',
      'an Artillery scenario file run as the load phase (its config.target is the base URL unless --base-url is given)',
    )
    .option('--wait-for <path>', 'path polled until it answers 2xx before any check runs')
    .option('--wait-timeout <duration>', 'how long to wait for --wait-for', '5m')
    .option('--wait-interval <duration>', 'pause between wait attempts and check retries', '2s')
    .option('--retries <n>', 'extra attempts for a failing check', '0')
    .option('--timeout <duration>', 'time limit of each request', '10s')
    .option(
      '--headers <yaml>',
      'headers for every request, as a YAML/JSON map (prefer {{ env.NAME }} in a checks file for secrets)',
      '',
    )
    .option('--fail-fast', 'stop at the first failed check', false)
    .option('--junit-file <path>', 'write the results as JUnit XML')
    .option('--report-file <path>', 'write the JSON report')
    .option('--insecure-tls', 'accept any TLS certificate', false)
    .option(
      '--max-body <size>',
      'largest response body read for assertions, e.g. 8MiB, 512KiB or bytes (default 4MiB); a longer one fails as truncated',
    )
    .option('--load-rate <rate>', 'open-model arrival rate, e.g. 200/s')
    .option('--load-connections <n>', 'closed model: connections sending as fast as possible')
    .option('--load-duration <duration>', 'length of the load phase, e.g. 30s')
    .option('--load-max-in-flight <n>', 'open-model cap on concurrent requests (beyond it arrivals are dropped)')
    .option('--load-path <path>', 'path requested by the load phase')
    .option('--load-threshold <expr>', 'threshold such as p(95)<300ms (repeatable)', collect, [])
    .option('--load-abort-on-fail', 'stop the load phase when a threshold is breached')
    .option('--load-start-at <time>', 'start the load phase at this ISO 8601 time (after the checks), e.g. for shards')
    .option('--shard <i/n>', 'run shard i of n of the load phase and write its results to --shard-dir')
    .option('--shard-dir <dir>', 'directory for the shard result files', 'adci-shards')
    .option('--merge <dir-or-glob>', 'merge shard result files and judge the load thresholds on them (no requests)')
    .option(
      '--analysis <file>',
      'metric analysis file run against Prometheus alongside the checks and the load phase (fails the run when it fails)',
    )
    .option(
      '--prometheus-url <url>',
      "Prometheus for the analysis (overrides the file's prometheus:); token from ADCI_PROMETHEUS_TOKEN",
    )
    .option('--analysis-vars <yaml>', 'placeholder values for the analysis file, a YAML mapping')
    .option('--json', 'print the result object as JSON', false)
    .option('--verbose', 'log each wait attempt and load second', false)
    .action(async (options: SmokeOptions) => {
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
    });
}

// `adci smoke`, run: the probe engine (checks, captures, load phase, thresholds, a metric analysis)
// behind the command; loaded only when `adci smoke` runs, so the other commands never evaluate it.
import { readFileSync } from 'node:fs';
import {
  InputError,
  Redactor,
  consoleLogger,
  errorMessage,
  parseDuration,
  redactingLogger,
  writeReportFile,
} from '@adci/common';
import { parseStringMap } from '@adci/common/structured';
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

/** The command's options as commander parses them (declared in smoke.ts). */
export interface SmokeOptions {
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
export async function smokeSettingsFromOptions(options: SmokeOptions): Promise<SmokeSettings> {
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
  const settings = await smokeSettingsFromOptions(options);
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

// Runs an analysis: every metric measured `count` times at its `interval` against Prometheus,
// concurrently; the analysis fails as soon as one metric fails, so a deploy can roll back at once.
// A query with no data is inconclusive, never a silent pass.
import {
  errorMessage,
  fillTemplate,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
  type Redactor,
} from '@adci/common/basics';
import { holds } from './condition.ts';
import { PrometheusClient, PrometheusError, displayUrl, type PrometheusAuth, type Sample } from './prometheus.ts';
import { parseAnalysisDocument, requirePrometheus, type AnalysisDocument, type MetricSpec } from './spec.ts';

export type MeasurementOutcome = 'passed' | 'failed' | 'inconclusive';
export type MetricOutcome = 'passed' | 'failed' | 'inconclusive' | 'error';

export interface Measurement {
  /** Milliseconds since the analysis started. */
  atMs: number;
  /** Wall-clock time of the query (Unix ms). */
  time: number;
  outcome: MeasurementOutcome;
  /** The judged value: the worst series against the condition; undefined without data. */
  value?: number;
  series: Sample[];
  /** Under `inconclusive: pass|fail`, what a no-data measurement was counted as. */
  countedAs?: 'passed' | 'failed';
}

export interface MetricResult {
  name: string;
  query: string;
  success: string;
  threshold: number;
  outcome: MetricOutcome;
  measurements: Measurement[];
  failures: number;
  failureLimit: number;
  count: number;
  intervalMs: number;
  /** Why it failed, was inconclusive or errored; also a note when no-data was counted as a pass. */
  message?: string;
  errorKind?: PrometheusError['kind'];
}

export interface AnalysisResult {
  source: string;
  prometheus: string;
  passed: boolean;
  metrics: MetricResult[];
  /** First failure, ready to be a deploy's error: `metric error-rate failed: …`. */
  message?: string;
  startedAt: number;
  durationMs: number;
}

export interface AnalysisSettings {
  document: AnalysisDocument;
  /** Overrides the file's `prometheus:`. */
  prometheusUrl?: string;
  auth?: PrometheusAuth;
  /** Placeholder values: version, color, namespace, revision, app, and the caller's own. */
  vars: Record<string, string | undefined>;
  /** Stop every metric after this long (a deploy's post-promotion window, for example). */
  timeoutMs?: number;
}

export interface AnalysisPorts {
  logger?: Logger;
  clock?: Clock;
  signal?: AbortSignal;
  env?: (name: string) => string | undefined;
  redactor?: Redactor;
  /** Called after each measurement (live progress; the bench times the rollback from here). */
  onMeasurement?: (metric: string, measurement: Measurement) => void;
  /** Attempts and first back-off for transient Prometheus failures (tests shorten them). */
  retry?: { attempts?: number; initialMs?: number };
}

/** Escapes a value for a PromQL double-quoted string, where placeholders usually sit. */
function promqlString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function lookupFor(settings: AnalysisSettings, ports: AnalysisPorts) {
  return (name: string): string | undefined => {
    if (name.startsWith('env.')) return ports.env?.(name.slice(4));
    return settings.vars[name];
  };
}

/** The worst value against the condition: the one a failing series would show. */
function judgedValue(spec: MetricSpec, values: number[]): number {
  const failing = values.find((v) => !holds(spec.success, v));
  if (failing !== undefined) return failing;
  if (spec.success.worse === 'up') return Math.max(...values);
  if (spec.success.worse === 'down') return Math.min(...values);
  return values[0] as number;
}

class MetricFailed extends Error {}

/** What a front end read for a stand-alone analysis (smoke-test's `analysis`, `adci smoke --analysis`). */
export interface AnalysisSource {
  /** The analysis file's path, as given, and its text. */
  file: string;
  text: string;
  /** Overrides the file's `prometheus:`. */
  prometheusUrl?: string;
  prometheusToken?: string;
  vars: Record<string, string>;
}

export type AnalysisSettingName = 'analysis' | 'prometheus-url';

/**
 * The analysis settings for the action and the CLI alike: the file parsed (an error names file and
 * line), and a Prometheus named by the file or the override. `name` spells the settings in errors.
 */
export function analysisSettings(
  source: AnalysisSource,
  name: (setting: AnalysisSettingName) => string = (setting) => setting,
): AnalysisSettings {
  const document = parseAnalysisDocument(source.text, name('analysis'), source.file, {
    placeholders: Object.keys(source.vars),
  });
  requirePrometheus(document, source.prometheusUrl, name('analysis'), name('prometheus-url'));
  return {
    document,
    vars: source.vars,
    prometheusUrl: source.prometheusUrl,
    auth: source.prometheusToken ? { bearerToken: source.prometheusToken } : undefined,
  };
}

export async function runAnalysis(settings: AnalysisSettings, ports: AnalysisPorts = {}): Promise<AnalysisResult> {
  const log = ports.logger ?? silentLogger;
  const clock = ports.clock ?? systemClock;
  const lookup = lookupFor(settings, ports);
  const { document } = settings;
  const missing = (name: string): string => {
    throw new Error(`${document.source}: no value for {{ ${name} }}`);
  };
  const rawUrl = settings.prometheusUrl || document.prometheus;
  if (!rawUrl) {
    throw new Error(
      `${document.source}: no Prometheus URL (give prometheus: in the file, or the prometheus-url input)`,
    );
  }
  const url = fillTemplate(rawUrl, lookup, missing);
  try {
    const parsed = new URL(url);
    if (parsed.password) ports.redactor?.add(decodeURIComponent(parsed.password));
  } catch {
    throw new Error(`${document.source}: '${displayUrl(url)}' is not a Prometheus URL`);
  }
  ports.redactor?.add(settings.auth?.bearerToken);
  ports.redactor?.add(settings.auth?.password);

  const stop = new AbortController();
  const onAbort = (): void => stop.abort(ports.signal?.reason);
  ports.signal?.addEventListener('abort', onAbort, { once: true });
  const client = new PrometheusClient({
    url,
    auth: settings.auth,
    clock,
    logger: log,
    signal: stop.signal,
    attempts: ports.retry?.attempts,
    retryInitialMs: ports.retry?.initialMs,
  });
  const startedAt = clock.now();
  const deadline = settings.timeoutMs === undefined ? Infinity : startedAt + settings.timeoutMs;
  const results: MetricResult[] = document.metrics.map((spec) => ({
    name: spec.name,
    query: fillTemplate(
      spec.query,
      (n) => {
        const v = lookup(n);
        return v === undefined ? undefined : promqlString(v);
      },
      missing,
    ),
    success: spec.success.text,
    threshold: spec.success.threshold,
    outcome: 'inconclusive',
    measurements: [],
    failures: 0,
    failureLimit: spec.failureLimit,
    count: spec.count,
    intervalMs: spec.intervalMs,
  }));

  const measure = async (spec: MetricSpec, result: MetricResult): Promise<void> => {
    let withData = 0;
    let noData = 0;
    let passedAsNoData = 0;
    if (spec.initialDelayMs > 0) await clock.sleep(spec.initialDelayMs, stop.signal);
    for (let n = 0; ; n++) {
      if (n > 0) await clock.sleep(spec.intervalMs, stop.signal);
      const time = Date.now();
      let series: Sample[];
      try {
        series = (await client.query(result.query, time / 1000)).samples;
      } catch (error) {
        if (stop.signal.aborted) throw error;
        result.outcome = 'error';
        result.errorKind = error instanceof PrometheusError ? error.kind : undefined;
        result.message = `metric ${spec.name}: ${errorMessage(error)}`;
        throw new MetricFailed(result.message);
      }
      const values = series.map((s) => s.value).filter((v) => !Number.isNaN(v));
      const measurement: Measurement = { atMs: clock.now() - startedAt, time, outcome: 'inconclusive', series };
      if (values.length === 0) {
        noData++;
        if (spec.inconclusive === 'fail') {
          measurement.countedAs = 'failed';
          result.failures++;
          withData++;
        } else if (spec.inconclusive === 'pass') {
          measurement.countedAs = 'passed';
          passedAsNoData++;
          withData++;
        }
      } else {
        measurement.value = judgedValue(spec, values);
        const ok = values.every((v) => holds(spec.success, v));
        measurement.outcome = ok ? 'passed' : 'failed';
        if (!ok) result.failures++;
        withData++;
      }
      result.measurements.push(measurement);
      ports.onMeasurement?.(spec.name, measurement);
      log.debug(
        `analysis ${spec.name} #${result.measurements.length}: ${measurement.value ?? 'no data'} → ${measurement.outcome}`,
      );
      if (result.failures > spec.failureLimit) {
        result.outcome = 'failed';
        const last = measurement.value === undefined ? 'no data' : formatValue(measurement.value);
        const noDataNote = spec.inconclusive === 'fail' && noData ? ` (${noData} with no data, counted as failed)` : '';
        result.message =
          `metric ${spec.name} failed: ${result.failures} of ${result.measurements.length} measurements ` +
          `missed \`${spec.success.text}\`${noDataNote} (failure-limit ${spec.failureLimit}); last: ${last}`;
        throw new MetricFailed(result.message);
      }
      if (spec.inconclusive === 'wait' && noData >= spec.inconclusiveLimit) {
        result.outcome = 'inconclusive';
        result.message =
          `metric ${spec.name} is inconclusive: the query returned no data ${noData} times ` +
          `(inconclusive-limit ${spec.inconclusiveLimit}); check the query and that Prometheus scrapes the pods: ${result.query}`;
        throw new MetricFailed(result.message);
      }
      if (withData >= spec.count) break;
      if (clock.now() + spec.intervalMs > deadline) {
        result.outcome = 'inconclusive';
        result.message = `metric ${spec.name} is inconclusive: only ${withData} of ${spec.count} measurements before the analysis time ran out`;
        throw new MetricFailed(result.message);
      }
    }
    result.outcome = 'passed';
    if (passedAsNoData) {
      result.message = `metric ${spec.name}: ${passedAsNoData} of ${result.measurements.length} measurements had no data and were counted as passed (inconclusive: pass)`;
      log.warning(result.message);
    }
  };

  let failure: string | undefined;
  try {
    await Promise.all(
      document.metrics.map((spec, i) =>
        measure(spec, results[i] as MetricResult).catch((error: unknown) => {
          // The first failing metric ends the analysis: the others stop where they are.
          failure ??= errorMessage(error);
          stop.abort(new MetricFailed(failure));
          if (!(error instanceof MetricFailed) && !stop.signal.aborted) throw error;
        }),
      ),
    );
  } finally {
    ports.signal?.removeEventListener('abort', onAbort);
    await client.close().catch(() => undefined);
  }
  if (ports.signal?.aborted) throw ports.signal.reason;
  for (const r of results) {
    if (failure && r.outcome === 'inconclusive' && !r.message) r.message = 'stopped: another metric failed first';
  }
  const passed = failure === undefined && results.every((r) => r.outcome === 'passed');
  return {
    source: document.source,
    prometheus: displayUrl(url),
    passed,
    metrics: results,
    message: failure,
    startedAt,
    durationMs: clock.now() - startedAt,
  };
}

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000 || abs < 0.001) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

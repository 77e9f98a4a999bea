// k6-style pass/fail expressions (`p(95)<300ms`, `error_rate<0.01`, `rps>=180`): parsed strictly,
// because a mistyped metric that silently passes is worse than no threshold at all (k6#1526).
import { InputError, parseDuration } from '@adci/common';
import type { Threshold, ThresholdMetric, ThresholdResult } from './types.ts';

const LATENCY_METRICS = ['avg', 'min', 'max', 'med'] as const;
const PLAIN_METRICS = ['error_rate', 'rps', 'dropped', 'dropped_rate'] as const;
export const THRESHOLD_METRICS = ['p(N)', ...LATENCY_METRICS, ...PLAIN_METRICS];

const EXPRESSION = /^\s*([a-z_][a-z0-9_]*(?:\(\s*[\d.]+\s*\))?)\s*(<=|>=|==|<|>)\s*(\S+)\s*$/;

export function isLatencyMetric(metric: ThresholdMetric): boolean {
  return metric.kind === 'percentile' || (LATENCY_METRICS as readonly string[]).includes(metric.kind);
}

/** What a load phase is held to when none of its thresholds names the error rate. */
export const IMPLICIT_ERROR_RATE = 'error_rate<0.01';

/**
 * A load phase is never judged by latency alone: unless a threshold names the error rate, an
 * implicit `error_rate<0.01` is added (marked `implicit`, so presentations can say so).
 */
export function withImplicitErrorRate(thresholds: readonly Threshold[]): Threshold[] {
  const explicit = thresholds.filter((t) => !t.implicit);
  if (explicit.some((t) => t.metric.kind === 'error_rate')) return explicit;
  return [...explicit, { ...parseThreshold(IMPLICIT_ERROR_RATE, 'implicit threshold'), implicit: true }];
}

/** Parses one threshold; `input` names where it came from in errors. */
export function parseThreshold(text: string, input: string): Threshold {
  const match = EXPRESSION.exec(text);
  if (!match) {
    throw new InputError(input, `'${text}' is not a threshold (write e.g. p(95)<300ms, error_rate<0.01, rps>=180)`);
  }
  const [, name = '', operator = '<', rawValue = ''] = match;
  const metric = parseMetric(name, text, input);
  let value: number;
  if (isLatencyMetric(metric)) {
    value = parseDuration(rawValue, `${input} (${text})`);
  } else if (rawValue.endsWith('%') && (metric.kind === 'error_rate' || metric.kind === 'dropped_rate')) {
    value = Number(rawValue.slice(0, -1)) / 100;
  } else {
    value = Number(rawValue);
  }
  if (!Number.isFinite(value)) throw new InputError(input, `'${text}': '${rawValue}' is not a number`);
  return { text: text.trim(), metric, operator: operator as Threshold['operator'], value };
}

function parseMetric(name: string, text: string, input: string): ThresholdMetric {
  const percentile = /^p\(\s*([\d.]+)\s*\)$/.exec(name);
  if (percentile) {
    const p = Number(percentile[1]);
    if (!(p > 0 && p <= 100)) throw new InputError(input, `'${text}': percentile must be in (0, 100]`);
    return { kind: 'percentile', percentile: p };
  }
  if ((LATENCY_METRICS as readonly string[]).includes(name)) return { kind: name as 'avg' };
  if ((PLAIN_METRICS as readonly string[]).includes(name)) return { kind: name as 'rps' };
  const hint = /^p(\d+(?:\.\d+)?)$/.exec(name);
  const suggestion = hint ? `; did you mean p(${hint[1]})?` : '';
  throw new InputError(
    input,
    `'${text}': unknown metric '${name}' (known: ${THRESHOLD_METRICS.join(', ')})${suggestion}`,
  );
}

/** The measured numbers a threshold can refer to. Latencies in milliseconds. */
export interface MetricSource {
  percentile(p: number): number;
  avg: number;
  min: number;
  max: number;
  errorRate: number;
  rps: number;
  dropped: number;
  droppedRate: number;
}

export function measure(metric: ThresholdMetric, source: MetricSource): number {
  switch (metric.kind) {
    case 'percentile':
      return source.percentile(metric.percentile);
    case 'med':
      return source.percentile(50);
    case 'avg':
      return source.avg;
    case 'min':
      return source.min;
    case 'max':
      return source.max;
    case 'error_rate':
      return source.errorRate;
    case 'rps':
      return source.rps;
    case 'dropped':
      return source.dropped;
    case 'dropped_rate':
      return source.droppedRate;
  }
}

export function compare(actual: number, operator: Threshold['operator'], limit: number): boolean {
  switch (operator) {
    case '<':
      return actual < limit;
    case '<=':
      return actual <= limit;
    case '>':
      return actual > limit;
    case '>=':
      return actual >= limit;
    case '==':
      return actual === limit;
  }
}

export function evaluateThresholds(thresholds: readonly Threshold[], source: MetricSource): ThresholdResult[] {
  return thresholds.map((t) => {
    const actual = Math.round(measure(t.metric, source) * 1000) / 1000;
    const result: ThresholdResult = {
      threshold: t.text,
      passed: compare(actual, t.operator, t.value),
      actual,
      latency: isLatencyMetric(t.metric),
    };
    if (t.implicit) result.implicit = true;
    return result;
  });
}

/**
 * Thresholds that can be judged before the end of a run. Rates over the whole run (`rps`) and
 * lower bounds are left to the end: early in a run they would fail for lack of samples.
 */
export function canJudgeEarly(t: Threshold): boolean {
  if (t.metric.kind === 'rps') return false;
  return t.operator === '<' || t.operator === '<=';
}

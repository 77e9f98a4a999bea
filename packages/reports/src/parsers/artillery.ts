// Artillery 2's JSON report (`artillery run --output report.json`): the aggregate's counters
// (requests, responses, `http.codes.*`, `errors.*`, failed expectations, virtual users) and the
// `http.response_time` summary become `load.*` figures the thresholds can name.
import { ReportError } from '../errors.ts';

export interface LoadLatency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadFigures {
  /** Artillery reports read. */
  reports: number;
  requests: number;
  responses: number;
  /** Requests that got no response, by Artillery's error code (ECONNREFUSED, ETIMEDOUT, ...). */
  errors: Record<string, number>;
  /** Responses by status code. */
  codes: Record<string, number>;
  /** artillery-plugin-expect's failed expectations. */
  failedExpectations: number;
  users: { created: number; completed: number; failed: number };
  /** Response times in ms; over several reports, the worst of each (a summary cannot be merged). */
  latency: LoadLatency | null;
  /** Requests per second as Artillery reports it (`http.request_rate`), summed over reports. */
  rps: number;
}

export function emptyLoadFigures(): LoadFigures {
  return {
    reports: 0,
    requests: 0,
    responses: 0,
    errors: {},
    codes: {},
    failedExpectations: 0,
    users: { created: 0, completed: 0, failed: 0 },
    latency: null,
    rps: 0,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function addAll(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Adds `b` into `a` (several reports, or one report's collector into the run's). */
export function mergeLoadFigures(a: LoadFigures, b: LoadFigures): void {
  a.reports += b.reports;
  a.requests += b.requests;
  a.responses += b.responses;
  addAll(a.errors, b.errors);
  addAll(a.codes, b.codes);
  a.failedExpectations += b.failedExpectations;
  a.users.created += b.users.created;
  a.users.completed += b.users.completed;
  a.users.failed += b.users.failed;
  a.rps += b.rps;
  if (b.latency) {
    const l = a.latency;
    a.latency = l
      ? {
          p50: Math.max(l.p50, b.latency.p50),
          p95: Math.max(l.p95, b.latency.p95),
          p99: Math.max(l.p99, b.latency.p99),
          max: Math.max(l.max, b.latency.max),
          mean: Math.max(l.mean, b.latency.mean),
        }
      : { ...b.latency };
  }
}

/** Reads one Artillery report; anything that is not its shape is a ReportError naming the key. */
export function parseArtilleryReport(doc: unknown, path: string): LoadFigures {
  if (!isObject(doc) || !isObject(doc.aggregate)) {
    throw new ReportError(
      path,
      'not an Artillery report: expected an object with "aggregate" (artillery run --output)',
    );
  }
  const aggregate = doc.aggregate;
  if (!isObject(aggregate.counters)) throw new ReportError(path, 'Artillery report without "aggregate.counters"');
  const counters = aggregate.counters;
  const count = (key: string): number => {
    const v = counters[key];
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ReportError(path, `"aggregate.counters.${key}" is not a count: ${JSON.stringify(v)}`);
    }
    return v;
  };
  const figures = emptyLoadFigures();
  figures.reports = 1;
  figures.requests = count('http.requests');
  figures.responses = count('http.responses');
  figures.failedExpectations = count('plugins.expect.failed');
  figures.users = {
    created: count('vusers.created'),
    completed: count('vusers.completed'),
    failed: count('vusers.failed'),
  };
  for (const key of Object.keys(counters)) {
    const code = /^http\.codes\.(\d{3})$/.exec(key);
    if (code) figures.codes[code[1] as string] = count(key);
    const error = /^errors\.(.+)$/.exec(key);
    if (error) figures.errors[error[1] as string] = count(key);
  }
  const rate = isObject(aggregate.rates) ? aggregate.rates['http.request_rate'] : undefined;
  if (typeof rate === 'number' && Number.isFinite(rate)) figures.rps = rate;
  const summary = isObject(aggregate.summaries) ? aggregate.summaries['http.response_time'] : undefined;
  if (summary !== undefined) {
    if (!isObject(summary)) throw new ReportError(path, '"aggregate.summaries.http.response_time" is not an object');
    const ms = (key: string): number => {
      const v = summary[key];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ReportError(
          path,
          `"aggregate.summaries.http.response_time.${key}" is not a number: ${JSON.stringify(v)}`,
        );
      }
      return v;
    };
    figures.latency = { p50: ms('p50'), p95: ms('p95'), p99: ms('p99'), max: ms('max'), mean: ms('mean') };
  } else if (figures.responses > 0) {
    throw new ReportError(path, `${figures.responses} responses but no "aggregate.summaries.http.response_time"`);
  }
  return figures;
}

/** The `load.*` threshold keys, their unit and meaning. */
export const LOAD_THRESHOLD_KEYS: Record<string, { unit: 'count' | 'percent' | 'ms' | 'rate'; help: string }> = {
  'load.requests': { unit: 'count', help: 'requests sent (at least, for a bare number)' },
  'load.errors': { unit: 'count', help: 'requests that got no response (errors.* of the report)' },
  'load.error-rate': { unit: 'percent', help: '(requests with no response + 5xx responses) / requests' },
  'load.4xx': { unit: 'count', help: 'responses with a 4xx status' },
  'load.5xx': { unit: 'count', help: 'responses with a 5xx status' },
  'load.failed-expectations': { unit: 'count', help: "artillery-plugin-expect's failed expectations" },
  'load.failed-users': { unit: 'count', help: 'virtual users that failed (vusers.failed)' },
  'load.p50': { unit: 'ms', help: 'median response time, ms' },
  'load.p95': { unit: 'ms', help: '95th percentile response time, ms' },
  'load.p99': { unit: 'ms', help: '99th percentile response time, ms' },
  'load.max': { unit: 'ms', help: 'slowest response, ms' },
  'load.mean': { unit: 'ms', help: 'mean response time, ms' },
  'load.rps': { unit: 'rate', help: 'requests per second (http.request_rate; at least, for a bare number)' },
};

/** Keys where a bare number is a minimum. */
export const LOAD_MINIMUM_KEYS = ['load.requests', 'load.rps'];

function codeClass(codes: Record<string, number>, first: string): number {
  return Object.entries(codes).reduce((sum, [code, n]) => sum + (code.startsWith(first) ? n : 0), 0);
}

/** The figure a `load.*` key names, or a reason it cannot be measured. */
export function measureLoad(
  key: string,
  load: LoadFigures | null,
): { value: number; note?: string } | { missing: string } {
  if (!load || load.reports === 0) return { missing: 'no Artillery report was read' };
  const errors = Object.values(load.errors).reduce((a, b) => a + b, 0);
  const worst = load.reports > 1 ? `worst of ${load.reports} reports` : undefined;
  const latency = (pick: (l: LoadLatency) => number): { value: number; note?: string } | { missing: string } =>
    load.latency
      ? { value: pick(load.latency), ...(worst ? { note: worst } : {}) }
      : { missing: 'no response times (no responses)' };
  switch (key) {
    case 'load.requests':
      return { value: load.requests };
    case 'load.errors': {
      const kinds = Object.entries(load.errors).map(([k, n]) => `${k} ${n}`);
      return kinds.length > 0 ? { value: errors, note: kinds.join(', ') } : { value: errors };
    }
    case 'load.error-rate':
      return load.requests === 0
        ? { missing: 'no requests were sent' }
        : { value: ((errors + codeClass(load.codes, '5')) / load.requests) * 100 };
    case 'load.4xx':
      return { value: codeClass(load.codes, '4') };
    case 'load.5xx':
      return { value: codeClass(load.codes, '5') };
    case 'load.failed-expectations':
      return { value: load.failedExpectations };
    case 'load.failed-users':
      return { value: load.users.failed };
    case 'load.p50':
      return latency((l) => l.p50);
    case 'load.p95':
      return latency((l) => l.p95);
    case 'load.p99':
      return latency((l) => l.p99);
    case 'load.max':
      return latency((l) => l.max);
    case 'load.mean':
      return latency((l) => l.mean);
    case 'load.rps':
      return { value: load.rps };
    default:
      return { missing: `unknown key ${key}` };
  }
}

function errorList(load: LoadFigures): string {
  const kinds = Object.entries(load.errors).map(([k, n]) => `${k} ${n}`);
  return kinds.length > 0 ? kinds.join(', ') : 'none';
}

function codeList(load: LoadFigures): string {
  const codes = Object.entries(load.codes).map(([k, n]) => `${k}: ${n}`);
  return codes.length > 0 ? codes.join(', ') : 'none';
}

/** The load figures as a Markdown section (quality-gate's summary); '' when none were read. */
export function loadMarkdown(load: LoadFigures | null | undefined): string {
  if (!load || load.reports === 0) return '';
  const l = load.latency;
  const ms = (n: number | undefined): string => (n === undefined ? 'n/a' : `${n}ms`);
  return (
    `### Load (Artillery)\n\n| Requests | Responses | Rate | p50 | p95 | p99 | Max | No response | Statuses |\n` +
    `|---|---|---|---|---|---|---|---|---|\n` +
    `| ${load.requests} | ${load.responses} | ${load.rps}/s | ${ms(l?.p50)} | ${ms(l?.p95)} | ${ms(l?.p99)} | ${ms(l?.max)} | ` +
    `${errorList(load)} | ${codeList(load)} |\n` +
    (load.failedExpectations > 0 ? `\nFailed expectations: ${load.failedExpectations}.\n` : '') +
    (load.reports > 1 ? `\nResponse times are the worst of ${load.reports} reports.\n` : '')
  );
}

/** The load figures as terminal lines (`adci gate`). */
export function loadText(load: LoadFigures | null | undefined): string[] {
  if (!load || load.reports === 0) return [];
  const l = load.latency;
  return [
    '',
    `Load: ${load.requests} requests, ${load.responses} responses, ${load.rps}/s` +
      (l ? `, p50 ${l.p50}ms, p95 ${l.p95}ms, p99 ${l.p99}ms, max ${l.max}ms` : ''),
    `  no response: ${errorList(load)}; statuses: ${codeList(load)}; failed expectations: ${load.failedExpectations}`,
  ];
}

// Reads an analysis file (YAML or JSON): which Prometheus, and the metrics to measure with their
// success conditions. Strict, like the checks file: an unknown key or a bad condition is an input
// error naming the file and line, because a typo (`sucess:`) must never turn a metric into a pass.
import { InputError, parseDuration, templateNames } from '@adci/common';
import { parseStructured, type ParsedDocument } from '@adci/common/structured';
import { parseCondition, type Condition } from './condition.ts';

export type InconclusivePolicy = 'fail' | 'pass' | 'wait';
export const INCONCLUSIVE_POLICIES: readonly InconclusivePolicy[] = ['fail', 'pass', 'wait'];

export interface MetricSpec {
  name: string;
  /** PromQL with `{{ placeholders }}`, filled when the analysis runs. */
  query: string;
  success: Condition;
  intervalMs: number;
  /** Measurements with data to take (no-data ones under `inconclusive: wait` do not count). */
  count: number;
  /** Failed measurements tolerated; one more fails the metric at once. */
  failureLimit: number;
  /** What a measurement with no data (empty vector, NaN) counts as. */
  inconclusive: InconclusivePolicy;
  /** Under `wait`: how many no-data measurements before the metric ends inconclusive (a failure). */
  inconclusiveLimit: number;
  initialDelayMs: number;
  /** 1-based line of the metric in its file, for messages. */
  line?: number;
}

export interface AnalysisDocument {
  /** Where it came from, as messages name it: `post-promotion-analysis (deploy/analysis.yml)`. */
  source: string;
  prometheus?: string;
  metrics: MetricSpec[];
}

export const ANALYSIS_DEFAULTS = {
  interval: '10s',
  count: 1,
  failureLimit: 0,
  inconclusive: 'wait' as InconclusivePolicy,
} as const;

/** The placeholders a deploy or smoke test fills; `env.NAME` is always allowed. */
export const ANALYSIS_PLACEHOLDERS = ['version', 'color', 'namespace', 'revision', 'app'] as const;

const TOP_KEYS = ['prometheus', 'inconclusive', 'metrics'];
const METRIC_KEYS = [
  'name',
  'query',
  'success',
  'interval',
  'count',
  'failure-limit',
  'inconclusive',
  'inconclusive-limit',
  'initial-delay',
];

type Path = (string | number)[];

function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

class Reader {
  readonly input: string;
  readonly file: string;
  readonly doc: ParsedDocument;

  constructor(input: string, file: string, doc: ParsedDocument) {
    this.input = input;
    this.file = file;
    this.doc = doc;
  }

  lineOf(path: Path): number | undefined {
    for (let i = path.length; i >= 0; i--) {
      const line = this.doc.lineOf(path.slice(0, i));
      if (line !== undefined) return line;
    }
    return undefined;
  }

  fail(path: Path, message: string): never {
    const line = this.lineOf(path);
    const where = line === undefined ? this.file : `${this.file}:${line}`;
    throw new InputError(this.input, `${where}: ${path.length ? `${formatPath(path)}: ` : ''}${message}`);
  }

  map(value: unknown, path: Path, allowed: readonly string[]): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'must be a mapping');
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) this.fail([...path, key], `unknown key '${key}' (known: ${allowed.join(', ')})`);
    }
    return record;
  }

  string(value: unknown, path: Path): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(path, 'must be a non-empty string');
    return value;
  }

  wholeNumber(value: unknown, path: Path, min: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      this.fail(path, `must be a whole number ≥ ${min}, not ${JSON.stringify(value)}`);
    }
    return value;
  }

  duration(value: unknown, path: Path): number {
    if (typeof value !== 'string' && typeof value !== 'number') this.fail(path, 'must be a duration (e.g. 10s)');
    try {
      return parseDuration(value, formatPath(path));
    } catch (error) {
      return this.fail(path, (error as Error).message.replace(/^Input '[^']*': /, ''));
    }
  }

  policy(value: unknown, path: Path): InconclusivePolicy {
    if (!INCONCLUSIVE_POLICIES.includes(value as InconclusivePolicy)) {
      this.fail(path, `must be one of ${INCONCLUSIVE_POLICIES.join(', ')}, not ${JSON.stringify(value)}`);
    }
    return value as InconclusivePolicy;
  }

  placeholders(text: string, path: Path, extra: readonly string[]): void {
    for (const name of templateNames(text)) {
      const known = (ANALYSIS_PLACEHOLDERS as readonly string[]).includes(name) || extra.includes(name);
      if (!known && !/^env\.[A-Za-z_]\w*$/.test(name)) {
        this.fail(
          path,
          `unknown placeholder {{ ${name} }} (known: ${[...ANALYSIS_PLACEHOLDERS, ...extra, 'env.NAME'].join(', ')})`,
        );
      }
    }
  }
}

/** An analysis needs a Prometheus: its file's `prometheus:`, or the front end's override. */
export function requirePrometheus(
  document: AnalysisDocument,
  prometheusUrl: string | undefined,
  input: string,
  urlSetting = 'prometheus-url',
): void {
  if (!document.prometheus && !prometheusUrl) {
    throw new InputError(input, `${document.source} names no prometheus: URL; give one there or in ${urlSetting}`);
  }
}

export interface ParseAnalysisOptions {
  /** Placeholder names the caller will fill besides version, color, namespace, revision, app. */
  placeholders?: readonly string[];
}

/**
 * Parses an analysis file. `input` names the input or flag (`post-promotion-analysis`), `file`
 * the path as the user wrote it; errors read `Input 'post-promotion-analysis': analysis.yml:7: …`.
 */
export function parseAnalysisDocument(
  text: string,
  input: string,
  file: string,
  options: ParseAnalysisOptions = {},
): AnalysisDocument {
  let doc: ParsedDocument;
  try {
    doc = parseStructured(text, input);
  } catch (error) {
    // parseStructured says "line L, column C"; point at the file too.
    throw new InputError(input, `${file}: ${(error as Error).message.replace(/^Input '[^']*': /, '')}`);
  }
  const r = new Reader(input, file, doc);
  const extra = options.placeholders ?? [];
  if (doc.value === null || doc.value === undefined) r.fail([], 'is empty; it needs a metrics: list');
  const top = r.map(doc.value, [], TOP_KEYS);
  const prometheus = top.prometheus === undefined ? undefined : r.string(top.prometheus, ['prometheus']);
  if (prometheus) {
    r.placeholders(prometheus, ['prometheus'], extra);
    if (templateNames(prometheus).length === 0) {
      let url: URL | undefined;
      try {
        url = new URL(prometheus);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
        r.fail(['prometheus'], `'${prometheus}' is not an http(s) URL`);
    }
  }
  const defaultPolicy =
    top.inconclusive === undefined ? ANALYSIS_DEFAULTS.inconclusive : r.policy(top.inconclusive, ['inconclusive']);
  if (!Array.isArray(top.metrics) || top.metrics.length === 0) {
    r.fail(['metrics'], 'must be a non-empty list of metrics (name, query, success)');
  }
  const names = new Set<string>();
  const metrics = (top.metrics as unknown[]).map((item, i): MetricSpec => {
    const path: Path = ['metrics', i];
    const m = r.map(item, path, METRIC_KEYS);
    for (const key of ['name', 'query', 'success']) {
      if (m[key] === undefined) r.fail(path, `is missing '${key}'`);
    }
    const name = r.string(m.name, [...path, 'name']);
    if (names.has(name)) r.fail([...path, 'name'], `'${name}' is used by another metric`);
    names.add(name);
    const query = r.string(m.query, [...path, 'query']);
    r.placeholders(query, [...path, 'query'], extra);
    const successText = typeof m.success === 'number' ? String(m.success) : r.string(m.success, [...path, 'success']);
    let success: Condition;
    try {
      success = parseCondition(successText);
    } catch (error) {
      return r.fail([...path, 'success'], (error as Error).message);
    }
    const intervalMs = r.duration(m.interval ?? ANALYSIS_DEFAULTS.interval, [...path, 'interval']);
    if (intervalMs < 100) r.fail([...path, 'interval'], 'must be at least 100ms');
    const count = m.count === undefined ? ANALYSIS_DEFAULTS.count : r.wholeNumber(m.count, [...path, 'count'], 1);
    const failureLimit =
      m['failure-limit'] === undefined
        ? ANALYSIS_DEFAULTS.failureLimit
        : r.wholeNumber(m['failure-limit'], [...path, 'failure-limit'], 0);
    if (failureLimit >= count) {
      r.fail(
        [...path, 'failure-limit'],
        `${failureLimit} tolerates every one of the ${count} measurements; it must be below count`,
      );
    }
    const inconclusive =
      m.inconclusive === undefined ? defaultPolicy : r.policy(m.inconclusive, [...path, 'inconclusive']);
    const inconclusiveLimit =
      m['inconclusive-limit'] === undefined
        ? Math.max(3, count)
        : r.wholeNumber(m['inconclusive-limit'], [...path, 'inconclusive-limit'], 1);
    const initialDelayMs =
      m['initial-delay'] === undefined ? 0 : r.duration(m['initial-delay'], [...path, 'initial-delay']);
    return {
      name,
      query,
      success,
      intervalMs,
      count,
      failureLimit,
      inconclusive,
      inconclusiveLimit,
      initialDelayMs,
      line: r.lineOf(path),
    };
  });
  return { source: `${input} (${file})`, prometheus, metrics };
}

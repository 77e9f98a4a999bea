// Reads a checks file (YAML or JSON) into typed specs. Every error names the line and the field,
// and unknown keys are rejected: a typo such as `expcet:` must not turn a check into a no-op.
import { InputError, parseDuration, redactUrlSecrets, scalarText } from '@adci/common';
import { readYaml } from '@adci/common/flat-yaml';
import type { ParsedDocument } from '@adci/common/structured';
import { parseThreshold, withImplicitErrorRate } from './thresholds.ts';
import type {
  CheckSpec,
  ChecksDocument,
  Expectation,
  JsonType,
  LoadModel,
  LoadRequestSpec,
  LoadSpec,
  RequestSpec,
  StatusExpectation,
  ValueMatcher,
} from './types.ts';

type Path = (string | number)[];

const JSON_TYPES: readonly JsonType[] = ['string', 'number', 'integer', 'boolean', 'array', 'object', 'null'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const REQUEST_KEYS = ['name', 'method', 'path', 'url', 'headers', 'body', 'json'];
const CHECK_KEYS = [...REQUEST_KEYS, 'expect', 'capture'];
const EXPECT_KEYS = ['status', 'headers', 'body-contains', 'json', 'max-latency'];
const LOAD_KEYS = [
  'rate',
  'connections',
  'duration',
  'max-in-flight',
  'thresholds',
  'abort-on-fail',
  'requests',
  'expect',
  ...REQUEST_KEYS.filter((k) => k !== 'name'),
];

/**
 * Default in-flight cap of the open model: enough for 2.5 s of latency at the rate, between 100
 * and 1000. Each request in flight holds a connection, so the cap also bounds the sockets opened
 * against a service that slows down.
 */
export function defaultMaxInFlight(ratePerSecond: number): number {
  return Math.min(1000, Math.max(100, Math.ceil(ratePerSecond * 2.5)));
}

class SpecReader {
  readonly source: string;
  private readonly doc: ParsedDocument;

  constructor(source: string, doc: ParsedDocument) {
    this.source = source;
    this.doc = doc;
  }

  fail(path: Path, message: string): never {
    const line = this.lineOf(path);
    const where = line === undefined ? '' : `line ${line}: `;
    // Messages quote values, and a URL's may carry credentials.
    throw new InputError(this.source, redactUrlSecrets(`${where}${formatPath(path)}: ${message}`));
  }

  lineOf(path: Path): number | undefined {
    for (let i = path.length; i >= 0; i--) {
      const line = this.doc.lineOf(path.slice(0, i));
      if (line !== undefined) return line;
    }
    return undefined;
  }

  map(value: unknown, path: Path, allowed?: readonly string[]): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'must be a mapping');
    const record = value as Record<string, unknown>;
    if (allowed) {
      for (const key of Object.keys(record)) {
        if (!allowed.includes(key)) {
          this.fail([...path, key], `unknown field '${key}' (allowed: ${allowed.join(', ')})`);
        }
      }
    }
    return record;
  }

  string(value: unknown, path: Path): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return this.fail(path, 'must be a string');
  }

  stringMap(value: unknown, path: Path): Record<string, string> {
    if (value === undefined || value === null) return {};
    const record = this.map(value, path);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(record)) out[k] = this.string(v, [...path, k]);
    return out;
  }

  duration(value: unknown, path: Path): number {
    if (typeof value !== 'string' && typeof value !== 'number')
      this.fail(path, 'must be a duration such as 500ms or 30s');
    try {
      return parseDuration(value, formatPath(path));
    } catch {
      return this.fail(path, `'${String(value)}' is not a duration (use e.g. 500ms, 30s, 5m)`);
    }
  }

  positiveInteger(value: unknown, path: Path): number {
    const n = typeof value === 'string' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
      this.fail(path, `'${String(value)}' is not an integer >= 1`);
    return n;
  }

  boolean(value: unknown, path: Path): boolean {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return this.fail(path, 'must be true or false');
  }

  request(value: Record<string, unknown>, path: Path): RequestSpec {
    const hasPath = value.path !== undefined;
    const hasUrl = value.url !== undefined;
    if (hasPath && hasUrl) this.fail([...path, 'url'], "give 'path' or 'url', not both");
    if (!hasPath && !hasUrl) this.fail(path, "needs a 'path' (joined to base-url) or a 'url'");
    if (value.body !== undefined && value.json !== undefined)
      this.fail([...path, 'json'], "give 'body' or 'json', not both");
    const method = value.method === undefined ? 'GET' : this.string(value.method, [...path, 'method']).toUpperCase();
    if (!METHODS.includes(method)) this.fail([...path, 'method'], `'${method}' is not one of ${METHODS.join(', ')}`);
    const spec: RequestSpec = { method, headers: this.stringMap(value.headers, [...path, 'headers']) };
    if (hasPath) {
      spec.path = this.string(value.path, [...path, 'path']);
      if (!spec.path.startsWith('/') && !spec.path.startsWith('{{')) {
        this.fail([...path, 'path'], `'${spec.path}' must start with '/'`);
      }
    }
    if (hasUrl) {
      spec.url = this.string(value.url, [...path, 'url']);
      if (!/^https?:\/\//.test(spec.url) && !spec.url.startsWith('{{')) {
        this.fail([...path, 'url'], `'${spec.url}' must be an absolute http(s) URL`);
      }
    }
    if (value.body !== undefined) spec.body = this.string(value.body, [...path, 'body']);
    if (value.json !== undefined) spec.json = value.json;
    return spec;
  }

  status(value: unknown, path: Path): StatusExpectation {
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0) this.fail(path, 'must list at least one status');
    const result: StatusExpectation = { codes: [], classes: [], text: items.map(String).join(' or ') };
    items.forEach((item, i) => {
      const itemPath = Array.isArray(value) ? [...path, i] : path;
      const text = String(item).trim().toLowerCase();
      if (/^[1-5]xx$/.test(text)) result.classes.push(Number(text[0]));
      else if (/^[1-5]\d\d$/.test(text)) result.codes.push(Number(text));
      else this.fail(itemPath, `'${String(item)}' is not a status (use 200, a list [200, 201] or a class such as 2xx)`);
    });
    return result;
  }

  matcher(value: unknown, path: Path, forJson: boolean): ValueMatcher {
    if (typeof value === 'string') {
      const regex = /^\/(.*)\/([a-z]*)$/s.exec(value);
      if (regex) {
        try {
          return { kind: 'regex', regex: new RegExp(regex[1] as string, regex[2]) };
        } catch (error) {
          return this.fail(path, `bad regular expression ${value}: ${(error as Error).message}`);
        }
      }
      return { kind: 'equals', value };
    }
    if (forJson && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 1 && keys[0] === 'type') {
        const type = record.type;
        if (!JSON_TYPES.includes(type as JsonType)) {
          this.fail([...path, 'type'], `'${String(type)}' is not one of ${JSON_TYPES.join(', ')}`);
        }
        return { kind: 'type', type: type as JsonType };
      }
      if (keys.length === 1 && keys[0] === 'exists') {
        return { kind: 'exists', exists: this.boolean(record.exists, [...path, 'exists']) };
      }
      if (keys.length === 1 && keys[0] === 'equals') return { kind: 'equals', value: record.equals };
      if (keys.length === 1 && keys[0] === 'matches') {
        const pattern = this.string(record.matches, [...path, 'matches']);
        const inner = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
        try {
          return { kind: 'regex', regex: inner ? new RegExp(inner[1] as string, inner[2]) : new RegExp(pattern) };
        } catch (error) {
          return this.fail([...path, 'matches'], `bad regular expression: ${(error as Error).message}`);
        }
      }
    }
    if (!forJson && (value === null || typeof value === 'object')) this.fail(path, 'must be a string or a /regex/');
    return { kind: 'equals', value: forJson ? value : String(value) };
  }

  expectation(value: unknown, path: Path): Expectation {
    const result: Expectation = { headers: [], bodyContains: [], json: [] };
    if (value === undefined || value === null) return result;
    const record = this.map(value, path, EXPECT_KEYS);
    if (record.status !== undefined) result.status = this.status(record.status, [...path, 'status']);
    if (record.headers !== undefined) {
      for (const [name, v] of Object.entries(this.map(record.headers, [...path, 'headers']))) {
        result.headers.push({ name: name.toLowerCase(), matcher: this.matcher(v, [...path, 'headers', name], false) });
      }
    }
    const contains = record['body-contains'];
    if (contains !== undefined) {
      const list = Array.isArray(contains) ? contains : [contains];
      result.bodyContains = list.map((item, i) =>
        this.string(item, Array.isArray(contains) ? [...path, 'body-contains', i] : [...path, 'body-contains']),
      );
    }
    if (record.json !== undefined) {
      for (const [key, v] of Object.entries(this.map(record.json, [...path, 'json']))) {
        if (!isValuePath(key)) {
          this.fail([...path, 'json', key], `'${key}' is not a JSONPath ($.a.b) or a JSON Pointer (/a/b)`);
        }
        result.json.push({ path: key, matcher: this.matcher(v, [...path, 'json', key], true) });
      }
    }
    if (record['max-latency'] !== undefined) {
      result.maxLatencyMs = this.duration(record['max-latency'], [...path, 'max-latency']);
    }
    return result;
  }

  check(value: unknown, path: Path): CheckSpec {
    const record = this.map(value, path, CHECK_KEYS);
    const request = this.request(record, path);
    const name =
      record.name === undefined
        ? `${request.method} ${request.path ?? request.url}`
        : this.string(record.name, [...path, 'name']);
    const capture: Record<string, string> = {};
    if (record.capture !== undefined) {
      for (const [variable, source] of Object.entries(this.map(record.capture, [...path, 'capture']))) {
        const at = [...path, 'capture', variable];
        if (!/^[A-Za-z_][\w-]*$/.test(variable) || variable === 'env') {
          this.fail(at, `'${variable}' is not a usable variable name`);
        }
        const text = this.string(source, at);
        if (!isValuePath(text) && !/^header:\s*\S+$/i.test(text)) {
          this.fail(at, `'${text}' must be a JSONPath ($.id), a JSON Pointer (/id) or header:Name`);
        }
        capture[variable] = text;
      }
    }
    return { ...request, name, expect: this.expectation(record.expect, [...path, 'expect']), capture };
  }

  load(value: unknown, path: Path): LoadSpec {
    const record = this.map(value, path, LOAD_KEYS);
    if (record.rate !== undefined && record.connections !== undefined) {
      this.fail([...path, 'connections'], "give 'rate' (open model) or 'connections' (closed model), not both");
    }
    let model: LoadModel;
    if (record.connections !== undefined) {
      if (record['max-in-flight'] !== undefined) {
        this.fail([...path, 'max-in-flight'], "applies to the open model ('rate') only");
      }
      model = { kind: 'closed', connections: this.positiveInteger(record.connections, [...path, 'connections']) };
    } else {
      if (record.rate === undefined) this.fail(path, "needs 'rate' (e.g. 200/s) or 'connections' (e.g. 50)");
      const rate = parseRate(record.rate);
      if (rate === undefined)
        this.fail([...path, 'rate'], `'${scalarText(record.rate)}' is not a rate (use e.g. 200/s or 6000/m)`);
      const maxInFlight =
        record['max-in-flight'] === undefined
          ? defaultMaxInFlight(rate)
          : this.positiveInteger(record['max-in-flight'], [...path, 'max-in-flight']);
      model = { kind: 'open', ratePerSecond: rate, maxInFlight };
    }
    if (record.duration === undefined) this.fail(path, "needs a 'duration' (e.g. 30s)");
    const durationMs = this.duration(record.duration, [...path, 'duration']);
    if (durationMs <= 0) this.fail([...path, 'duration'], 'must be longer than 0');

    let requests: LoadRequestSpec[];
    if (record.requests !== undefined) {
      const inline = REQUEST_KEYS.filter((k) => k !== 'name' && record[k] !== undefined);
      if (inline.length > 0) this.fail([...path, inline[0] as string], "give 'requests' or a single request, not both");
      if (!Array.isArray(record.requests) || record.requests.length === 0) {
        this.fail([...path, 'requests'], 'must be a non-empty list of requests');
      }
      requests = record.requests.map((item, i) => {
        const at = [...path, 'requests', i];
        const r = this.map(item, at, [...REQUEST_KEYS, 'expect']);
        return this.loadRequest(r, at);
      });
    } else {
      requests = [this.loadRequest(record, path)];
    }

    const thresholdsValue = record.thresholds;
    const thresholdList =
      thresholdsValue === undefined ? [] : Array.isArray(thresholdsValue) ? thresholdsValue : [thresholdsValue];
    const thresholds = thresholdList.map((t, i) => {
      const at = Array.isArray(thresholdsValue) ? [...path, 'thresholds', i] : [...path, 'thresholds'];
      const text = this.string(t, at);
      try {
        return parseThreshold(text, formatPath(at));
      } catch (error) {
        return this.fail(at, (error as Error).message.replace(/^Input '[^']*': /, ''));
      }
    });
    const abortOnFail =
      record['abort-on-fail'] === undefined ? false : this.boolean(record['abort-on-fail'], [...path, 'abort-on-fail']);
    return { model, durationMs, requests, thresholds: withImplicitErrorRate(thresholds), abortOnFail };
  }

  loadRequest(record: Record<string, unknown>, path: Path): LoadRequestSpec {
    const request: LoadRequestSpec = this.request(record, path);
    if (record.expect !== undefined) {
      const expect = this.map(record.expect, [...path, 'expect'], ['status']);
      if (expect.status !== undefined) request.status = this.status(expect.status, [...path, 'expect', 'status']);
    }
    return request;
  }
}

/** `200/s`, `6000/m`, `200` (per second) -> requests per second. */
export function parseRate(value: unknown): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?\s*$/.exec(String(value));
  if (!match) return undefined;
  const n = Number(match[1]);
  const perMinute = match[2] !== undefined && match[2].startsWith('m');
  const rate = perMinute ? n / 60 : n;
  return rate > 0 ? rate : undefined;
}

export function isValuePath(text: string): boolean {
  return text === '$' || text.startsWith('$.') || text.startsWith('$[') || text === '' || text.startsWith('/');
}

function formatPath(path: Path): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out || '(document)';
}

/**
 * Parses a checks document. `source` names the input or file in errors. The document is either
 * `{ checks: [...], load: {...} }` or, for brevity in an inline input, just the list of checks.
 * Asynchronous because the YAML parser is loaded only for text the flat reader leaves to it.
 */
export async function parseChecksDocument(text: string, source: string): Promise<ChecksDocument> {
  const doc = await readYaml(text, source);
  const reader = new SpecReader(source, doc);
  let value = doc.value;
  if (value === null || value === undefined) return { checks: [] };
  if (Array.isArray(value)) value = { checks: value };
  const record = reader.map(value, [], ['checks', 'load']);
  const checksValue: unknown = record.checks ?? [];
  if (!Array.isArray(checksValue)) reader.fail(['checks'], 'must be a list of checks');
  const checks = (checksValue as unknown[]).map((c, i) => reader.check(c, ['checks', i]));
  const names = new Set<string>();
  checks.forEach((c, i) => {
    if (names.has(c.name)) reader.fail(['checks', i, 'name'], `duplicate check name '${c.name}'`);
    names.add(c.name);
  });
  const load = record.load === undefined || record.load === null ? undefined : reader.load(record.load, ['load']);
  return load ? { checks, load } : { checks };
}

/** Load settings given as separate values (the `load-*` inputs), validated like a file's block. */
export interface LoadOverrides {
  rate?: string;
  connections?: string;
  duration?: string;
  maxInFlight?: string;
  path?: string;
  thresholds?: string[];
  abortOnFail?: boolean;
}

/**
 * Merges `load-*` values over a file's load block (the values win), reusing the file's validation.
 * Returns undefined when neither defines a load phase.
 */
export function mergeLoadOverrides(
  base: LoadSpec | undefined,
  overrides: LoadOverrides,
  source = 'load-*',
): LoadSpec | undefined {
  const given = Object.entries(overrides).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0));
  if (given.length === 0) return base;
  const block: Record<string, unknown> = {};
  if (base) {
    if (base.model.kind === 'open') {
      block.rate = base.model.ratePerSecond;
      block['max-in-flight'] = base.model.maxInFlight;
    } else block.connections = base.model.connections;
    block.duration = base.durationMs;
    block.requests = base.requests;
    block.thresholds = base.thresholds.filter((t) => !t.implicit).map((t) => t.text);
    block['abort-on-fail'] = base.abortOnFail;
  }
  if (overrides.rate !== undefined) {
    delete block.connections;
    if (base?.model.kind !== 'open') delete block['max-in-flight'];
    block.rate = overrides.rate;
  }
  if (overrides.connections !== undefined) {
    delete block.rate;
    delete block['max-in-flight'];
    block.connections = overrides.connections;
  }
  if (overrides.duration !== undefined) block.duration = overrides.duration;
  if (overrides.maxInFlight !== undefined) block['max-in-flight'] = overrides.maxInFlight;
  if (overrides.path !== undefined) {
    delete block.requests;
    block.path = overrides.path;
  }
  if (overrides.thresholds && overrides.thresholds.length > 0) block.thresholds = overrides.thresholds;
  if (overrides.abortOnFail !== undefined) block['abort-on-fail'] = overrides.abortOnFail;
  if (block.requests === undefined && block.path === undefined) block.path = '/';
  // Specs already parsed are plain request objects; re-validate everything through one path.
  if (Array.isArray(block.requests)) {
    block.requests = (block.requests as LoadRequestSpec[]).map((r) => {
      const out: Record<string, unknown> = { method: r.method, headers: r.headers };
      if (r.path !== undefined) out.path = r.path;
      if (r.url !== undefined) out.url = r.url;
      if (r.body !== undefined) out.body = r.body;
      if (r.json !== undefined) out.json = r.json;
      if (r.status) out.expect = { status: [...r.status.codes, ...r.status.classes.map((c) => `${c}xx`)] };
      return out;
    });
  }
  const reader = new SpecReader(source, { value: block, lineOf: () => undefined });
  return reader.load(block, ['load']);
}

// Translates an Artillery scenario file into a load phase of the open-model engine: phases become
// the arrival schedule, scenarios become flows run by one virtual user per arrival, `ensure`
// becomes thresholds. Only a known subset is read; anything else is an error naming the file, the
// line and the key, because a construct silently dropped would make a different test pass.
import { InputError, parseDuration, redactUrlSecrets, scalarText } from '@adci/common';
import { parseStructured, type ParsedDocument } from '@adci/common/structured';
import { phaseArrivals } from './schedule.ts';
import { isValuePath } from './spec.ts';
import { parseThreshold, withImplicitErrorRate } from './thresholds.ts';
import type {
  ArrivalPhase,
  FlowData,
  FlowExpectation,
  FlowStep,
  LoadFlow,
  LoadRequestSpec,
  LoadSpec,
  StatusExpectation,
  Threshold,
} from './types.ts';

type Path = (string | number)[];

const TOP_KEYS = ['config', 'scenarios'];
const CONFIG_KEYS = ['target', 'phases', 'variables', 'payload', 'plugins', 'ensure'];
const PHASE_KEYS = ['name', 'duration', 'arrivalRate', 'rampTo', 'arrivalCount', 'pause'];
const PAYLOAD_KEYS = ['path', 'fields', 'order', 'skipHeader', 'delimiter'];
const PLUGINS = ['expect', 'ensure'];
/** ensure's legacy checks: `http.response_time.<key> < value` (strict), and `maxErrorRate` in percent. */
const ENSURE_LATENCY: Record<string, string> = { p95: 'p(95)', p99: 'p(99)', median: 'med', max: 'max', min: 'min' };
const ENSURE_KEYS = [...Object.keys(ENSURE_LATENCY), 'maxErrorRate'];
const SCENARIO_KEYS = ['name', 'weight', 'flow', 'engine'];
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const STEP_KEYS = [...METHODS, 'think'];
const REQUEST_KEYS = ['url', 'json', 'body', 'headers', 'capture', 'expect'];
const CAPTURE_KEYS = ['json', 'as'];
const EXPECT_KEYS = ['statusCode', 'contentType', 'hasProperty'];
/** Artillery's placeholders for the environment: `{{ $env.NAME }}` and `{{ $processEnvironment.NAME }}`. */
const ENV_PLACEHOLDER = /\{\{\s*\$(?:env|processEnvironment)\.([A-Za-z_]\w*)\s*\}\}/g;
const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;

export interface ArtilleryScenario {
  /** `config.target`, when the file gives one. */
  target?: string;
  load: LoadSpec;
}

export interface ArtilleryFiles {
  /** Reads a payload file named relative to the scenario file (the front end resolves it). */
  readPayload(path: string): string;
}

function formatPath(path: Path): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out || '(document)';
}

/** Most virtual users at once: enough for the peak rate over the flows' pauses plus 2.5 s, 100 to 10,000. */
function defaultMaxUsers(peakRate: number, thinkMs: number): number {
  return Math.min(10_000, Math.max(100, Math.ceil(peakRate * (thinkMs / 1000 + 2.5))));
}

class ScenarioReader {
  private readonly source: string;
  private readonly doc: ParsedDocument;
  /** Names a placeholder may use: variables and payload fields (captures are added per flow). */
  readonly known = new Set<string>();

  constructor(source: string, doc: ParsedDocument) {
    this.source = source;
    this.doc = doc;
  }

  fail(path: Path, message: string): never {
    let line: number | undefined;
    for (let i = path.length; i >= 0 && line === undefined; i--) line = this.doc.lineOf(path.slice(0, i));
    const where = line === undefined ? '' : `line ${line}: `;
    throw new InputError(this.source, redactUrlSecrets(`${where}${formatPath(path)}: ${message}`));
  }

  map(value: unknown, path: Path, allowed: readonly string[], what: string): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'must be a mapping');
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) {
        this.fail(
          [...path, key],
          `'${key}' is not supported in ${what} (adci runs: ${allowed.join(', ')}; see smoke-test's README, "Artillery scenarios")`,
        );
      }
    }
    return record;
  }

  list(value: unknown, path: Path): unknown[] {
    if (!Array.isArray(value) || value.length === 0) this.fail(path, 'must be a non-empty list');
    return value;
  }

  scalar(value: unknown, path: Path): string {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    return this.fail(path, 'must be a string or a number');
  }

  number(value: unknown, path: Path, min: number): number {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min) {
      this.fail(path, `'${scalarText(value)}' is not a number >= ${min}`);
    }
    return n;
  }

  /** Artillery's durations: a number of seconds, or a duration with its unit (30s, 5m, 500ms). */
  seconds(value: unknown, path: Path): number {
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value * 1000;
    if (typeof value === 'string') {
      const text = value.trim();
      if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
      const minutes = /^(\d+(?:\.\d+)?)\s*min$/.exec(text);
      if (minutes) return Number(minutes[1]) * 60_000;
      try {
        return parseDuration(text, formatPath(path));
      } catch {
        // Falls through to the message below.
      }
    }
    return this.fail(path, `'${scalarText(value)}' is not a duration (seconds, or e.g. 30s, 5m, 500ms)`);
  }

  /** Checks placeholders, and turns `{{ $env.NAME }}` into adci's `{{ env.NAME }}`. */
  text(value: unknown, path: Path, known: ReadonlySet<string>): string {
    const text = this.scalar(value, path).replace(ENV_PLACEHOLDER, '{{ env.$1 }}');
    for (const match of text.matchAll(PLACEHOLDER)) {
      const name = match[1] as string;
      if (name.startsWith('env.') && /^env\.[A-Za-z_]\w*$/.test(name)) continue;
      if (name.startsWith('$')) {
        this.fail(
          path,
          `'{{ ${name} }}' is not supported (adci fills variables, payload fields, captures and $env.NAME)`,
        );
      }
      if (!known.has(name)) {
        this.fail(path, `'{{ ${name} }}' names no variable, payload field or earlier capture of this flow`);
      }
    }
    return text;
  }

  deep(value: unknown, path: Path, known: ReadonlySet<string>): unknown {
    if (typeof value === 'string') return this.text(value, path, known);
    if (Array.isArray(value)) return value.map((v, i) => this.deep(v, [...path, i], known));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.deep(v, [...path, k], known)]));
    }
    return value;
  }

  phase(value: unknown, path: Path): ArrivalPhase {
    const record = this.map(value, path, PHASE_KEYS, 'a phase');
    const name = record.name === undefined ? undefined : this.scalar(record.name, [...path, 'name']);
    const named = (phase: ArrivalPhase): ArrivalPhase => (name === undefined ? phase : { name, ...phase });
    if (record.pause !== undefined) {
      const other = Object.keys(record).find((k) => k !== 'pause' && k !== 'name');
      if (other) this.fail([...path, other], "a 'pause' phase takes only a name");
      return named({ durationMs: this.seconds(record.pause, [...path, 'pause']), fromRate: 0, toRate: 0 });
    }
    if (record.duration === undefined) this.fail(path, "needs a 'duration' (or is a 'pause')");
    const durationMs = this.seconds(record.duration, [...path, 'duration']);
    if (durationMs <= 0) this.fail([...path, 'duration'], 'must be longer than 0');
    if (record.arrivalCount !== undefined) {
      for (const key of ['arrivalRate', 'rampTo']) {
        if (record[key] !== undefined) this.fail([...path, key], `give 'arrivalCount' or '${key}', not both`);
      }
      const count = this.number(record.arrivalCount, [...path, 'arrivalCount'], 0);
      if (!Number.isInteger(count)) this.fail([...path, 'arrivalCount'], 'must be a whole number');
      const rate = count / (durationMs / 1000);
      return named({ durationMs, fromRate: rate, toRate: rate });
    }
    if (record.arrivalRate === undefined) this.fail(path, "needs 'arrivalRate' or 'arrivalCount'");
    const fromRate = this.number(record.arrivalRate, [...path, 'arrivalRate'], 0);
    const toRate = record.rampTo === undefined ? fromRate : this.number(record.rampTo, [...path, 'rampTo'], 0);
    return named({ durationMs, fromRate, toRate });
  }

  variables(value: unknown, path: Path): Record<string, string[]> {
    const record = this.map(value, path, Object.keys(value ?? {}), 'variables');
    const out: Record<string, string[]> = {};
    for (const [name, v] of Object.entries(record)) {
      const at = [...path, name];
      if (!/^[A-Za-z_][\w-]*$/.test(name) || name === 'env') this.fail(at, `'${name}' is not a usable variable name`);
      out[name] = Array.isArray(v)
        ? this.list(v, at).map((item, i) => this.scalar(item, [...at, i]))
        : [this.scalar(v, at)];
      this.known.add(name);
    }
    return out;
  }

  payload(value: unknown, path: Path, files: ArtilleryFiles): Pick<FlowData, 'rows' | 'order'> {
    const items = Array.isArray(value) ? value : [value];
    if (items.length !== 1) this.fail(path, 'adci reads one payload file (give a single mapping)');
    const at = Array.isArray(value) ? [...path, 0] : path;
    const record = this.map(items[0], at, PAYLOAD_KEYS, 'a payload');
    if (record.path === undefined) this.fail(at, "needs a 'path' (a CSV file beside the scenario)");
    const file = this.scalar(record.path, [...at, 'path']);
    const fields = this.list(record.fields, [...at, 'fields']).map((f, i) => this.scalar(f, [...at, 'fields', i]));
    const order = record.order === undefined ? 'random' : this.scalar(record.order, [...at, 'order']);
    if (order !== 'random' && order !== 'sequence') this.fail([...at, 'order'], `'${order}' is not random or sequence`);
    const skipHeader =
      record.skipHeader === undefined ? false : record.skipHeader === true || record.skipHeader === 'true';
    const delimiter = record.delimiter === undefined ? ',' : this.scalar(record.delimiter, [...at, 'delimiter']);
    if (delimiter.length !== 1) this.fail([...at, 'delimiter'], 'must be one character');
    let text: string;
    try {
      text = files.readPayload(file);
    } catch (error) {
      return this.fail(
        [...at, 'path'],
        `cannot read '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    const rows = (skipHeader ? lines.slice(1) : lines).map((line) => {
      const cells = parseCsvLine(line, delimiter);
      return Object.fromEntries(fields.map((f, i) => [f, cells[i] ?? '']));
    });
    if (rows.length === 0) this.fail([...at, 'path'], `'${file}' has no rows`);
    for (const f of fields) this.known.add(f);
    return { rows, order };
  }

  plugins(value: unknown, path: Path): void {
    const record = this.map(value, path, PLUGINS, 'config.plugins');
    for (const [name, options] of Object.entries(record)) {
      if (options === null || options === undefined) continue;
      const keys = Object.keys(this.map(options, [...path, name], [], `the ${name} plugin's options`));
      if (keys.length > 0) this.fail([...path, name, keys[0] as string], 'plugin options are not supported');
    }
  }

  ensure(value: unknown, path: Path): Threshold[] {
    const record = this.map(value, path, ENSURE_KEYS, 'config.ensure');
    return Object.entries(record).map(([key, v]) => {
      const at = [...path, key];
      const n = this.number(v, at, 0);
      // Artillery's legacy checks are `http.response_time.p95 < value` (ms) and, for maxErrorRate,
      // the share of virtual users that failed, in percent, `<=`; adci judges requests (README).
      const text = key === 'maxErrorRate' ? `error_rate<=${n / 100}` : `${ENSURE_LATENCY[key] as string}<${n}ms`;
      return parseThreshold(text, `${this.source} ${formatPath(at)}`);
    });
  }

  status(value: unknown, path: Path): StatusExpectation {
    const items = Array.isArray(value) ? value : [value];
    const codes = items.map((item, i) => {
      const at = Array.isArray(value) ? [...path, i] : path;
      const n = this.number(item, at, 100);
      if (!Number.isInteger(n) || n > 599) this.fail(at, `'${scalarText(item)}' is not a status code`);
      return n;
    });
    if (codes.length === 0) this.fail(path, 'must list at least one status code');
    return { codes, classes: [], text: codes.join(' or ') };
  }

  request(method: string, value: unknown, path: Path, known: Set<string>): FlowStep {
    const record = this.map(value, path, REQUEST_KEYS, `a ${method} request`);
    if (record.url === undefined) this.fail(path, "needs a 'url'");
    const url = this.text(record.url, [...path, 'url'], known);
    const request: LoadRequestSpec = { method: method.toUpperCase(), headers: {} };
    if (/^https?:\/\//.test(url) || url.startsWith('{{')) request.url = url;
    else if (url.startsWith('/')) request.path = url;
    else this.fail([...path, 'url'], `'${url}' must start with '/' (joined to the target) or be an http(s) URL`);
    if (record.headers !== undefined) {
      const headers = this.map(record.headers, [...path, 'headers'], Object.keys(record.headers ?? {}), 'headers');
      for (const [name, v] of Object.entries(headers))
        request.headers[name] = this.text(v, [...path, 'headers', name], known);
    }
    if (record.json !== undefined && record.body !== undefined)
      this.fail([...path, 'body'], "give 'json' or 'body', not both");
    if (record.json !== undefined) request.json = this.deep(record.json, [...path, 'json'], known);
    if (record.body !== undefined) request.body = this.text(record.body, [...path, 'body'], known);
    const expect: FlowExpectation = { hasProperty: [] };
    if (record.expect !== undefined) {
      const items = Array.isArray(record.expect) ? record.expect : [record.expect];
      items.forEach((item, i) => {
        const at = Array.isArray(record.expect) ? [...path, 'expect', i] : [...path, 'expect'];
        const e = this.map(item, at, EXPECT_KEYS, 'expect (artillery-plugin-expect)');
        if (e.statusCode !== undefined) request.status = this.status(e.statusCode, [...at, 'statusCode']);
        if (e.contentType !== undefined) expect.contentType = this.scalar(e.contentType, [...at, 'contentType']);
        if (e.hasProperty !== undefined) expect.hasProperty.push(this.scalar(e.hasProperty, [...at, 'hasProperty']));
      });
    }
    const capture: Record<string, string> = {};
    if (record.capture !== undefined) {
      const items = Array.isArray(record.capture) ? record.capture : [record.capture];
      items.forEach((item, i) => {
        const at = Array.isArray(record.capture) ? [...path, 'capture', i] : [...path, 'capture'];
        const c = this.map(item, at, CAPTURE_KEYS, 'a capture (adci captures by JSONPath)');
        if (c.json === undefined) this.fail(at, "needs 'json' (a JSONPath such as $.id)");
        if (c.as === undefined) this.fail(at, "needs 'as' (the variable's name)");
        const jsonPath = this.scalar(c.json, [...at, 'json']);
        if (!jsonPath.startsWith('$') || !isValuePath(jsonPath))
          this.fail([...at, 'json'], `'${jsonPath}' is not a JSONPath ($.id)`);
        const name = this.scalar(c.as, [...at, 'as']);
        if (!/^[A-Za-z_][\w-]*$/.test(name) || name === 'env')
          this.fail([...at, 'as'], `'${name}' is not a usable variable name`);
        capture[name] = jsonPath;
      });
    }
    // Captured names are known to the steps after this one.
    for (const name of Object.keys(capture)) known.add(name);
    return { kind: 'request', request, capture, expect };
  }

  flow(value: unknown, path: Path): FlowStep[] {
    const known = new Set(this.known);
    return this.list(value, path).map((item, i) => {
      const at = [...path, i];
      const record = this.map(item, at, STEP_KEYS, 'a flow step');
      const keys = Object.keys(record);
      if (keys.length !== 1)
        this.fail(at, `a step is one of ${STEP_KEYS.join(', ')} (found ${keys.join(', ') || 'nothing'})`);
      const key = keys[0] as string;
      if (key === 'think') return { kind: 'think', ms: this.seconds(record.think, [...at, 'think']) };
      return this.request(key, record[key], [...at, key], known);
    });
  }

  scenario(value: unknown, path: Path, index: number): LoadFlow {
    const record = this.map(value, path, SCENARIO_KEYS, 'a scenario');
    if (record.engine !== undefined && record.engine !== 'http') {
      this.fail(
        [...path, 'engine'],
        `engine '${scalarText(record.engine)}' is not supported (adci runs http scenarios)`,
      );
    }
    const name = record.name === undefined ? `scenario ${index + 1}` : this.scalar(record.name, [...path, 'name']);
    const weight = record.weight === undefined ? 1 : this.number(record.weight, [...path, 'weight'], 1);
    if (!Number.isInteger(weight)) this.fail([...path, 'weight'], 'must be a whole number');
    if (record.flow === undefined) this.fail(path, "needs a 'flow'");
    const steps = this.flow(record.flow, [...path, 'flow']);
    if (!steps.some((s) => s.kind === 'request')) this.fail([...path, 'flow'], 'sends no request');
    return { name, weight, steps };
  }
}

/** Splits one CSV line: fields may be quoted ("a, b"), with "" for a quote inside. */
export function parseCsvLine(line: string, delimiter = ','): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === delimiter) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

/**
 * Reads an Artillery scenario file into a load phase. `source` names the file in errors (e.g.
 * `artillery tests/performance/bidding-load-test.yml`).
 */
export function parseArtilleryScenario(text: string, source: string, files: ArtilleryFiles): ArtilleryScenario {
  const doc = parseStructured(text, source);
  const reader = new ScenarioReader(source, doc);
  const root = reader.map(doc.value ?? {}, [], TOP_KEYS, 'a scenario file');
  if (root.config === undefined) reader.fail([], "needs 'config' (with 'phases')");
  const config = reader.map(root.config, ['config'], CONFIG_KEYS, 'config');
  let target: string | undefined;
  if (config.target !== undefined) {
    target = reader.scalar(config.target, ['config', 'target']);
    if (!/^https?:\/\/[^/]/.test(target)) reader.fail(['config', 'target'], `'${target}' is not an http(s) URL`);
  }
  if (config.phases === undefined) reader.fail(['config'], "needs 'phases'");
  const phases = reader
    .list(config.phases, ['config', 'phases'])
    .map((p, i) => reader.phase(p, ['config', 'phases', i]));
  const data: FlowData = { variables: {}, rows: [], order: 'random' };
  if (config.payload !== undefined) Object.assign(data, reader.payload(config.payload, ['config', 'payload'], files));
  if (config.variables !== undefined) data.variables = reader.variables(config.variables, ['config', 'variables']);
  if (config.plugins !== undefined) reader.plugins(config.plugins, ['config', 'plugins']);
  const thresholds = config.ensure === undefined ? [] : reader.ensure(config.ensure, ['config', 'ensure']);
  if (root.scenarios === undefined) reader.fail([], "needs 'scenarios'");
  const flows = reader.list(root.scenarios, ['scenarios']).map((s, i) => reader.scenario(s, ['scenarios', i], i));
  const usesExpect = flows.some((f) =>
    f.steps.some(
      (s) => s.kind === 'request' && (s.request.status || s.expect.contentType || s.expect.hasProperty.length),
    ),
  );
  if (usesExpect && (config.plugins as Record<string, unknown> | undefined)?.expect === undefined) {
    // Artillery ignores `expect` unless the plugin is enabled; running them anyway would judge
    // a different test than the team's Artillery run does.
    reader.fail(
      ['config'],
      "the scenarios use 'expect' but config.plugins.expect is not enabled (add 'plugins: { expect: {} }')",
    );
  }

  const durationMs = phases.reduce((sum, p) => sum + p.durationMs, 0);
  const planned = phases.reduce((sum, p) => sum + phaseArrivals(p), 0);
  if (planned === 0) reader.fail(['config', 'phases'], 'schedule no arrival');
  const peak = Math.max(...phases.map((p) => Math.max(p.fromRate, p.toRate)));
  const thinkMs = Math.max(...flows.map((f) => f.steps.reduce((sum, s) => sum + (s.kind === 'think' ? s.ms : 0), 0)));
  const load: LoadSpec = {
    model: { kind: 'open', ratePerSecond: planned / (durationMs / 1000), maxInFlight: defaultMaxUsers(peak, thinkMs) },
    durationMs,
    requests: [],
    phases,
    flows,
    thresholds: withImplicitErrorRate(thresholds),
    abortOnFail: false,
  };
  if (Object.keys(data.variables).length > 0 || data.rows.length > 0) load.data = data;
  return target === undefined ? { load } : { target, load };
}

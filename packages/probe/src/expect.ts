// Judges one response against a check's expectations, and reads captured values from it.
// Each failure says what was expected and what came back, so a red check explains itself.
import { isDeepStrictEqual } from 'node:util';
import type { JSONPath } from 'jsonpath-plus';
import { formatBytes, formatDuration, scalarText } from '@adci/common';
import type { HttpResponse } from './http.ts';
import type { AssertionFailure, Expectation, StatusExpectation, ValueMatcher } from './types.ts';

const SHOWN = 120;

export function statusMatches(status: number, expected: StatusExpectation): boolean {
  return expected.codes.includes(status) || expected.classes.includes(Math.floor(status / 100));
}

/** A JSON Pointer (RFC 6901) lookup; `found` is false when a step is missing. */
export function readPointer(document: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: document };
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key) && Number(key) < node.length) node = node[Number(key)];
    else if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, key)) {
      node = (node as Record<string, unknown>)[key];
    } else return { found: false };
  }
  return { found: true, value: node };
}

let jsonPath: typeof JSONPath | undefined;

/**
 * Loads the JSONPath library if any of `paths` is a JSONPath (`$...`): checks and flows call it
 * before they judge or capture (JSON Pointers and runs without JSON assertions never load it).
 */
export async function prepareJsonPath(paths: Iterable<string>): Promise<void> {
  for (const path of paths) {
    if (path.startsWith('$')) {
      jsonPath ??= (await import('jsonpath-plus')).JSONPath;
      return;
    }
  }
}

/** Reads a JSONPath (`$.a`) or JSON Pointer (`/a`); a JSONPath with several matches gives the list. */
export function readValue(document: unknown, path: string): { found: boolean; value?: unknown } {
  if (!path.startsWith('$')) return readPointer(document, path);
  if (!jsonPath) throw new Error(`JSONPath ${path} read before prepareJsonPath() loaded the library`);
  const matches = jsonPath({ path, json: document as object, wrap: true, eval: 'safe' }) as unknown[];
  if (matches.length === 0) return { found: false };
  return { found: true, value: matches.length === 1 ? matches[0] : matches };
}

export function show(value: unknown): string {
  const text = value === undefined ? '(missing)' : JSON.stringify(value);
  return text.length > SHOWN ? `${text.slice(0, SHOWN)}…` : text;
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function describe(matcher: ValueMatcher): string {
  switch (matcher.kind) {
    case 'equals':
      return show(matcher.value);
    case 'regex':
      return `to match ${String(matcher.regex)}`;
    case 'type':
      return `a value of type ${matcher.type}`;
    case 'exists':
      return matcher.exists ? 'present' : 'absent';
  }
}

function matches(matcher: ValueMatcher, found: boolean, value: unknown): boolean {
  switch (matcher.kind) {
    case 'exists':
      return found === matcher.exists;
    case 'equals':
      return found && isDeepStrictEqual(value, matcher.value);
    case 'regex': {
      if (!found) return false;
      matcher.regex.lastIndex = 0;
      return matcher.regex.test(typeof value === 'string' ? value : JSON.stringify(value));
    }
    case 'type':
      if (!found) return false;
      if (matcher.type === 'integer') return Number.isInteger(value);
      return jsonTypeOf(value) === matcher.type;
  }
}

/** How judging treats the body: the setting that raises its cap, named in a truncation's message. */
export interface JudgeOptions {
  /** e.g. `max-body` (action input) or `--max-body` (CLI flag); unset where there is no such setting. */
  maxBodySetting?: string;
}

/** Why a truncated body cannot be judged: `body truncated at 4 MiB; raise \`max-body\``. */
export function truncation(response: HttpResponse, options: JudgeOptions = {}): string {
  const at = response.truncatedAt === undefined ? '' : ` at ${formatBytes(response.truncatedAt)}`;
  return `body truncated${at}${options.maxBodySetting ? `; raise \`${options.maxBodySetting}\`` : ''}`;
}

/** Parses a body as JSON, or explains why it could not be. */
export function parseJsonBody(
  response: HttpResponse,
  options: JudgeOptions = {},
): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (response.truncated) return { ok: false, reason: truncation(response, options) };
  try {
    return { ok: true, value: JSON.parse(response.body) as unknown };
  } catch {
    const type = response.headers['content-type'] ?? 'no content-type';
    return { ok: false, reason: `body is not JSON (${type})` };
  }
}

export function judge(
  response: HttpResponse,
  expect: Expectation,
  defaultStatus: StatusExpectation,
  options: JudgeOptions = {},
): AssertionFailure[] {
  const failures: AssertionFailure[] = [];
  const status = expect.status ?? defaultStatus;
  if (!statusMatches(response.status, status)) {
    failures.push({ assertion: 'status', expected: status.text, actual: String(response.status) });
  }
  for (const { name, matcher } of expect.headers) {
    const value = response.headers[name];
    const ok = matcher.kind === 'equals' ? value === matcher.value : matches(matcher, value !== undefined, value);
    if (!ok) {
      failures.push({ assertion: `header ${name}`, expected: describe(matcher), actual: show(value) });
    }
  }
  for (const needle of expect.bodyContains) {
    if (!response.body.includes(needle)) {
      // Not in the part read is not "not found": the rest was never looked at.
      const actual = response.truncated ? `${truncation(response, options)} (not in the part read)` : 'not found';
      failures.push({ assertion: 'body-contains', expected: `body to contain ${show(needle)}`, actual });
    }
  }
  if (expect.json.length > 0) {
    const parsed = parseJsonBody(response, options);
    for (const { path, matcher } of expect.json) {
      if (!parsed.ok) {
        failures.push({ assertion: `json ${path}`, expected: describe(matcher), actual: parsed.reason });
        continue;
      }
      const { found, value } = readValue(parsed.value, path);
      if (!matches(matcher, found, value)) {
        const actual = found
          ? matcher.kind === 'type'
            ? `${show(value)} (${jsonTypeOf(value)})`
            : show(value)
          : '(missing)';
        failures.push({ assertion: `json ${path}`, expected: describe(matcher), actual });
      }
    }
  }
  if (expect.maxLatencyMs !== undefined && response.latencyMs > expect.maxLatencyMs) {
    failures.push({
      assertion: 'max-latency',
      expected: `<= ${formatDuration(expect.maxLatencyMs)}`,
      actual: formatDuration(response.latencyMs),
    });
  }
  return failures;
}

/** Reads capture sources (JSONPath, JSON Pointer, header:Name) from a response. */
export function capture(
  response: HttpResponse,
  sources: Record<string, string>,
  options: JudgeOptions = {},
): { values: Record<string, string>; failures: AssertionFailure[] } {
  const values: Record<string, string> = {};
  const failures: AssertionFailure[] = [];
  let parsed: ReturnType<typeof parseJsonBody> | undefined;
  for (const [variable, source] of Object.entries(sources)) {
    const header = /^header:\s*(\S+)$/i.exec(source);
    let found = false;
    let value: unknown;
    let reason = '(missing)';
    if (header) {
      value = response.headers[(header[1] as string).toLowerCase()];
      found = value !== undefined;
    } else {
      parsed ??= parseJsonBody(response, options);
      if (parsed.ok) ({ found, value } = readValue(parsed.value, source));
      else reason = parsed.reason;
    }
    if (!found || value === null || typeof value === 'object') {
      failures.push({
        assertion: `capture ${variable}`,
        expected: `a value at ${source}`,
        actual: found ? show(value) : reason,
      });
    } else values[variable] = scalarText(value);
  }
  return { values, failures };
}

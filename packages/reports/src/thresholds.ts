// The threshold language: a YAML/JSON mapping of metric keys to conditions, in the spirit of k6
// (`coverage.line: ">= 80"`, `tests.failed: 0`). A bare number means "at most" for counts and
// "at least" for coverage. Any unknown key or malformed condition is an input error, so a typo
// can never turn into a gate that silently passes.
import { InputError } from '@adci/common';
import { readYaml } from '@adci/common/flat-yaml';
import { SECURITY_SEVERITIES, SEVERITIES } from './model.ts';
import { LOAD_MINIMUM_KEYS, LOAD_THRESHOLD_KEYS } from './parsers/artillery.ts';

export type Operator = '<=' | '<' | '>=' | '>' | '==';

export interface Threshold {
  /** The key as written, e.g. "coverage.line" or "bandit.high". */
  key: string;
  operator: Operator;
  value: number;
  /** The condition as written, for messages. */
  text: string;
  /** Line in the thresholds input, when known. */
  line?: number;
}

const COUNT_LEVELS = [...SEVERITIES, ...SECURITY_SEVERITIES, 'total'] as const;

/** Keys with a fixed meaning; `<tool>.<level>` keys are checked by shape. */
export const THRESHOLD_KEYS: Record<string, { unit: 'count' | 'percent' | 'ms' | 'rate'; help: string }> = {
  'tests.failed': { unit: 'count', help: 'failed and errored tests' },
  'tests.errored': { unit: 'count', help: 'errored tests' },
  'tests.skipped': { unit: 'count', help: 'skipped tests' },
  'tests.flaky': { unit: 'count', help: 'tests that failed, then passed on a rerun' },
  'tests.min': { unit: 'count', help: 'tests found (at least; default 1)' },
  'tests.pass-rate': { unit: 'percent', help: 'passed / (tests - skipped)' },
  'coverage.line': { unit: 'percent', help: 'line coverage of all files' },
  'coverage.branch': { unit: 'percent', help: 'branch coverage of all files' },
  'coverage.diff': { unit: 'percent', help: 'coverage of the changed coverable lines' },
  'coverage.file': { unit: 'percent', help: 'line coverage of the worst file' },
  'findings.error': { unit: 'count', help: 'findings of severity error' },
  'findings.warning': { unit: 'count', help: 'findings of severity warning' },
  'findings.note': { unit: 'count', help: 'findings of severity note' },
  'findings.total': { unit: 'count', help: 'all findings' },
  'findings.new': { unit: 'count', help: 'findings on changed lines' },
  'findings.scan-errors': {
    unit: 'count',
    help: "parts a tool could not scan (bandit's errors, pip-audit's skipped dependencies); 0 is implied when findings are gated",
  },
  'security.critical': { unit: 'count', help: 'critical security findings' },
  'security.high': { unit: 'count', help: 'high security findings' },
  'security.medium': { unit: 'count', help: 'medium security findings' },
  'security.low': { unit: 'count', help: 'low security findings' },
  ...LOAD_THRESHOLD_KEYS,
};

const TOOL_KEY = /^([a-z0-9][a-z0-9._-]*)\.(error|warning|note|critical|high|medium|low|total)$/;
const CONDITION = /^(<=|>=|==|=|<|>)?\s*(-?\d+(?:\.\d+)?)\s*(%?)$/;

export function unitOf(key: string): 'count' | 'percent' | 'ms' | 'rate' {
  return THRESHOLD_KEYS[key]?.unit ?? 'count';
}

/** Parses one condition for `key`; `source` names the input in errors. */
export function parseCondition(key: string, raw: unknown, source: string, line?: number): Threshold {
  const where = line ? ` (line ${line})` : '';
  const isNumber = typeof raw === 'number' && Number.isFinite(raw);
  if (!isNumber && typeof raw !== 'string') {
    throw new InputError(source, `'${key}'${where}: condition must be a number or a string like ">= 80"`);
  }
  const text = String(raw).trim();
  const m = CONDITION.exec(text);
  if (!m) {
    throw new InputError(source, `'${key}'${where}: malformed condition '${text}' (use e.g. 0, "<= 20", ">= 80")`);
  }
  const unit = unitOf(key);
  if (m[3] === '%' && unit !== 'percent') throw new InputError(source, `'${key}'${where}: a count takes no '%'`);
  const value = Number(m[2]);
  if (value < 0) throw new InputError(source, `'${key}'${where}: negative threshold ${value}`);
  if (unit === 'percent' && value > 100) throw new InputError(source, `'${key}'${where}: ${value} is over 100%`);
  if (unit === 'count' && !Number.isInteger(value))
    throw new InputError(source, `'${key}'${where}: a count must be a whole number`);
  let operator = (m[1] === '=' ? '==' : m[1]) as Operator | undefined;
  // A bare number: counts, times and the error rate are maxima; coverage, tests.min, load.requests and load.rps minima.
  const minimum =
    (unit === 'percent' && key !== 'load.error-rate') || key === 'tests.min' || LOAD_MINIMUM_KEYS.includes(key);
  operator ??= minimum ? '>=' : '<=';
  return { key, operator, value, text: `${operator} ${value}${unit === 'percent' ? '%' : ''}`, line };
}

/** The documented default of the thresholds input (action.yml and `adci gate`). */
export const DEFAULT_THRESHOLDS = 'tests.failed: 0';

/**
 * Parses the thresholds input. Adds `tests.min: 1` when tests are gated and no minimum is given.
 * An empty input (an unset `${{ vars.X }}` is '', and the runner then skips the action.yml default)
 * gets the documented defaults, marked as such; a mapping with no checks is an input error.
 * Asynchronous because the YAML parser is loaded only for text the flat reader leaves to it.
 */
export async function parseThresholds(text: string, source = 'thresholds'): Promise<Threshold[]> {
  if (text.trim() === '') {
    return (await parseThresholds(DEFAULT_THRESHOLDS, source)).map((t) => ({
      ...t,
      text: `${t.text.replace(/ \(default\)$/, '')} (default: ${source} was empty)`,
    }));
  }
  const doc = await readYaml(text, source);
  const value = doc.value;
  if (value === null || value === undefined || (typeof value === 'object' && Object.keys(value).length === 0)) {
    throw new InputError(
      source,
      'holds no checks: a gate with nothing to check would always pass (e.g. "tests.failed: 0")',
    );
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(source, 'must be a YAML mapping of keys to conditions, e.g. "coverage.line: >= 80"');
  }
  const thresholds: Threshold[] = [];
  const flat = flatten(value as Record<string, unknown>, source);
  for (const [key, raw, path] of flat) {
    const line = doc.lineOf(path);
    if (!(key in THRESHOLD_KEYS)) {
      const m = TOOL_KEY.exec(key);
      const group = key.split('.')[0] ?? '';
      if (!m || ['tests', 'coverage', 'findings', 'security', 'load'].includes(group)) {
        throw new InputError(
          source,
          `unknown key '${key}'${line ? ` (line ${line})` : ''}; known keys: ${Object.keys(THRESHOLD_KEYS).join(', ')}, ` +
            `and <tool>.<${COUNT_LEVELS.join('|')}> such as bandit.high`,
        );
      }
    }
    thresholds.push(parseCondition(key, raw, source, line));
  }
  if (thresholds.some((t) => t.key.startsWith('tests.')) && !thresholds.some((t) => t.key === 'tests.min')) {
    thresholds.push({ key: 'tests.min', operator: '>=', value: 1, text: '>= 1 (default)' });
  }
  return thresholds;
}

/** Accepts both "coverage.line: 80" and nested "coverage: { line: 80 }". */
function flatten(map: Record<string, unknown>, source: string): [string, unknown, string[]][] {
  const out: [string, unknown, string[]][] = [];
  for (const [key, value] of Object.entries(map)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, v] of Object.entries(value as Record<string, unknown>)) {
        if (v !== null && typeof v === 'object') throw new InputError(source, `'${key}.${inner}' nests too deep`);
        out.push([`${key}.${inner}`, v, [key, inner]]);
      }
    } else {
      out.push([key, value, [key]]);
    }
  }
  return out;
}

export function compare(actual: number, threshold: Threshold): boolean {
  const { operator, value } = threshold;
  // Percentages are compared at the precision they are shown, so 79.996% never "passes" as 80.00%.
  const a = unitOf(threshold.key) === 'percent' ? Math.floor(actual * 100 + 1e-9) / 100 : actual;
  switch (operator) {
    case '<=':
      return a <= value;
    case '<':
      return a < value;
    case '>=':
      return a >= value;
    case '>':
      return a > value;
    case '==':
      return a === value;
  }
}

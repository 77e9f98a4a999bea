// The YAML most inputs are, read without loading the YAML parser: a mapping of `key: value` lines
// at the margin (the gate's `tests.failed: 0`) or a list of such mappings (smoke-test's
// `- path: /healthz`), each value a whole number, a decimal, a quoted string without escapes or a
// plain string that YAML's core schema reads as a string. Anything else (nesting, flow collections,
// anchors, tags, escapes, comments after a value, repeated keys, empty values, tabs, CR, document
// markers, true/false/null, other number forms) returns undefined and goes to the YAML parser
// (`@adci/common/structured`), so the result is always what YAML reads: the test beside this file
// compares both on generated documents, values and the lines of every path.
import type { ParsedDocument } from './structured.ts';

const KEY = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)*$/;
const NUMBER = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;
const PLAIN = /^[A-Za-z/<=][A-Za-z0-9/._~%+=&?,;@!$()*<> -]*$/;
const RESERVED = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;
const QUOTED = /^(?:"([^"\\]*)"|'([^']*)')$/;
const CONTROL = /\p{Cc}/u;
const BLANK_OR_COMMENT = /^ *(?:#.*)?$/;
const ENTRY = /^(- | {2}|)([^ :#][^:#]*?): +(.*?) *$/;

function scalar(raw: string): string | number | undefined {
  if (NUMBER.test(raw)) return Number(raw);
  if (PLAIN.test(raw) && !RESERVED.test(raw)) return raw;
  const quoted = CONTROL.test(raw) ? null : QUOTED.exec(raw);
  if (quoted) return quoted[1] ?? quoted[2];
  return undefined;
}

/** `text` read as YAML when it is of the flat forms above; undefined when the YAML parser must read it. */
export function readFlatYaml(text: string): ParsedDocument | undefined {
  if (text.includes('\r') || text.includes('\t')) return undefined;
  type Entries = { value: Record<string, unknown>; lines: Map<string, number>; line: number };
  const items: Entries[] = [];
  let list: boolean | undefined;
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    const line = all[i] as string;
    if (BLANK_OR_COMMENT.test(line)) continue;
    const m = ENTRY.exec(line);
    if (!m) return undefined;
    const [, indent, key, raw] = m as unknown as [string, string, string, string];
    if (!KEY.test(key)) return undefined;
    const value = scalar(raw);
    if (value === undefined) return undefined;
    if (list === undefined) list = indent === '- ';
    let current: Entries | undefined;
    if (indent === '- ' && list) {
      current = { value: {}, lines: new Map(), line: i + 1 };
      items.push(current);
    } else if (indent === '  ' && list) {
      current = items.at(-1);
    } else if (indent === '' && !list) {
      current = items[0] ?? (items[0] = { value: {}, lines: new Map(), line: i + 1 });
    }
    if (!current || current.lines.has(key)) return undefined;
    current.value[key] = value;
    current.lines.set(key, i + 1);
  }
  if (items.length === 0) return undefined;
  if (!list) {
    const [map] = items as [Entries];
    return {
      value: map.value,
      lineOf: (path) => (path.length === 0 ? map.line : path.length === 1 ? map.lines.get(String(path[0])) : undefined),
    };
  }
  return {
    value: items.map((item) => item.value),
    lineOf(path) {
      if (path.length === 0) return items[0]?.line;
      const [first, key, ...rest] = path;
      // As the YAML library reads an index: a number, or a string that is one ('1', '1e0').
      const index = typeof first === 'string' && first !== '' ? Number(first) : first;
      const item = typeof index === 'number' && Number.isInteger(index) && index >= 0 ? items[index] : undefined;
      if (!item || rest.length > 0) return undefined;
      return key === undefined ? item.line : item.lines.get(String(key));
    },
  };
}

/** YAML or JSON text: the flat reader, else the YAML parser, loaded only then. `source` names the input in errors. */
export async function readYaml(text: string, source: string): Promise<ParsedDocument> {
  return readFlatYaml(text) ?? (await import('./structured.ts')).parseStructured(text, source);
}

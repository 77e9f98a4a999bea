// The one YAML/JSON reader: YAML 1.2 is a superset of JSON, so one parser reads both, and its
// errors carry line and column so a bad file can be pointed at.
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import { InputError } from './errors.ts';

export interface ParsedDocument {
  value: unknown;
  /** 1-based line of the key (or sequence item) a path of keys/indexes ends at, when known. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

/** Parses YAML or JSON text. `source` names the input or file in errors. */
export function parseStructured(text: string, source: string): ParsedDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    throw new InputError(source, `line ${pos.line}, column ${pos.col}: ${first.message.split('\n')[0]}`);
  }
  return {
    value: doc.toJS({ maxAliasCount: 100 }) as unknown,
    lineOf(path) {
      // The line of the last key (a map entry's key, not its value, which may sit on a later
      // line) or of the sequence item the path ends at.
      let node: unknown = doc.contents;
      let line: number | undefined;
      for (const key of path) {
        if (isMap(node)) {
          const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === key);
          if (!pair) return undefined;
          const keyRange = (pair.key as YamlNode | undefined)?.range;
          line = keyRange ? lineCounter.linePos(keyRange[0]).line : undefined;
          node = pair.value;
        } else if (isSeq(node)) {
          node = node.get(key, true);
          const range = (node as YamlNode | undefined)?.range;
          line = range ? lineCounter.linePos(range[0]).line : undefined;
        } else {
          return undefined;
        }
      }
      if (path.length === 0) {
        const range = (node as YamlNode | undefined)?.range;
        return range ? lineCounter.linePos(range[0]).line : undefined;
      }
      return line;
    },
  };
}

/** Parses a YAML/JSON mapping of strings (e.g. headers or fields inputs). */
export function parseStringMap(text: string, source: string): Record<string, string> {
  if (text.trim() === '') return {};
  const { value } = parseStructured(text, source);
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(source, 'must be a YAML or JSON mapping of names to values');
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object') throw new InputError(source, `value of '${key}' must be a scalar`);
    out[key] = v === null || v === undefined ? '' : String(v);
  }
  return out;
}

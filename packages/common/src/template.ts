// The one placeholder syntax, `{{ name }}` and `{{ env.NAME }}`, shared by notify payloads and
// smoke-test checks. Only lookups, never expressions: templates come from repository files.

export type TemplateLookup = (name: string) => string | undefined;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;

/** Names used by a template, in order of first appearance. */
export function templateNames(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/**
 * Fills placeholders. An unknown name throws unless `onMissing` returns a replacement,
 * because a silently empty value (a campaign id, a URL) makes a misleading result.
 */
export function fillTemplate(
  template: string,
  lookup: TemplateLookup,
  onMissing: (name: string) => string = (name) => {
    throw new Error(`unknown placeholder {{ ${name} }}`);
  },
): string {
  return template.replace(PLACEHOLDER, (_, name: string) => lookup(name) ?? onMissing(name));
}

/** Fills placeholders in every string of a JSON-like value. */
export function fillTemplateDeep(
  value: unknown,
  lookup: TemplateLookup,
  onMissing?: (name: string) => string,
): unknown {
  if (typeof value === 'string') return fillTemplate(value, lookup, onMissing);
  if (Array.isArray(value)) return value.map((v) => fillTemplateDeep(v, lookup, onMissing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillTemplateDeep(v, lookup, onMissing)]));
  }
  return value;
}

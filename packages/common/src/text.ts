// Text of a value read from outside (a report's JSON, a YAML file, a tool's output) for messages
// and identifiers: what String() gives for scalars, JSON for anything else, never "[object Object]".

/** `fallback` for undefined and null; a string as it is; a number, boolean or bigint as String() writes it; anything else as JSON. */
export function scalarText(value: unknown, fallback = ''): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value) ?? fallback;
  } catch {
    return fallback;
  }
}

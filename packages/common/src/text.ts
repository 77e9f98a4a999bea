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

/** One line: line breaks of text from outside become spaces, so a table row or list item stays whole. */
const oneLine = (text: string | number): string => String(text).replace(/\r?\n/g, ' ');

/**
 * Text from outside as a Markdown table cell (or any line of a job summary or comment): one line,
 * `|` escaped so it cannot split the row, and `<` as `&lt;` so no HTML tag opens, except inside a
 * code span the text already holds (`result < 0.01`), where GitHub would show `&lt;` literally and
 * no tag can open anyway.
 */
export function markdownCell(text: string | number): string {
  return oneLine(text)
    .replace(/\|/g, '\\|')
    .replace(/(`+)(?:(?!\1).)+?\1(?!`)|</g, (match) => (match === '<' ? '&lt;' : match));
}

/**
 * Text from outside as inline code, in a table cell or elsewhere: one line, `|` escaped (GFM splits
 * a row before it reads code spans), `<` left as it is (a code span shows `&lt;` literally), and
 * fenced by more backticks than any run it holds.
 */
export function markdownCode(text: string | number): string {
  const body = oneLine(text).replace(/\|/g, '\\|');
  const longest = Math.max(0, ...Array.from(body.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

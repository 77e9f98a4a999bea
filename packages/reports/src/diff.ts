// The lines a pull request changed, from `git diff --unified=0 <base>...<head>` output. A pure
// function of the text: the adapter and the CLI run git, each in their own way.

export type ChangedLines = Map<string, Set<number>>;

/** The git arguments both callers use: no colour, no external diff tools, no rename noise. */
export function gitDiffArgs(base: string, head: string): string[] {
  return [
    '-c',
    'core.quotePath=false',
    'diff',
    '--no-color',
    '--no-ext-diff',
    '--unified=0',
    '--diff-filter=AMRC',
    `${base}...${head}`,
    '--',
  ];
}

const HUNK = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/;

/** Parses a unified diff into added/modified line numbers per new-side path. */
export function parseUnifiedDiff(diff: string): ChangedLines {
  const changed: ChangedLines = new Map();
  let current: Set<number> | undefined;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++ ')) {
      const path = diffPath(line.slice(4).replace(/\r$/, ''));
      if (path === undefined) {
        current = undefined;
      } else {
        current = changed.get(path) ?? new Set();
        changed.set(path, current);
      }
      continue;
    }
    if (!current || !line.startsWith('@@')) continue;
    const m = HUNK.exec(line);
    if (!m) continue;
    const start = Number(m[1]);
    const count = m[2] === undefined ? 1 : Number(m[2]);
    for (let l = start; l < start + count; l++) current.add(l);
  }
  for (const [path, lines] of changed) if (lines.size === 0) changed.delete(path);
  return changed;
}

/** "b/src/x.ts", a quoted C-style path, or /dev/null (a deleted file). */
function diffPath(raw: string): string | undefined {
  let text = raw.replace(/\t.*$/, '');
  if (text === '/dev/null') return undefined;
  if (text.startsWith('"') && text.endsWith('"')) text = unquoteC(text.slice(1, -1));
  return text.startsWith('b/') ? text.slice(2) : text;
}

function unquoteC(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = text[++i] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(text.slice(i, i + 3), 8));
      i += 2;
    } else {
      bytes.push(({ n: 10, t: 9, r: 13, '"': 34, '\\': 92 } as Record<string, number>)[next] ?? next.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function countChangedLines(changed: ChangedLines): number {
  let n = 0;
  for (const lines of changed.values()) n += lines.size;
  return n;
}

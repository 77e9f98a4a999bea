// Recognises a report's format from its first bytes, so users list files, not formats. The
// `format:` prefix of a `reports` line overrides it when a file is ambiguous (e.g. empty output).
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ReportError } from './errors.ts';

export const FORMATS = [
  'junit',
  'cobertura',
  'lcov',
  'jacoco',
  'sarif',
  'eslint',
  'checkstyle',
  'pylint',
  'flake8',
  'mypy',
  'tsc',
  'bandit',
  'pip-audit',
  'safety',
  'npm-audit',
  'artillery',
] as const;
export type Format = (typeof FORMATS)[number];

/** Variants a format name can take once the content is seen. */
export type Detected =
  | { format: 'junit' | 'cobertura' | 'jacoco' | 'checkstyle'; kind: 'xml' }
  | { format: 'flake8' | 'mypy'; kind: 'xml' | 'text' | 'jsonl' }
  | { format: 'lcov' | 'tsc'; kind: 'text' }
  | {
      format: 'sarif' | 'eslint' | 'pylint' | 'bandit' | 'pip-audit' | 'safety' | 'npm-audit' | 'artillery';
      kind: 'json';
    }
  | { format: 'empty'; kind: 'text' };

const SNIFF_BYTES = 64 * 1024;

/** The start of a report as UTF-8 text; a UTF-16 or UTF-32 file is an error that says so. */
export function readHead(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(SNIFF_BYTES, Math.max(0, statSync(path).size)));
    const head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
    const encoding = wideEncoding(head);
    if (encoding) {
      throw new ReportError(
        path,
        `is ${encoding}, not UTF-8: re-encode it (iconv -f ${encoding.slice(0, 6)} -t UTF-8, or PowerShell's Out-File -Encoding utf8)`,
      );
    }
    return head.toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    closeSync(fd);
  }
}

/**
 * UTF-16 and UTF-32, which every report tool writes as UTF-8 but Windows PowerShell 5.1's `>`
 * re-encodes to (UTF-16 little-endian with a byte-order mark). Without a mark, text of ASCII
 * characters in UTF-16 has a zero byte in every other position.
 */
function wideEncoding(head: Buffer): string | undefined {
  const [a, b, c, d] = head;
  if (a === 0xff && b === 0xfe && c === 0 && d === 0) return 'UTF-32 (little-endian, with a byte-order mark)';
  if (a === 0 && b === 0 && c === 0xfe && d === 0xff) return 'UTF-32 (big-endian, with a byte-order mark)';
  if (a === 0xff && b === 0xfe) return 'UTF-16 (little-endian, with a byte-order mark)';
  if (a === 0xfe && b === 0xff) return 'UTF-16 (big-endian, with a byte-order mark)';
  const pairs = Math.min(head.length, 512) >> 1;
  if (pairs < 2) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (head[i] === 0) evenZeros++;
    if (head[i + 1] === 0) oddZeros++;
  }
  if (oddZeros >= pairs * 0.9 && evenZeros === 0) return 'UTF-16 (little-endian, without a byte-order mark)';
  if (evenZeros >= pairs * 0.9 && oddZeros === 0) return 'UTF-16 (big-endian, without a byte-order mark)';
  return undefined;
}

/** The root elements each XML format may have, to refuse another XML file forced to it. */
const XML_ROOTS: Partial<Record<Format, { name: string; roots: string[] }>> = {
  junit: { name: 'JUnit', roots: ['testsuites', 'testsuite'] },
  flake8: { name: 'JUnit', roots: ['testsuites', 'testsuite'] },
  mypy: { name: 'JUnit', roots: ['testsuites', 'testsuite'] },
  cobertura: { name: 'Cobertura', roots: ['coverage'] },
  jacoco: { name: 'JaCoCo', roots: ['report'] },
  checkstyle: { name: 'Checkstyle', roots: ['checkstyle'] },
};

/** The root element's name and the text of its first few start tags. */
function xmlRoot(head: string): { root: string; tags: string } | undefined {
  const re = /<([A-Za-z_][\w.:-]*)/g;
  let text = head.replace(/<\?[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '');
  text = text.replace(/<!DOCTYPE[^>[]*>/, '');
  const m = re.exec(text);
  if (!m) return undefined;
  return { root: m[1] as string, tags: text.slice(m.index, m.index + 4000) };
}

/**
 * Detects the format of a file from its start. `override` is the format named by the user;
 * it still picks the variant (mypy text, JSON lines or JUnit) from the content.
 */
export function detectFormat(path: string, override?: Format): Detected | undefined {
  const head = readHead(path);
  const trimmed = head.trimStart();
  if (trimmed === '') {
    // Only these tools write nothing when clean; an empty JSON or XML report means the tool did not run.
    if (override === 'flake8' || override === 'mypy' || override === 'tsc') return { format: override, kind: 'text' };
    return { format: 'empty', kind: 'text' };
  }
  const first = trimmed[0];
  if (first === '<') {
    const root = xmlRoot(trimmed);
    const tags = root?.tags ?? '';
    if (override) {
      const wanted = XML_ROOTS[override];
      if (!wanted) return undefined;
      if (!root || !wanted.roots.includes(root.root)) {
        throw new ReportError(
          path,
          `is not ${wanted.name} XML: ${root ? `its root element is <${root.root}>` : 'it has no root element'}, ${wanted.name}'s is ${wanted.roots.map((r) => `<${r}>`).join(' or ')}`,
        );
      }
      return { format: override as 'junit' | 'cobertura' | 'jacoco' | 'checkstyle' | 'flake8' | 'mypy', kind: 'xml' };
    }
    switch (root?.root) {
      case 'testsuites':
      case 'testsuite':
        if (/<testsuite\b[^>]*\bname="mypy"/.test(tags)) return { format: 'mypy', kind: 'xml' };
        if (/<testsuite\b[^>]*\bname="flake8[".]/.test(tags)) return { format: 'flake8', kind: 'xml' };
        return { format: 'junit', kind: 'xml' };
      case 'coverage':
        return /\bclover=/.test(tags) ? undefined : { format: 'cobertura', kind: 'xml' };
      case 'report':
        return { format: 'jacoco', kind: 'xml' };
      case 'checkstyle':
        return { format: 'checkstyle', kind: 'xml' };
      default:
        return undefined;
    }
  }
  if (first === '{' || first === '[') {
    const firstLine = trimmed.split('\n', 1)[0] ?? '';
    if (
      override === 'mypy' ||
      (!override && /^\{.*"file".*"severity".*\}\s*$/.test(firstLine) && /"code"/.test(firstLine))
    ) {
      return { format: 'mypy', kind: 'jsonl' };
    }
    if (override) return isJsonFormat(override) ? { format: override, kind: 'json' } : undefined;
    const sniffed = sniffJson(trimmed, path);
    if (sniffed) return sniffed;
    // The keys that decide may come late (bandit writes per-file metrics before its results):
    // read the whole document when the start did not tell.
    return statSync(path).size > SNIFF_BYTES ? sniffJsonDocument(path) : undefined;
  }
  if (override === 'lcov' || override === 'tsc') return { format: override, kind: 'text' };
  if (override === 'flake8' || override === 'mypy') return { format: override, kind: 'text' };
  if (override) return undefined;
  if (/^(TN|SF):/m.test(head)) return { format: 'lcov', kind: 'text' };
  if (/^(.+?\(\d+,\d+\): )?(error|warning) TS\d+: /m.test(head)) return { format: 'tsc', kind: 'text' };
  if (
    /^.+?:\d+(:\d+)?(:\d+:\d+)?: (error|warning|note): /m.test(head) ||
    /^(Success: no issues found|Found \d+ errors?)/m.test(head)
  ) {
    return { format: 'mypy', kind: 'text' };
  }
  if (/^.+?:\d+:(\d+:)?\s+[A-Z]+\d+\s/m.test(head)) return { format: 'flake8', kind: 'text' };
  return undefined;
}

function isJsonFormat(
  format: Format,
): format is 'sarif' | 'eslint' | 'pylint' | 'bandit' | 'pip-audit' | 'safety' | 'npm-audit' | 'artillery' {
  return ['sarif', 'eslint', 'pylint', 'bandit', 'pip-audit', 'safety', 'npm-audit', 'artillery'].includes(format);
}

/** Key names near the start of a JSON report say which tool wrote it. */
function sniffJson(head: string, path: string): Detected | undefined {
  const has = (key: string): boolean => head.includes(`"${key}"`);
  if (head.startsWith('{')) {
    if (has('runs') && (has('version') || has('$schema'))) return { format: 'sarif', kind: 'json' };
    if (has('auditReportVersion') || (has('advisories') && has('metadata')))
      return { format: 'npm-audit', kind: 'json' };
    if (has('audit') && (has('audited') || has('added'))) return { format: 'npm-audit', kind: 'json' };
    // npm's own error object ({"error": {"code": "ENOLOCK", ...}}): read as npm audit, refused there.
    if (/^\{\s*"error"\s*:\s*\{/.test(head) && has('code') && has('summary'))
      return { format: 'npm-audit', kind: 'json' };
    if (has('report_meta') || (has('vulnerabilities') && has('scanned_packages')))
      return { format: 'safety', kind: 'json' };
    if (has('dependencies') && (has('vulns') || has('skip_reason') || has('fixes')))
      return { format: 'pip-audit', kind: 'json' };
    // pip-audit 2.x with nothing to audit, without its "fixes" list: {"dependencies": []}.
    if (/^\{\s*"dependencies"\s*:\s*\[\s*\]\s*\}\s*$/.test(head)) return { format: 'pip-audit', kind: 'json' };
    if (has('results') && (has('metrics') || has('generated_at'))) return { format: 'bandit', kind: 'json' };
    if (has('messages') && has('statistics')) return { format: 'pylint', kind: 'json' };
    // Artillery 2 (artillery run --output): {"aggregate": {"counters": ...}, "intermediate": [...]}.
    if (/^\{\s*"aggregate"\s*:/.test(head) || (has('aggregate') && has('intermediate')))
      return { format: 'artillery', kind: 'json' };
    return undefined;
  }
  if (has('filePath') && has('messages')) return { format: 'eslint', kind: 'json' };
  // pip-audit before 2.0: a bare list of {name, version, vulns} or {name, skip_reason}.
  if (/^\[\s*\{\s*"name"/.test(head) && (has('vulns') || has('skip_reason')))
    return { format: 'pip-audit', kind: 'json' };
  if (has('message-id') || (has('symbol') && has('module'))) return { format: 'pylint', kind: 'json' };
  if (/^\[\s*\[\s*"/.test(head)) return { format: 'safety', kind: 'json' };
  if (/^\[\s*\]\s*$/.test(head)) {
    // An empty list is what pylint, ESLint (no files) and safety 1.x print when clean: the name decides.
    const name = basename(path).toLowerCase();
    for (const format of ['pylint', 'eslint', 'safety'] as const) {
      if (name.includes(format)) return { format, kind: 'json' };
    }
    return undefined;
  }
  return undefined;
}

/** Decides from the top-level keys of the whole document (large reports). */
function sniffJsonDocument(path: string): Detected | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  if (Array.isArray(doc)) {
    const first: unknown = doc[0];
    if (typeof first !== 'object' || first === null) return undefined;
    return sniffJson(`[${JSON.stringify(first)}]`, path);
  }
  return sniffJson(
    `{${Object.keys(doc)
      .map((k) => JSON.stringify(k))
      .join(',')}}`,
    path,
  );
}

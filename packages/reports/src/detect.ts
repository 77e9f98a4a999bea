// Recognises a report's format from its first bytes, so users list files, not formats. The
// `format:` prefix of a `reports` line overrides it when a file is ambiguous (e.g. empty output).
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';

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

export function readHead(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(SNIFF_BYTES, Math.max(0, statSync(path).size)));
    const read = readSync(fd, buf, 0, buf.length, 0);
    return buf
      .subarray(0, read)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
  } finally {
    closeSync(fd);
  }
}

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
    if (override === 'flake8' || override === 'mypy') return { format: override, kind: 'xml' };
    if (override === 'junit' || override === 'cobertura' || override === 'jacoco' || override === 'checkstyle') {
      return { format: override, kind: 'xml' };
    }
    if (override) return undefined;
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

// Reads one report file of any supported format into the collector.
import { isAscii } from 'node:buffer';
import { readFileSync, statSync } from 'node:fs';
import { scalarText } from '@adci/common';
import type { Collector } from './collector.ts';
import { detectFormat, type Format } from './detect.ts';
import { ReportError } from './errors.ts';
import type { XmlHandler } from './xml/scanner.ts';

// Each format's reader is loaded when a report of that format is read (a run reads one or two
// formats of the many, and start-up is part of every CI job), as is the YAML parser that locates
// an error in a JSON report.
const xmlReaders = () => import('./xml/read.ts');
const junitReader = () => import('./parsers/junit.ts');
const coverageXmlReaders = () => import('./parsers/coverage-xml.ts');
const findingsXmlReaders = () => import('./parsers/findings-xml.ts');
const textReaders = () => import('./parsers/text.ts');
const jsonReaders = () => import('./parsers/findings-json.ts');
const artilleryReader = () => import('./parsers/artillery.ts');

async function scanXml(path: string, handler: XmlHandler): Promise<void> {
  (await xmlReaders()).scanXmlFile(path, handler);
}

/** JSON reports are parsed whole; past this size they would not fit in one string anyway. */
const MAX_JSON_BYTES = 256 * 1024 * 1024;

export interface ParsedReport {
  path: string;
  /** The format read, e.g. "junit", "mypy (text)". */
  format: string;
}

/** Parses `path` into `collector`. `display` is the path shown to users (relative to the workspace). */
export async function parseReport(
  path: string,
  collector: Collector,
  override?: Format,
  display = path,
): Promise<ParsedReport> {
  const withLocation = async <T>(handler: () => T | Promise<T>): Promise<T> => {
    try {
      return await handler();
    } catch (error) {
      if (error instanceof ReportError && error.file === path && display !== path) {
        throw new ReportError(display, error.message.slice(path.length + 2), error.line, error.column);
      }
      throw error;
    }
  };
  const detected = await withLocation(() => detectFormat(path, override));
  if (!detected) {
    throw new ReportError(
      display,
      override
        ? `does not look like a ${override} report`
        : 'format not recognised (prefix the reports line with a format, e.g. "pylint: lint.json")',
    );
  }
  const { format, kind } = detected;
  const label = kind === 'xml' && (format === 'flake8' || format === 'mypy') ? `${format} (junit-xml)` : format;
  await withLocation(async () => {
    switch (format) {
      case 'empty':
        throw new ReportError(
          path,
          override
            ? `is empty, which a ${override} report never is when its tool ran (only flake8, mypy and tsc text output is empty when clean)`
            : 'is empty: did the tool run? (only flake8, mypy and tsc write nothing when clean; force one with e.g. "flake8: file")',
        );
      case 'junit':
        await scanXml(path, (await junitReader()).junitHandler(collector, display));
        break;
      case 'cobertura':
        await scanXml(path, (await coverageXmlReaders()).coberturaHandler(collector));
        break;
      case 'jacoco':
        await scanXml(path, (await coverageXmlReaders()).jacocoHandler(collector));
        break;
      case 'checkstyle':
        await scanXml(
          path,
          (await findingsXmlReaders()).checkstyleHandler(collector, /eslint/i.test(display) ? 'eslint' : 'checkstyle'),
        );
        break;
      case 'lcov':
        (await textReaders()).parseLcov(path, collector);
        break;
      case 'tsc':
        (await textReaders()).parseTsc(path, collector);
        break;
      case 'flake8':
        if (kind === 'xml') await scanXml(path, (await findingsXmlReaders()).flake8JunitHandler(collector));
        else (await textReaders()).parseFlake8Text(path, collector);
        break;
      case 'mypy':
        if (kind === 'xml') await scanXml(path, (await findingsXmlReaders()).mypyJunitHandler(collector));
        else if (kind === 'jsonl') (await textReaders()).parseMypyJsonLines(path, collector);
        else (await textReaders()).parseMypyText(path, collector);
        break;
      default: {
        const doc = await readJson(path);
        await parseJsonReport(format, doc, path, collector);
      }
    }
  });
  return { path: display, format: kind === 'jsonl' ? `${format} (json lines)` : label };
}

/** What each JSON format must hold; said in errors so the author can see what was expected. */
const JSON_SHAPES: Record<string, string> = {
  sarif: 'an object with a "runs" list (SARIF 2.1.0)',
  eslint: 'a list of {"filePath", "messages"} objects (eslint -f json)',
  pylint: 'a list of messages (--output-format=json) or an object with "messages" (json2)',
  bandit: 'an object with a "results" list (bandit -f json)',
  'pip-audit':
    'an object with a "dependencies" list (pip-audit 2.x -f json) or a list of {"name", "version", "vulns"} (pip-audit 1.x)',
  safety:
    'a list of [name, spec, version, advisory, id] lists (safety 1.x) or an object with a "vulnerabilities" list (safety 2.x/3.x)',
  'npm-audit':
    'an object with "vulnerabilities" (npm 7+ audit --json), "advisories" (npm 6) or "audit" (npm audit fix --dry-run --json)',
  artillery: 'an object with "aggregate" (artillery run --output report.json)',
};

async function parseJsonReport(format: Format, doc: unknown, path: string, collector: Collector): Promise<void> {
  const readers = await jsonReaders();
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const object = isObject(doc) ? doc : undefined;
  const list = Array.isArray(doc) ? doc : undefined;
  const expect = (ok: boolean): void => {
    if (!ok)
      throw new ReportError(path, `not a ${format} report: expected ${JSON_SHAPES[format] ?? format}${describe(doc)}`);
  };
  // Every entry of a list must look like the tool's, or the list is another tool's.
  const entries = (items: unknown[], ok: (item: Record<string, unknown>) => boolean): boolean =>
    items.every((item) => isObject(item) && ok(item));
  switch (format) {
    case 'sarif':
      expect(object !== undefined && Array.isArray(object.runs));
      readers.parseSarif(object as Record<string, unknown>, path, collector);
      break;
    case 'eslint':
      expect(list !== undefined && entries(list, (f) => typeof f.filePath === 'string' && Array.isArray(f.messages)));
      readers.parseEslint(list ?? [], collector);
      break;
    case 'pylint': {
      const messages = list ?? (object && Array.isArray(object.messages) ? object.messages : undefined);
      expect(
        messages !== undefined &&
          entries(
            messages,
            (m) => typeof m.message === 'string' && ('symbol' in m || 'message-id' in m || 'messageId' in m),
          ),
      );
      readers.parsePylint(messages ?? [], collector);
      break;
    }
    case 'bandit':
      expect(
        object !== undefined &&
          Array.isArray(object.results) &&
          (object.errors === undefined || Array.isArray(object.errors)),
      );
      readers.parseBandit(object as Record<string, unknown>, collector);
      break;
    case 'pip-audit':
      // pip-audit before 2.0 printed a bare list of dependencies.
      expect(
        (list !== undefined && entries(list, (d) => typeof d.name === 'string')) ||
          (object !== undefined &&
            Array.isArray(object.dependencies) &&
            entries(object.dependencies, (d) => typeof d.name === 'string')),
      );
      readers.parsePipAudit(list ? { dependencies: list } : (object as Record<string, unknown>), collector, undefined);
      break;
    case 'safety':
      expect(
        (list !== undefined && list.every((e) => Array.isArray(e))) ||
          (object !== undefined && Array.isArray(object.vulnerabilities)),
      );
      readers.parseSafety(doc, collector, undefined);
      break;
    case 'npm-audit': {
      if (object && isObject(object.error)) {
        const e = object.error;
        throw new ReportError(
          path,
          `is npm's error output, not an audit report: ${scalarText(e.code, 'error')}: ${scalarText(e.summary).split('\n')[0]}`,
        );
      }
      // npm audit fix --dry-run --json nests the audit report under "audit".
      const report = object && isObject(object.audit) ? object.audit : object;
      expect(report !== undefined && (isObject(report.vulnerabilities) || isObject(report.advisories)));
      readers.parseNpmAudit(report as Record<string, unknown>, collector, undefined);
      break;
    }
    case 'artillery':
      collector.addLoad((await artilleryReader()).parseArtilleryReport(doc, path));
      break;
    default:
      throw new ReportError(path, `${format} is not a JSON format`);
  }
}

/** ", but it is an object with keys a, b" and the like, for errors. */
function describe(doc: unknown): string {
  if (Array.isArray(doc)) return `, but it is a list of ${doc.length} item(s)`;
  if (typeof doc === 'object' && doc !== null) {
    const keys = Object.keys(doc);
    return keys.length === 0
      ? ', but it is an empty object {}'
      : `, but it is an object with keys ${keys
          .slice(0, 8)
          .map((k) => `"${k}"`)
          .join(', ')}`;
  }
  return `, but it is ${JSON.stringify(doc)}`;
}

/**
 * A report's text. Most reports are ASCII, which read as Latin-1 is the same text, and Node keeps a
 * large Latin-1 string outside the JavaScript heap. In the heap, the text (dead once parsed) counts
 * towards the old generation's limit until a full collection: with the document parsed from it,
 * that leaves the heap at its limit, so that whatever the reader allocates then starts a collection
 * of the whole document while the reader walks it (a third more CPU in many runs of the 50 MB SARIF
 * of bench/gate.ts).
 */
function readText(path: string): string {
  const bytes = readFileSync(path);
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

async function readJson(path: string): Promise<unknown> {
  const size = statSync(path).size;
  if (size > MAX_JSON_BYTES) throw new ReportError(path, `JSON report of ${size} bytes is over the 256 MiB limit`);
  const text = readText(path);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? '';
    // V8 does not always say where. A truncated file ends early; otherwise the YAML reader (a
    // JSON superset) locates the error, for files small enough to read that way.
    let where: [string, string] | undefined = /line (\d+) column (\d+)/.exec(message)?.slice(1) as
      [string, string] | undefined;
    if (!where && /end of JSON input/.test(message)) {
      const lastLine = text.slice(text.lastIndexOf('\n') + 1);
      let lines = 1;
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
      where = [String(lines), String(lastLine.length + 1)];
    }
    if (!where && text.length <= 16 * 1024 * 1024) {
      try {
        (await import('@adci/common/structured')).parseStructured(text, path);
      } catch (located) {
        where = /line (\d+), column (\d+)/.exec(String((located as Error).message))?.slice(1) as
          [string, string] | undefined;
      }
    }
    if (where) {
      const line = Number(where[0]);
      const column = Number(where[1]);
      throw new ReportError(path, `line ${line}, column ${column}: invalid JSON (${message})`, line, column);
    }
    throw new ReportError(path, `invalid JSON (${message})`);
  }
}

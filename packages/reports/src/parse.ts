// Reads one report file of any supported format into the collector.
import { readFileSync, statSync } from 'node:fs';
import { parseStructured } from '@adci/common';
import type { Collector } from './collector.ts';
import { detectFormat, type Format } from './detect.ts';
import { ReportError } from './errors.ts';
import { scanXmlFile } from './xml/read.ts';
import { junitHandler } from './parsers/junit.ts';
import { coberturaHandler, jacocoHandler } from './parsers/coverage-xml.ts';
import { checkstyleHandler, flake8JunitHandler, mypyJunitHandler } from './parsers/findings-xml.ts';
import { parseFlake8Text, parseLcov, parseMypyJsonLines, parseMypyText, parseTsc } from './parsers/text.ts';
import {
  parseBandit,
  parseEslint,
  parseNpmAudit,
  parsePipAudit,
  parsePylint,
  parseSafety,
  parseSarif,
} from './parsers/findings-json.ts';

/** JSON reports are parsed whole; past this size they would not fit in one string anyway. */
const MAX_JSON_BYTES = 256 * 1024 * 1024;

export interface ParsedReport {
  path: string;
  /** The format read, e.g. "junit", "mypy (text)". */
  format: string;
}

/** Parses `path` into `collector`. `display` is the path shown to users (relative to the workspace). */
export function parseReport(path: string, collector: Collector, override?: Format, display = path): ParsedReport {
  const detected = detectFormat(path, override);
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
  const withLocation = (handler: () => void): void => {
    try {
      handler();
    } catch (error) {
      if (error instanceof ReportError && error.file === path && display !== path) {
        throw new ReportError(display, error.message.slice(path.length + 2), error.line, error.column);
      }
      throw error;
    }
  };
  withLocation(() => {
    switch (format) {
      case 'empty':
        break;
      case 'junit':
        scanXmlFile(path, junitHandler(collector, display));
        break;
      case 'cobertura':
        scanXmlFile(path, coberturaHandler(collector));
        break;
      case 'jacoco':
        scanXmlFile(path, jacocoHandler(collector));
        break;
      case 'checkstyle':
        scanXmlFile(path, checkstyleHandler(collector, /eslint/i.test(display) ? 'eslint' : 'checkstyle'));
        break;
      case 'lcov':
        parseLcov(path, collector);
        break;
      case 'tsc':
        parseTsc(path, collector);
        break;
      case 'flake8':
        if (kind === 'xml') scanXmlFile(path, flake8JunitHandler(collector));
        else parseFlake8Text(path, collector);
        break;
      case 'mypy':
        if (kind === 'xml') scanXmlFile(path, mypyJunitHandler(collector));
        else if (kind === 'jsonl') parseMypyJsonLines(path, collector);
        else parseMypyText(path, collector);
        break;
      default: {
        const doc = readJson(path);
        parseJsonReport(format, doc, path, collector);
      }
    }
  });
  return { path: display, format: kind === 'jsonl' ? `${format} (json lines)` : label };
}

function parseJsonReport(format: Format, doc: unknown, path: string, collector: Collector): void {
  const object = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
  const list = Array.isArray(doc) ? doc : undefined;
  const expect = (ok: boolean, shape: string): void => {
    if (!ok) throw new ReportError(path, `not a ${format} report (expected ${shape})`);
  };
  switch (format) {
    case 'sarif':
      expect(!list, 'an object with "runs"');
      parseSarif(object, path, collector);
      break;
    case 'eslint':
      expect(list !== undefined, 'a list of files');
      parseEslint(list ?? [], collector);
      break;
    case 'pylint':
      if (list) parsePylint(list, collector);
      else parsePylint(Array.isArray(object.messages) ? object.messages : [], collector);
      break;
    case 'bandit':
      expect(!list, 'an object with "results"');
      parseBandit(object, collector);
      break;
    case 'pip-audit':
      // pip-audit before 2.0 printed a bare list of dependencies.
      parsePipAudit(list ? { dependencies: list } : object, collector, undefined);
      break;
    case 'safety':
      parseSafety(doc, collector, undefined);
      break;
    case 'npm-audit':
      expect(!list, 'an object with "vulnerabilities"');
      parseNpmAudit(object, collector, undefined);
      break;
    default:
      throw new ReportError(path, `${format} is not a JSON format`);
  }
}

function readJson(path: string): unknown {
  const size = statSync(path).size;
  if (size > MAX_JSON_BYTES) throw new ReportError(path, `JSON report of ${size} bytes is over the 256 MiB limit`);
  const text = readFileSync(path, 'utf8');
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
        parseStructured(text, path);
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

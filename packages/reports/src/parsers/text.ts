// Line-oriented reports: LCOV coverage, flake8's default output, mypy's text output. Read in
// fixed-size chunks and split into lines, so a large LCOV file never sits in memory whole.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Collector } from '../collector.ts';
import type { FileCoverage, Finding, Severity } from '../model.ts';
import { scalarText } from '@adci/common';
import { ReportError } from '../errors.ts';

const CHUNK_BYTES = 1024 * 1024;

/** Calls `onLine(text, lineNumber)` for every line of a file, streaming. */
export function forEachLine(path: string, onLine: (line: string, lineNumber: number) => void): void {
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let rest = '';
  let lineNumber = 0;
  const decoder = new TextDecoder('utf-8');
  try {
    for (;;) {
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      const text = rest + (read === 0 ? decoder.decode() : decoder.decode(chunk.subarray(0, read), { stream: true }));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        lineNumber++;
        onLine(text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl), lineNumber);
        start = nl + 1;
      }
      rest = text.slice(start);
      if (read === 0) break;
      if (rest.length > 64 * 1024 * 1024) throw new ReportError(path, `line ${lineNumber + 1} is over 64 MiB long`);
    }
    if (rest !== '') onLine(rest, lineNumber + 1);
  } finally {
    closeSync(fd);
  }
}

/** A non-empty file in which no line is the tool's: another tool's output, a traceback, an error. */
function notTheFormat(path: string, tool: string, shape: string, firstLine: string): ReportError {
  return new ReportError(
    path,
    `not ${tool} output: no line has the shape ${shape} (the file starts with ${JSON.stringify(firstLine.slice(0, 80))})`,
  );
}

export function parseLcov(path: string, collector: Collector): void {
  collector.coverageReports++;
  let records = 0;
  let first = '';
  let file: FileCoverage | undefined;
  // BRDA lines come per branch; gather them per line first, then record.
  let branches = new Map<number, [number, number]>();
  const flushBranches = (): void => {
    if (!file) return;
    for (const [line, [total, covered]] of branches) {
      const state = file.lines[line];
      if (state !== undefined && state !== 0) collector.addLine(file, line, state === 2 ? 1 : 0, total, covered);
    }
    branches = new Map();
  };
  forEachLine(path, (line, lineNumber) => {
    if (!first && line.trim()) first = line.trim();
    if (line.startsWith('DA:')) {
      if (!file) throw new ReportError(path, `line ${lineNumber}: DA record outside an SF record`, lineNumber, 1);
      const comma = line.indexOf(',', 3);
      const end = line.indexOf(',', comma + 1);
      const hits = Number(end === -1 ? line.slice(comma + 1) : line.slice(comma + 1, end));
      collector.addLine(file, Number(line.slice(3, comma)), Number.isFinite(hits) ? hits : 0);
    } else if (line.startsWith('BRDA:')) {
      const [lineText, , , taken] = line.slice(5).split(',');
      const lineNo = Number(lineText);
      const entry = branches.get(lineNo) ?? [0, 0];
      entry[0]++;
      if (taken !== undefined && taken !== '-' && Number(taken) > 0) entry[1]++;
      branches.set(lineNo, entry);
    } else if (line.startsWith('SF:')) {
      records++;
      file = collector.fileCoverage(line.slice(3).trim());
    } else if (line === 'end_of_record') {
      flushBranches();
      file = undefined;
    }
  });
  flushBranches();
  if (records === 0) throw notTheFormat(path, 'LCOV', '"SF:<file>" records', first);
}

const FLAKE8_LINE = /^(.+?):(\d+):(?:(\d+):)?\s+([A-Z]+[0-9]+)\s+(.*)$/;

/** flake8's error codes for syntax errors and undefined names break code; the rest is style. */
export function flake8Severity(code: string): Severity {
  return /^(E9|F63|F7|F82)/.test(code) ? 'error' : 'warning';
}

export function parseFlake8Text(path: string, collector: Collector): void {
  collector.sawTool('flake8');
  let matched = 0;
  let first = '';
  forEachLine(path, (line) => {
    if (!first && line.trim()) first = line.trim();
    const m = FLAKE8_LINE.exec(line);
    if (!m) return;
    matched++;
    const code = m[4] as string;
    collector.addFinding({
      tool: 'flake8',
      rule: code,
      severity: flake8Severity(code),
      file: m[1],
      line: Number(m[2]),
      message: m[5] as string,
    });
  });
  if (first && matched === 0) throw notTheFormat(path, 'flake8', '"file:line:col: CODE message"', first);
}

const MYPY_LINE = /^(.+?):(\d+)(?::(\d+))?(?::(\d+):(\d+))?: (error|warning|note): (.*?)(?:\s+\[([\w-]+)\])?$/;

/** One mypy text line to a finding; false for summaries, blank lines and anything else. */
export function addMypyLine(line: string, collector: Collector): boolean {
  const m = MYPY_LINE.exec(line);
  if (!m) return false;
  collector.addFinding({
    tool: 'mypy',
    rule: m[8] ?? (m[6] === 'note' ? 'note' : 'misc'),
    severity: m[6] as Severity,
    file: m[1],
    line: Number(m[2]),
    endLine: m[4] ? Number(m[4]) : undefined,
    message: m[7] as string,
  });
  return true;
}

const MYPY_SUMMARY = /^(Success: no issues found|Found \d+ errors?)/;

export function parseMypyText(path: string, collector: Collector): void {
  collector.sawTool('mypy');
  let matched = 0;
  let first = '';
  forEachLine(path, (line) => {
    if (!first && line.trim()) first = line.trim();
    if (addMypyLine(line, collector) || MYPY_SUMMARY.test(line)) matched++;
  });
  if (first && matched === 0) throw notTheFormat(path, 'mypy', '"file:line: error: message"', first);
}

export function parseMypyJsonLines(path: string, collector: Collector): void {
  collector.sawTool('mypy');
  forEachLine(path, (line, lineNumber) => {
    if (line.trim() === '') return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new ReportError(path, `line ${lineNumber}: ${(error as Error).message}`, lineNumber, 1);
    }
    const severity = scalarText(entry.severity, 'error');
    const hint = typeof entry.hint === 'string' && entry.hint ? `\n${entry.hint}` : '';
    collector.addFinding({
      tool: 'mypy',
      rule: typeof entry.code === 'string' ? entry.code : 'misc',
      severity: severity === 'note' ? 'note' : severity === 'warning' ? 'warning' : 'error',
      file: typeof entry.file === 'string' ? entry.file : undefined,
      line: typeof entry.line === 'number' && entry.line > 0 ? entry.line : undefined,
      endLine: typeof entry.end_line === 'number' && entry.end_line > 0 ? entry.end_line : undefined,
      message: `${scalarText(entry.message)}${hint}`,
    });
  });
}

const TSC_LINE = /^(.+?)\((\d+),(\d+)\): (error|warning|message) (TS\d+): (.*)$/;
const TSC_GLOBAL = /^(error|warning|message) (TS\d+): (.*)$/;

/** tsc --pretty false: "file(line,col): error TS2322: message", continuation lines indented. */
export function parseTsc(path: string, collector: Collector): void {
  collector.sawTool('tsc');
  let pending: Finding | undefined;
  let matched = 0;
  let first = '';
  const flush = (): void => {
    if (pending) collector.addFinding(pending);
    pending = undefined;
  };
  forEachLine(path, (line) => {
    if (!first && line.trim()) first = line.trim();
    const m = TSC_LINE.exec(line);
    const g = m ? undefined : TSC_GLOBAL.exec(line);
    if (m || g) {
      matched++;
      flush();
      const level = (m ? m[4] : g?.[1]) as string;
      pending = {
        tool: 'tsc',
        rule: (m ? m[5] : g?.[2]) as string,
        severity: level === 'error' ? 'error' : level === 'warning' ? 'warning' : 'note',
        file: m?.[1],
        line: m ? Number(m[2]) : undefined,
        message: (m ? m[6] : g?.[3]) as string,
      };
    } else if (pending && /^\s+\S/.test(line)) {
      pending.message += `\n${line.trim()}`;
    }
  });
  flush();
  if (first && matched === 0) throw notTheFormat(path, 'tsc', '"file(line,col): error TS1234: message"', first);
}

// Line-oriented reports: LCOV coverage, flake8's default output, mypy's text output. Read in
// fixed-size chunks and split into lines, so a large LCOV file never sits in memory whole.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Collector } from '../collector.ts';
import type { FileCoverage, Finding, Severity } from '../model.ts';
import { scalarText } from '@adci/common';
import { ReportError } from '../errors.ts';
import { CHUNK_BYTES, readInChunks } from '../chunks.ts';

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

/**
 * Calls `onLine(bytes, from, to, lineNumber)` for every line of a file: its bytes in
 * `bytes[from, to)`, without the line break (and a CR before it). Streams in fixed-size chunks and
 * makes no string: a reader decodes only what it keeps. A UTF-8 byte order mark is skipped.
 */
export function forEachLineBytes(
  path: string,
  onLine: (bytes: Buffer, from: number, to: number, lineNumber: number) => void,
): void {
  const fd = openSync(path, 'r');
  let lineNumber = 0;
  let first = true;
  try {
    readInChunks(fd, (bytes, ended) => {
      const filled = bytes.length;
      let start = 0;
      if (first) {
        first = false;
        if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
      }
      // Lines are short (DA:12,3): a loop finds their ends sooner than a native call per line.
      for (let i = start; i < filled; i++) {
        if (bytes[i] !== 0x0a) continue;
        lineNumber++;
        onLine(bytes, start, i > start && bytes[i - 1] === 0x0d ? i - 1 : i, lineNumber);
        start = i + 1;
      }
      if (ended) {
        if (start < filled) onLine(bytes, start, filled, lineNumber + 1);
        return filled;
      }
      if (filled - start > 64 * 1024 * 1024) throw new ReportError(path, `line ${lineNumber + 1} is over 64 MiB long`);
      return start;
    });
  } finally {
    closeSync(fd);
  }
}

/** `Number()` of an ASCII field, read from its bytes when it is plain digits. */
function numberAt(bytes: Buffer, from: number, to: number): number {
  if (to - from <= 9) {
    let value = 0;
    let i = from;
    for (; i < to; i++) {
      const d = (bytes[i] as number) - 0x30;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
    }
    if (i === to) return value;
  }
  return Number(bytes.toString('utf8', from, to));
}

/** Where `byte` is in `bytes[from, to)`, or `to`. */
function indexIn(bytes: Buffer, byte: number, from: number, to: number): number {
  let i = from;
  while (i < to && bytes[i] !== byte) i++;
  return i;
}

const COMMA = 0x2c;
const END_OF_RECORD = Buffer.from('end_of_record', 'latin1');

/** Whether `bytes[from, to)` starts with `prefix` (ASCII, given as its char codes). */
function startsWith(bytes: Buffer, from: number, to: number, a: number, b: number, c: number): boolean {
  return to - from >= 3 && bytes[from] === a && bytes[from + 1] === b && bytes[from + 2] === c;
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
    if (branches.size > 0) branches = new Map();
  };
  forEachLineBytes(path, (bytes, from, to, lineNumber) => {
    if (!first && from < to) first = bytes.toString('utf8', from, to).trim();
    const b0 = bytes[from];
    if (b0 === 0x44 && startsWith(bytes, from, to, 0x44, 0x41, 0x3a)) {
      // DA:<line>,<hits>[,<checksum>]
      if (!file) throw new ReportError(path, `line ${lineNumber}: DA record outside an SF record`, lineNumber, 1);
      const comma = indexIn(bytes, COMMA, from + 3, to);
      if (comma === to) return;
      const end = indexIn(bytes, COMMA, comma + 1, to);
      const hits = numberAt(bytes, comma + 1, end);
      collector.addLine(file, numberAt(bytes, from + 3, comma), Number.isFinite(hits) ? hits : 0);
    } else if (
      b0 === 0x42 &&
      to - from >= 5 &&
      startsWith(bytes, from, to, 0x42, 0x52, 0x44) &&
      bytes[from + 3] === 0x41 &&
      bytes[from + 4] === 0x3a
    ) {
      // BRDA:<line>,<block>,<branch>,<taken> (taken is "-" when the block never ran)
      const c1 = indexIn(bytes, COMMA, from + 5, to);
      const lineNo = numberAt(bytes, from + 5, c1);
      const entry = branches.get(lineNo) ?? [0, 0];
      entry[0]++;
      if (c1 < to) {
        const c2 = indexIn(bytes, COMMA, c1 + 1, to);
        const c3 = c2 < to ? indexIn(bytes, COMMA, c2 + 1, to) : to;
        if (c3 < to) {
          const c4 = indexIn(bytes, COMMA, c3 + 1, to);
          const dash = c4 === c3 + 2 && bytes[c3 + 1] === 0x2d;
          if (!dash && numberAt(bytes, c3 + 1, c4) > 0) entry[1]++;
        }
      }
      branches.set(lineNo, entry);
    } else if (b0 === 0x53 && startsWith(bytes, from, to, 0x53, 0x46, 0x3a)) {
      records++;
      file = collector.fileCoverage(bytes.toString('utf8', from + 3, to).trim());
    } else if (b0 === 0x65 && to - from === END_OF_RECORD.length && END_OF_RECORD.equals(bytes.subarray(from, to))) {
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

// Accumulates what parsers extract from every report: exact counts, coverage per file and line,
// and bounded lists (failures, findings, slowest tests). It is the only state a parse keeps.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import {
  COVERED,
  DEFAULT_LIMITS,
  NOT_COVERABLE,
  UNCOVERED,
  truncate,
  type ExtraLocation,
  type FileCoverage,
  type Finding,
  type ScanError,
  type Limits,
  type SecuritySeverity,
  type Severity,
  type TestCaseRef,
  type TestCounts,
  type TestOutcome,
} from './model.ts';
import { emptyLoadFigures, mergeLoadFigures, type LoadFigures } from './parsers/artillery.ts';

export type LevelCounts = Record<Severity | SecuritySeverity | 'total', number>;

export function emptyLevelCounts(): LevelCounts {
  return { error: 0, warning: 0, note: 0, critical: 0, high: 0, medium: 0, low: 0, total: 0 };
}

export class Collector {
  readonly limits: Limits;
  /** Repository root: absolute paths under it become relative. */
  readonly root: string;
  readonly tests: TestCounts = { tests: 0, passed: 0, failed: 0, errored: 0, skipped: 0, flaky: 0, durationMs: 0 };
  testReports = 0;
  /** Failed, errored and flaky tests first (up to the limit), then skipped ones. */
  readonly failures: TestCaseRef[] = [];
  failuresDropped = 0;
  readonly failedIds = new Set<string>();
  /** Failed tests of the report being read, by id, to recognise reruns (bounded). */
  private readonly failedInReport = new Map<string, TestCaseRef[]>();
  /**
   * A bit per name-fingerprint of the failed tests in `failedInReport`: most tests were not
   * seen failing, and saying so from a few characters costs less than hashing the whole name.
   */
  private readonly failedNameBits = new Uint8Array(NAME_BITS / 8);
  readonly skippedIds = new Set<string>();
  testIdsTruncated = false;
  /** The slowest tests, longest first. */
  readonly slowest: TestCaseRef[] = [];
  readonly coverage = new Map<string, FileCoverage>();
  coverageReports = 0;
  readonly findings: Finding[] = [];
  findingsDropped = 0;
  /** Exact counts per tool; "all" holds the sum. */
  readonly findingCounts = new Map<string, LevelCounts>();
  readonly findingsTools = new Set<string>();
  findingsOnChangedLines = 0;
  /** Parts a tool could not scan; all counted, the first ones kept. */
  readonly scanErrors: ScanError[] = [];
  scanErrorCount = 0;
  /** Things a reader should know that are not failures (a suite declaring tests it does not hold). */
  readonly warnings: string[] = [];
  readonly changed: ReadonlyMap<string, ReadonlySet<number>> | undefined;
  /** Load test figures (Artillery reports), summed. */
  readonly load: LoadFigures = emptyLoadFigures();

  /** Directory of the report being read, to resolve paths relative to where its tool ran. */
  readonly reportDir: string | undefined;
  private readonly located = new Map<string, string>();

  constructor(
    root: string,
    changed?: ReadonlyMap<string, ReadonlySet<number>>,
    limits: Partial<Limits> = {},
    reportDir?: string,
  ) {
    this.root = root;
    this.reportDir = reportDir;
    this.changed = changed;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.findingCounts.set('all', emptyLevelCounts());
  }

  /** Repository-relative, forward-slash form of a path a tool wrote. */
  relativePath(path: string): string {
    // Findings and test cases name the same files over and over: each is worked out once.
    const known = this.relatives.get(path);
    if (known !== undefined) return known;
    const p = this.resolveRelative(path);
    if (this.relatives.size < 100_000) this.relatives.set(path, p);
    return p;
  }

  private readonly relatives = new Map<string, string>();

  private resolveRelative(path: string): string {
    let p = path.replace(/\\/g, '/');
    if (p.startsWith('file://')) p = decodeURIComponent(p.slice('file://'.length));
    if (isAbsolute(p) && this.root) {
      const rel = relative(this.root, p).replace(/\\/g, '/');
      if (!rel.startsWith('../')) p = rel;
    }
    // Most paths are already normal, and normalize() costs more than asking.
    if (NOT_NORMAL.test(p)) p = posix.normalize(p);
    if (p.startsWith('./')) p = p.slice(2);
    return isAbsolute(p) || !this.reportDir ? p : this.locate(p);
  }

  /**
   * A relative path is relative to where the tool ran, which is often a subdirectory holding
   * the report (web/ for web/coverage/lcov.info). When the path does not exist at the root, the
   * report's directory and its parents up to the root are tried. Checked once per path.
   */
  private locate(p: string): string {
    const cached = this.located.get(p);
    if (cached !== undefined) return cached;
    let found = p;
    if (!existsSync(join(this.root, p))) {
      let dir = this.reportDir as string;
      while (dir.startsWith(this.root) && dir.length > this.root.length) {
        if (existsSync(join(dir, p))) {
          found = relative(this.root, join(dir, p)).split(sep).join('/');
          break;
        }
        dir = dirname(dir);
      }
    }
    if (this.located.size < 100_000) this.located.set(p, found);
    return found;
  }

  // ---- tests

  /**
   * Counts a test. `rerunnable` is false for a test case without a name: two unnamed cases of one
   * suite are two tests, not a test and its rerun.
   */
  addTest(test: TestCaseRef, rerunnable = true): void {
    const counts = this.tests;
    if (rerunnable && this.rerun(test)) return;
    counts.tests++;
    counts.durationMs += test.durationMs;
    switch (test.outcome) {
      case 'failed':
        counts.failed++;
        break;
      case 'errored':
        counts.errored++;
        break;
      case 'skipped':
        counts.skipped++;
        break;
      case 'flaky':
        counts.flaky++;
        counts.passed++;
        break;
      default:
        counts.passed++;
    }
    if (test.outcome === 'failed' || test.outcome === 'errored') {
      this.rememberId(this.failedIds, test.id);
      if (rerunnable && this.failedInReport.size < this.limits.maxTestIds) {
        const same = this.failedInReport.get(test.name);
        if (same) same.push(test);
        else this.failedInReport.set(test.name, [test]);
        const bit = nameFingerprint(test.name);
        const bits = this.failedNameBits;
        bits[bit >>> 3] = (bits[bit >>> 3] as number) | (1 << (bit & 7));
      }
    }
    if (test.outcome === 'skipped') this.rememberId(this.skippedIds, test.id);
    if (test.outcome && test.outcome !== 'skipped') {
      if (this.failures.length < this.limits.maxTestFailures) this.failures.push(test);
      else this.failuresDropped++;
    }
    this.rememberSlow(test);
  }

  /**
   * Counts a passing test without its TestCaseRef when nothing about it is kept, which is the
   * common case: not a rerun of a test that failed in this report, not one of the slowest. Returns
   * false, counting nothing, when the test must go through `addTest` instead. `name` is the test's
   * name, as a string or anything that reads its characters (the bytes a parser kept).
   */
  countPassing(name: TestName, durationMs: number, rerunnable = true): boolean {
    if (rerunnable && this.failedInReport.size > 0) {
      const bit = nameFingerprint(name);
      if ((((this.failedNameBits[bit >>> 3] as number) >>> (bit & 7)) & 1) !== 0) return false;
    }
    const max = this.limits.slowestTests;
    const list = this.slowest;
    if (max > 0 && (list.length < max || (list[list.length - 1] as TestCaseRef).durationMs < durationMs)) return false;
    const counts = this.tests;
    counts.tests++;
    counts.durationMs += durationMs;
    counts.passed++;
    return true;
  }

  /**
   * Runners that rerun failed tests (gotestsum --rerun-fails, Gradle's retry plugin, jest-junit
   * with retries) write the test again. A failed test seen again in the same report is one test:
   * passing on the rerun makes it flaky, failing again keeps it failed.
   */
  private rerun(test: TestCaseRef): boolean {
    if (this.failedInReport.size === 0) return false;
    const bit = nameFingerprint(test.name);
    if ((((this.failedNameBits[bit >>> 3] as number) >>> (bit & 7)) & 1) === 0) return false;
    // Keyed by name (a flat attribute string, cheap to hash), then matched on the class.
    const first = this.failedInReport
      .get(test.name)
      ?.find((t) => t.classname === test.classname && t.suite === test.suite);
    if (!first || first.outcome === 'flaky') return false;
    const counts = this.tests;
    counts.durationMs += test.durationMs;
    if (test.outcome === 'failed' || test.outcome === 'errored') return true;
    if (first.outcome === 'failed') counts.failed--;
    else counts.errored--;
    counts.flaky++;
    counts.passed++;
    first.outcome = 'flaky';
    this.failedIds.delete(test.id);
    return true;
  }

  private rememberId(set: Set<string>, id: string): void {
    if (set.size < this.limits.maxTestIds) set.add(id);
    else this.testIdsTruncated = true;
  }

  private rememberSlow(test: TestCaseRef): void {
    const list = this.slowest;
    const max = this.limits.slowestTests;
    if (max <= 0) return;
    if (list.length >= max && (list[list.length - 1] as TestCaseRef).durationMs >= test.durationMs) return;
    // Keep only what a table of the slowest tests shows: no failure text.
    const kept: TestCaseRef = {
      id: test.id,
      name: test.name,
      classname: test.classname,
      durationMs: test.durationMs,
      report: test.report,
    };
    let i = list.length;
    while (i > 0 && (list[i - 1] as TestCaseRef).durationMs < test.durationMs) i--;
    list.splice(i, 0, kept);
    if (list.length > max) list.pop();
  }

  // ---- coverage

  /** Records a coverable line; repeated lines (several reports, several classes) merge. */
  addLine(file: FileCoverage, line: number, hits: number, branchTotal = 0, branchCovered = 0): void {
    if (!(line > 0)) return;
    if (line >= file.lines.length) grow(file, line);
    const lines = file.lines;
    if (hits > 0) lines[line] = COVERED;
    else if (lines[line] === NOT_COVERABLE) lines[line] = UNCOVERED;
    if (branchTotal > 0) {
      if (!file.branchTotal) {
        file.branchTotal = lineArray(lines.length, BRANCH_TOTALS);
        file.branchCovered = lineArray(lines.length, BRANCHES_COVERED);
      }
      const total = file.branchTotal;
      const covered = file.branchCovered as Uint8Array;
      total[line] = Math.max(total[line] as number, Math.min(branchTotal, 0xff));
      covered[line] = Math.max(covered[line] as number, Math.min(branchCovered, branchTotal, 0xff));
    }
  }

  fileCoverage(path: string): FileCoverage {
    const file = this.relativePath(path);
    let entry = this.coverage.get(file);
    if (!entry) {
      entry = { file, lines: lineArray(64, LINES) };
      this.coverage.set(file, entry);
    }
    return entry;
  }

  /** Adds everything another collector gathered (one report file) into this one. */
  addLoad(figures: LoadFigures): void {
    mergeLoadFigures(this.load, figures);
  }

  merge(other: Collector): void {
    this.addLoad(other.load);
    const t = this.tests;
    const o = other.tests;
    t.tests += o.tests;
    t.passed += o.passed;
    t.failed += o.failed;
    t.errored += o.errored;
    t.skipped += o.skipped;
    t.flaky += o.flaky;
    t.durationMs += o.durationMs;
    this.testReports += other.testReports;
    for (const f of other.failures) {
      if (this.failures.length < this.limits.maxTestFailures) this.failures.push(f);
      else this.failuresDropped++;
    }
    this.failuresDropped += other.failuresDropped;
    for (const id of other.failedIds) this.rememberId(this.failedIds, id);
    for (const id of other.skippedIds) this.rememberId(this.skippedIds, id);
    this.testIdsTruncated ||= other.testIdsTruncated;
    for (const s of other.slowest) this.rememberSlow(s);
    this.coverageReports += other.coverageReports;
    for (const [file, entry] of other.coverage) {
      const mine = this.coverage.get(file);
      if (!mine) {
        this.coverage.set(file, entry);
        continue;
      }
      for (let line = 1; line < entry.lines.length; line++) {
        const state = entry.lines[line] as number;
        if (state === NOT_COVERABLE) continue;
        this.addLine(
          mine,
          line,
          state === COVERED ? 1 : 0,
          entry.branchTotal?.[line] ?? 0,
          entry.branchCovered?.[line] ?? 0,
        );
      }
    }
    for (const tool of other.findingsTools) this.sawTool(tool);
    for (const [tool, counts] of other.findingCounts) {
      const mine = this.findingCounts.get(tool) ?? emptyLevelCounts();
      for (const key of Object.keys(counts) as (keyof LevelCounts)[]) mine[key] += counts[key];
      this.findingCounts.set(tool, mine);
    }
    this.findingsOnChangedLines += other.findingsOnChangedLines;
    for (const f of other.findings) {
      if (this.findings.length < this.limits.maxFindings) this.findings.push(f);
      else this.findingsDropped++;
    }
    this.findingsDropped += other.findingsDropped;
    this.scanErrorCount += other.scanErrorCount;
    for (const e of other.scanErrors) if (this.scanErrors.length < MAX_SCAN_ERRORS) this.scanErrors.push(e);
    for (const w of other.warnings) this.warnings.push(w);
  }

  addScanError(error: ScanError): void {
    if (error.file !== undefined) error.file = this.relativePath(error.file);
    error.reason = truncate(error.reason, this.limits.maxMessageChars);
    this.scanErrorCount++;
    if (this.scanErrors.length < MAX_SCAN_ERRORS) this.scanErrors.push(error);
    if (error.tool !== 'all') this.sawTool(error.tool);
  }

  // ---- findings

  addFinding(finding: Finding, more: ExtraLocation[] = []): void {
    if (finding.file !== undefined) finding.file = this.relativePath(finding.file);
    finding.message = truncate(finding.message, this.limits.maxMessageChars);
    if (
      this.changed &&
      (this.onChangedLines(finding.file, finding.line, finding.endLine) ||
        more.some((m) => this.onChangedLines(this.relativePath(m.file), m.line, m.endLine)))
    ) {
      finding.onChangedLine = true;
    }
    if (finding.onChangedLine) this.findingsOnChangedLines++;
    this.count(finding.tool, finding.severity, finding.security);
    this.count('all', finding.severity, finding.security);
    if (this.findings.length < this.limits.maxFindings) this.findings.push(finding);
    else this.findingsDropped++;
  }

  /**
   * Whether the next finding is kept in the list. Past `maxFindings` a finding is only counted,
   * so a parser of a large report counts the rest with `countFinding` instead of building them.
   */
  keepsFindings(): boolean {
    return this.findings.length < this.limits.maxFindings;
  }

  /**
   * Counts a finding that is not kept (see `keepsFindings`), as `addFinding` would have.
   * `onChangedLine`: whether it lies on a changed line (`onChangedLines`, on a pull request).
   */
  countFinding(tool: string, severity: Severity, security: SecuritySeverity | undefined, onChangedLine: boolean): void {
    if (onChangedLine) this.findingsOnChangedLines++;
    this.count(tool, severity, security);
    this.count('all', severity, security);
    this.findingsDropped++;
  }

  /** Whether lines `line` to `endLine` of `file` (repository-relative) hold a line the pull request changed. */
  onChangedLines(file: string | undefined, line: number | undefined, endLine: number | undefined): boolean {
    const lines = file !== undefined && line !== undefined ? this.changed?.get(file) : undefined;
    if (!lines || line === undefined) return false;
    const end = endLine ?? line;
    for (let l = line; l <= end && l < line + 1000; l++) if (lines.has(l)) return true;
    return false;
  }

  /** A tool ran and reported (possibly nothing): per-tool thresholds can then apply. */
  sawTool(tool: string): void {
    if (tool === 'all') return;
    this.findingsTools.add(tool);
    if (!this.findingCounts.has(tool)) this.findingCounts.set(tool, emptyLevelCounts());
  }

  private count(tool: string, severity: Severity, security: SecuritySeverity | undefined): void {
    if (tool !== 'all') this.sawTool(tool);
    const counts = this.findingCounts.get(tool) as LevelCounts;
    counts[severity]++;
    counts.total++;
    if (security) counts[security]++;
  }
}

const MAX_SCAN_ERRORS = 200;

/** The paths posix.normalize() changes: the empty path, and those with a "." or ".." or an empty segment. */
const NOT_NORMAL = /^$|(?:^|\/)\.\.?(?:\/|$)|\/\//;

/**
 * Size of the failed-name filter, in bits (a power of two): 128 KiB, so that with thousands of
 * failed names a passing test is still told apart from them by the filter alone (a false hit
 * sends it through addTest and the map look-up).
 */
const NAME_BITS = 1 << 20;

/** A few characters of a test name, mixed: names of one suite differ most at their ends. */
/** A test name's characters: a string, or what a parser kept of one without making the string. */
export interface TestName {
  readonly length: number;
  charCodeAt(index: number): number;
}

function nameFingerprint(name: TestName): number {
  const n = name.length;
  let h = Math.imul(n, 0x9e3779b1);
  for (let i = n > 6 ? n - 6 : 0; i < n; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  if (n > 0) h = Math.imul(h ^ name.charCodeAt(0), 0x01000193);
  return (h ^ (h >>> 16)) & (NAME_BITS - 1);
}

function grow(file: FileCoverage, line: number): void {
  let size = file.lines.length;
  while (size <= line) size *= 2;
  file.lines = resized(file.lines, size, LINES);
  if (file.branchTotal) {
    file.branchTotal = resized(file.branchTotal, size, BRANCH_TOTALS);
    file.branchCovered = resized(file.branchCovered as Uint8Array, size, BRANCHES_COVERED);
  }
}

/**
 * A report of many files grows tens of thousands of per-line arrays: each with its own buffer,
 * their allocation (and the collections it triggers) cost more than reading the report. Small
 * ones are views carved from shared 1 MiB slabs instead, one series of slabs per kind of array,
 * so the array being filled (a file's lines, read in order) is the last one carved from its slab
 * and grows in place; an array that cannot leaves its old bytes behind in the slab.
 */
interface Slab {
  buffer: ArrayBuffer;
  used: number;
}

const SLAB_BYTES = 1024 * 1024;
const LINES: Slab = { buffer: new ArrayBuffer(0), used: 0 };
const BRANCH_TOTALS: Slab = { buffer: new ArrayBuffer(0), used: 0 };
const BRANCHES_COVERED: Slab = { buffer: new ArrayBuffer(0), used: 0 };

function lineArray(size: number, slab: Slab = LINES): Uint8Array {
  if (size > SLAB_BYTES / 16) return new Uint8Array(size);
  if (slab.used + size > slab.buffer.byteLength) {
    slab.buffer = new ArrayBuffer(SLAB_BYTES);
    slab.used = 0;
  }
  const view = new Uint8Array(slab.buffer, slab.used, size);
  slab.used += size;
  return view;
}

/** `array` (carved from `slab`) with room for `size` lines, grown in place when it was carved last. */
function resized(array: Uint8Array, size: number, slab: Slab): Uint8Array {
  if (
    array.buffer === slab.buffer &&
    array.byteOffset + array.length === slab.used &&
    size <= SLAB_BYTES / 16 &&
    slab.used - array.length + size <= slab.buffer.byteLength
  ) {
    // Bytes past `used` were never handed out: still zero (not coverable).
    slab.used += size - array.length;
    return new Uint8Array(slab.buffer, array.byteOffset, size);
  }
  return copyInto(lineArray(size, slab), array);
}

function copyInto(target: Uint8Array, source: Uint8Array): Uint8Array {
  target.set(source);
  return target;
}

/** Outcome precedence when a test case carries several result elements. */
export function worseOutcome(a: TestOutcome | undefined, b: TestOutcome): TestOutcome {
  const rank: Record<TestOutcome, number> = { errored: 4, failed: 3, flaky: 2, skipped: 1 };
  return a === undefined || rank[b] > rank[a] ? b : a;
}

// The gate: reads every report, merges them, evaluates the thresholds, compares with a baseline,
// and returns one JSON-serialisable result that every presentation (summary, comment,
// annotations, terminal, `report` output) is made from. No @actions/*, no environment.
import { globSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, matchesGlob, relative, sep } from 'node:path';
import { InputError, silentLogger, type Logger } from '@adci/common';
import { Collector, emptyLevelCounts, type LevelCounts } from './collector.ts';
import type { Format } from './detect.ts';
import { ReportError } from './errors.ts';
import { parseReport } from './parse.ts';
import { countChangedLines, type ChangedLines } from './diff.ts';
import { compare, unitOf, type Threshold } from './thresholds.ts';
import { measureLoad, type LoadFigures } from './parsers/artillery.ts';
import {
  COVERED,
  NOT_COVERABLE,
  type Finding,
  type ScanError,
  type Limits,
  type TestCaseRef,
  type TestCounts,
} from './model.ts';

export const REPORT_SCHEMA = 'adci.quality-gate/v1';

export interface ReportPattern {
  pattern: string;
  format?: Format;
}

export interface GateSettings {
  /** Glob patterns relative to `root` (or absolute), each optionally with a format. */
  reports: ReportPattern[];
  /** Repository root: globs and repository-relative paths are resolved against it. */
  root: string;
  thresholds: Threshold[];
  /** Lines changed by the pull request; undefined when the run is not for a pull request. */
  changedLines?: ChangedLines;
  /** Why the changed lines of a pull request could not be computed. */
  changedLinesError?: string;
  /** Below this many changed coverable lines, coverage.diff does not gate (Sonar's fudge factor). */
  minChangedLines: number;
  /** A previous run's report, for deltas. */
  baseline?: GateReport;
  /** Skip malformed reports with a warning instead of failing. */
  ignoreMalformed: boolean;
  /** The name errors about the report patterns give them: "reports" (the input) or "--reports". */
  reportsName?: string;
  limits?: Partial<Limits>;
}

export interface ConditionResult {
  key: string;
  wanted: string;
  actual: string;
  /** The measured value, or null when it could not be measured. */
  value: number | null;
  passed: boolean;
  note?: string;
}

export interface Ratio {
  covered: number;
  total: number;
  /** Percentage, 0..100; null when nothing is coverable. */
  percent: number | null;
}

export interface FileCoverageSummary {
  file: string;
  lines: Ratio;
  branches: Ratio;
}

export interface GateReport {
  schema: typeof REPORT_SCHEMA;
  passed: boolean;
  conditions: ConditionResult[];
  reports: { path: string; format: string }[];
  skippedReports: { path: string; reason: string }[];
  tests: TestCounts & {
    reports: number;
    failures: TestCaseRef[];
    failuresDropped: number;
    slowest: TestCaseRef[];
    failedIds: string[];
    skippedIds: string[];
    idsTruncated: boolean;
  };
  coverage: {
    reports: number;
    lines: Ratio;
    branches: Ratio;
    diff: (Ratio & { uncovered: { file: string; lines: number[] }[] }) | null;
    packages: FileCoverageSummary[];
    /** Files, worst line coverage first (bounded). */
    files: FileCoverageSummary[];
    filesTotal: number;
  };
  findings: {
    tools: string[];
    counts: Record<string, LevelCounts>;
    onChangedLines: number;
    list: Finding[];
    dropped: number;
    /** tool|rule|file|message per finding, for new/fixed deltas against a later run. */
    fingerprints: string[];
    /** Parts the tools could not scan (count exact, list bounded). */
    scanErrors: { count: number; list: ScanError[] };
  };
  /** What a reader must know that is not a failed check (e.g. a suite without test cases). */
  warnings: string[];
  /** Load test figures from Artillery reports; null when none was read. */
  load: LoadFigures | null;
  changes: { files: number; lines: number; error?: string } | null;
  baseline: BaselineDelta | null;
}

export interface BaselineDelta {
  coverageLine: number | null;
  coverageBranch: number | null;
  newFindings: number;
  fixedFindings: number;
  newlyFailing: string[];
  newlySkipped: string[];
  testsDelta: number;
  /** True when either run kept only part of its test ids or findings. */
  approximate: boolean;
}

const MAX_FILES_KEPT = 200;

/**
 * Expands the report patterns into files, sorted, without duplicates; "!glob" lines exclude.
 * Every other line must match at least one file that no "!" line excludes: a report that is
 * missing is an input error, never a pass on the reports that are there. A file that resolves
 * outside the root (a symbolic link, "..", an absolute path) is refused before anything is read:
 * the files of a pull request must not make the gate read the runner's credentials.
 */
export function resolveReports(settings: Pick<GateSettings, 'reports' | 'root' | 'reportsName'>) {
  const name = settings.reportsName ?? 'reports';
  const files: { path: string; display: string; format?: Format }[] = [];
  const seen = new Set<string>();
  const excludes = settings.reports.filter((r) => r.pattern.startsWith('!')).map((r) => r.pattern.slice(1));
  const excluded = (rel: string): boolean => excludes.some((x) => matchesGlob(rel, x));
  let realRoot: string | undefined;
  for (const { pattern, format } of settings.reports) {
    if (pattern.startsWith('!')) continue;
    const matches = globSync(pattern, { cwd: settings.root })
      .map((m) => (isAbsolute(m) ? m : join(settings.root, m)))
      .filter((m) => {
        try {
          return statSync(m).isFile();
        } catch {
          return false;
        }
      })
      .sort();
    let kept = 0;
    for (const path of matches) {
      const rel = relative(settings.root, path).split(sep).join('/');
      if (excluded(rel)) continue;
      kept++;
      if (seen.has(path)) continue;
      const display = rel.startsWith('..') || isAbsolute(rel) ? path : rel;
      realRoot ??= realpathSync(settings.root);
      const real = realpathSync(path);
      const inside = relative(realRoot, real);
      if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
        throw new InputError(
          name,
          `'${pattern}' matches ${display}, which resolves to ${real}, outside the root ${settings.root}: reports are read only from inside it`,
        );
      }
      seen.add(path);
      files.push({ path, display, format });
    }
    if (kept === 0) {
      const why =
        matches.length > 0
          ? `its ${matches.length} match(es) are excluded by a ! line`
          : 'every line must match a report (a report that is missing is not a pass)';
      throw new InputError(name, `'${pattern}' matched no file under ${settings.root}: ${why}`);
    }
  }
  return files;
}

/** Parses every report and evaluates the gate. */
export async function runGate(settings: GateSettings, logger: Logger = silentLogger): Promise<GateReport> {
  const files = resolveReports(settings);
  if (files.length === 0) {
    throw new InputError(
      settings.reportsName ?? 'reports',
      `no report files matched ${settings.reports.map((r) => `'${r.pattern}'`).join(', ')} under ${settings.root}`,
    );
  }
  const collector = new Collector(settings.root, settings.changedLines, settings.limits);
  const reports: GateReport['reports'] = [];
  const skippedReports: GateReport['skippedReports'] = [];
  for (const file of files) {
    // Each file is read into its own collector, so a file that breaks halfway adds nothing.
    const one = new Collector(settings.root, settings.changedLines, collector.limits, dirname(file.path));
    try {
      const parsed = await parseReport(file.path, one, file.format, file.display);
      collector.merge(one);
      reports.push(parsed);
      logger.debug(`read ${parsed.path} as ${parsed.format}`);
    } catch (error) {
      if (!(error instanceof ReportError)) throw error;
      if (!settings.ignoreMalformed) throw error;
      logger.warning(`skipped malformed report ${error.message}`);
      skippedReports.push({ path: file.display, reason: error.message });
    }
  }
  return evaluate(collector, settings, reports, skippedReports);
}

function ratio(covered: number, total: number): Ratio {
  return { covered, total, percent: total > 0 ? (covered / total) * 100 : null };
}

function summarise(collector: Collector): { files: FileCoverageSummary[]; lines: Ratio; branches: Ratio } {
  const files: FileCoverageSummary[] = [];
  let lc = 0;
  let lt = 0;
  let bc = 0;
  let bt = 0;
  for (const entry of collector.coverage.values()) {
    let covered = 0;
    let total = 0;
    const lines = entry.lines;
    for (let i = 0; i < lines.length; i++) {
      const s = lines[i];
      if (s === NOT_COVERABLE) continue;
      total++;
      if (s === COVERED) covered++;
    }
    let fbc = 0;
    let fbt = 0;
    if (entry.branchTotal && entry.branchCovered) {
      for (let i = 0; i < entry.branchTotal.length; i++) {
        fbt += entry.branchTotal[i] as number;
        fbc += entry.branchCovered[i] as number;
      }
    }
    lc += covered;
    lt += total;
    bc += fbc;
    bt += fbt;
    files.push({ file: entry.file, lines: ratio(covered, total), branches: ratio(fbc, fbt) });
  }
  return { files, lines: ratio(lc, lt), branches: ratio(bc, bt) };
}

/** Coverage entry for a changed path: exact, else a path-suffix match (JaCoCo, foreign roots). */
function coverageFor(collector: Collector, path: string) {
  const exact = collector.coverage.get(path);
  if (exact) return exact;
  for (const [file, entry] of collector.coverage) {
    if (path.endsWith(`/${file}`) || file.endsWith(`/${path}`)) return entry;
  }
  return undefined;
}

function diffCoverage(collector: Collector, changed: ChangedLines): NonNullable<GateReport['coverage']['diff']> {
  let covered = 0;
  let total = 0;
  const uncovered: { file: string; lines: number[] }[] = [];
  for (const [path, lines] of changed) {
    const entry = coverageFor(collector, path);
    if (!entry) continue;
    const missed: number[] = [];
    for (const line of [...lines].sort((a, b) => a - b)) {
      const state = entry.lines[line];
      if (state === undefined || state === NOT_COVERABLE) continue;
      total++;
      if (state === COVERED) covered++;
      else missed.push(line);
    }
    if (missed.length > 0) uncovered.push({ file: path, lines: missed });
  }
  return { ...ratio(covered, total), uncovered };
}

function packageOf(file: string): string {
  const slash = file.lastIndexOf('/');
  return slash === -1 ? '.' : file.slice(0, slash);
}

function fingerprint(f: Finding): string {
  return `${f.tool}|${f.rule}|${f.file ?? ''}|${f.message}`;
}

function evaluate(
  collector: Collector,
  settings: GateSettings,
  reports: GateReport['reports'],
  skippedReports: GateReport['skippedReports'],
): GateReport {
  const { files, lines, branches } = summarise(collector);
  const byPackage = new Map<string, FileCoverageSummary>();
  for (const f of files) {
    const key = packageOf(f.file);
    const p = byPackage.get(key) ?? { file: key, lines: ratio(0, 0), branches: ratio(0, 0) };
    byPackage.set(key, {
      file: key,
      lines: ratio(p.lines.covered + f.lines.covered, p.lines.total + f.lines.total),
      branches: ratio(p.branches.covered + f.branches.covered, p.branches.total + f.branches.total),
    });
  }
  const measured = files.filter((f) => f.lines.total > 0);
  measured.sort((a, b) => (a.lines.percent as number) - (b.lines.percent as number) || a.file.localeCompare(b.file));
  const diff = settings.changedLines ? diffCoverage(collector, settings.changedLines) : null;
  const counts = Object.fromEntries(collector.findingCounts) as Record<string, LevelCounts>;
  const all = counts.all ?? emptyLevelCounts();

  const report: GateReport = {
    schema: REPORT_SCHEMA,
    passed: true,
    conditions: [],
    reports,
    skippedReports,
    tests: {
      ...collector.tests,
      reports: collector.testReports,
      failures: collector.failures,
      failuresDropped: collector.failuresDropped,
      slowest: collector.slowest,
      failedIds: [...collector.failedIds],
      skippedIds: [...collector.skippedIds],
      idsTruncated: collector.testIdsTruncated,
    },
    coverage: {
      reports: collector.coverageReports,
      lines,
      branches,
      diff,
      packages: [...byPackage.values()].sort((a, b) => a.file.localeCompare(b.file)),
      files: measured.slice(0, MAX_FILES_KEPT),
      filesTotal: measured.length,
    },
    findings: {
      tools: [...collector.findingsTools].sort(),
      counts,
      onChangedLines: collector.findingsOnChangedLines,
      list: sortFindings(collector.findings),
      dropped: collector.findingsDropped,
      fingerprints: collector.findings.map(fingerprint),
      scanErrors: { count: collector.scanErrorCount, list: collector.scanErrors },
    },
    warnings: [...collector.warnings],
    load: collector.load.reports > 0 ? collector.load : null,
    changes: settings.changedLines
      ? { files: settings.changedLines.size, lines: countChangedLines(settings.changedLines) }
      : settings.changedLinesError
        ? { files: 0, lines: 0, error: settings.changedLinesError }
        : null,
    baseline: null,
  };
  if (settings.thresholds.length === 0) {
    throw new InputError('thresholds', 'holds no checks: a gate with nothing to check would always pass');
  }
  report.conditions = withImpliedThresholds(settings.thresholds, report).map((t) =>
    evaluateCondition(t, report, all, settings, measured),
  );
  if (collector.scanErrorCount > 0) {
    const tools = [...new Set(collector.scanErrors.map((e) => e.tool))].join(', ');
    report.warnings.push(`${collector.scanErrorCount} part(s) could not be scanned (${tools}): see "Not scanned"`);
  }
  report.passed = report.conditions.every((c) => c.passed);
  if (settings.baseline) report.baseline = compareBaseline(report, settings.baseline);
  return report;
}

/**
 * Findings gated while a tool could not scan part of the code: the count is incomplete, so
 * `findings.scan-errors: 0` is implied unless the thresholds name it.
 */
function withImpliedThresholds(thresholds: Threshold[], report: GateReport): Threshold[] {
  if (report.findings.scanErrors.count === 0 || thresholds.some((t) => t.key === 'findings.scan-errors'))
    return thresholds;
  const gatesFindings = thresholds.some(
    (t) => !t.key.startsWith('tests.') && !t.key.startsWith('coverage.') && !t.key.startsWith('load.'),
  );
  if (!gatesFindings) return thresholds;
  return [
    ...thresholds,
    { key: 'findings.scan-errors', operator: '<=', value: 0, text: '<= 0 (implied: findings are gated)' },
  ];
}

/** Errors first, then findings on changed lines, then by file and line. */
export function sortFindings(findings: Finding[]): Finding[] {
  const rank = { error: 0, warning: 1, note: 2 };
  return [...findings].sort(
    (a, b) =>
      rank[a.severity] - rank[b.severity] ||
      Number(Boolean(b.onChangedLine)) - Number(Boolean(a.onChangedLine)) ||
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0),
  );
}

function formatValue(key: string, value: number): string {
  const unit = unitOf(key);
  if (unit === 'ms') return `${Math.round(value * 10) / 10}ms`;
  if (unit === 'rate') return `${Math.round(value * 100) / 100}/s`;
  return unit === 'percent' ? `${(Math.floor(value * 100 + 1e-9) / 100).toFixed(2)}%` : String(value);
}

function evaluateCondition(
  t: Threshold,
  r: GateReport,
  all: LevelCounts,
  s: GateSettings,
  /** Every file with coverable lines, worst first (the report keeps only the worst ones). */
  measuredFiles: FileCoverageSummary[],
): ConditionResult {
  const wanted = t.text;
  const measure = (value: number, note?: string): ConditionResult => ({
    key: t.key,
    wanted,
    actual: formatValue(t.key, value),
    value,
    passed: compare(value, t),
    note,
  });
  const missing = (actual: string, note: string, passed = false): ConditionResult => ({
    key: t.key,
    wanted,
    actual,
    value: null,
    passed,
    note,
  });
  const [group, level] = t.key.split('.') as [string, string];
  const tests = r.tests;
  switch (t.key) {
    case 'tests.min':
      return measure(tests.tests, tests.reports === 0 ? 'no test reports were read' : undefined);
    case 'tests.failed':
      return measure(tests.failed + tests.errored);
    case 'tests.errored':
      return measure(tests.errored);
    case 'tests.skipped':
      return measure(tests.skipped);
    case 'tests.flaky':
      return measure(tests.flaky);
    case 'tests.pass-rate': {
      const ran = tests.tests - tests.skipped;
      return ran > 0 ? measure((tests.passed / ran) * 100) : missing('no tests ran', 'no tests ran');
    }
    case 'coverage.line':
    case 'coverage.branch': {
      const ratioOf = level === 'line' ? r.coverage.lines : r.coverage.branches;
      if (r.coverage.reports === 0) return missing('no coverage', 'no coverage report was read');
      if (ratioOf.percent === null) return missing('nothing coverable', `the coverage reports have no ${level} data`);
      return measure(ratioOf.percent);
    }
    case 'coverage.file': {
      if (r.coverage.reports === 0) return missing('no coverage', 'no coverage report was read');
      const worst = r.coverage.files[0];
      if (!worst) return missing('nothing coverable', 'no file has coverable lines');
      const below = measuredFiles.filter((f) => !compare(f.lines.percent as number, t)).length;
      return measure(
        worst.lines.percent as number,
        below > 0 ? `${below} file(s) below, worst: ${worst.file}` : `worst: ${worst.file}`,
      );
    }
    case 'coverage.diff': {
      if (s.changedLinesError) return missing('unknown', `changed lines unknown: ${s.changedLinesError}`);
      const diff = r.coverage.diff;
      if (!diff) return missing('n/a', 'not a pull request: no changed lines to gate', true);
      if (r.coverage.reports === 0) return missing('no coverage', 'no coverage report was read');
      if (diff.total < s.minChangedLines) {
        return {
          ...missing(
            diff.percent === null ? 'n/a' : formatValue(t.key, diff.percent),
            `${diff.total} changed coverable line(s), fewer than min-changed-lines (${s.minChangedLines}): not gated`,
            true,
          ),
          value: diff.percent,
        };
      }
      return measure(diff.percent as number, `${diff.covered}/${diff.total} changed lines covered`);
    }
    case 'findings.scan-errors':
      if (r.findings.tools.length === 0) return missing('no findings reports', 'no lint or security report was read');
      return measure(
        r.findings.scanErrors.count,
        r.findings.scanErrors.list[0]
          ? `e.g. ${r.findings.scanErrors.list[0].tool}: ${[r.findings.scanErrors.list[0].file, r.findings.scanErrors.list[0].reason].filter(Boolean).join(': ')}`
          : undefined,
      );
    case 'findings.new':
      if (s.changedLinesError) return missing('unknown', `changed lines unknown: ${s.changedLinesError}`);
      if (!s.changedLines) return missing('n/a', 'not a pull request: no changed lines to gate', true);
      if (r.findings.tools.length === 0) return missing('no findings reports', 'no lint or security report was read');
      return measure(r.findings.onChangedLines);
    default:
      break;
  }
  if (group === 'load') {
    const m = measureLoad(t.key, r.load);
    return 'missing' in m ? missing('no load figures', m.missing) : measure(m.value, m.note);
  }
  if (group === 'findings' || group === 'security') {
    if (r.findings.tools.length === 0) return missing('no findings reports', 'no lint or security report was read');
    return measure(all[level as keyof LevelCounts]);
  }
  const toolCounts = r.findings.counts[group];
  if (!toolCounts) return missing(`no ${group} report`, `no report from '${group}' was read`);
  return measure(toolCounts[level as keyof LevelCounts]);
}

function compareBaseline(current: GateReport, baseline: GateReport): BaselineDelta {
  const delta = (a: number | null, b: number | null | undefined): number | null =>
    a === null || b === null || b === undefined ? null : a - b;
  const before = new Map<string, number>();
  for (const f of baseline.findings?.fingerprints ?? []) before.set(f, (before.get(f) ?? 0) + 1);
  let newFindings = 0;
  const remaining = new Map(before);
  for (const f of current.findings.fingerprints) {
    const n = remaining.get(f) ?? 0;
    if (n > 0) remaining.set(f, n - 1);
    else newFindings++;
  }
  let fixedFindings = 0;
  for (const n of remaining.values()) fixedFindings += n;
  const failedBefore = new Set(baseline.tests?.failedIds ?? []);
  const skippedBefore = new Set(baseline.tests?.skippedIds ?? []);
  return {
    coverageLine: delta(current.coverage.lines.percent, baseline.coverage?.lines?.percent),
    coverageBranch: delta(current.coverage.branches.percent, baseline.coverage?.branches?.percent),
    newFindings,
    fixedFindings,
    newlyFailing: current.tests.failedIds.filter((id) => !failedBefore.has(id)),
    newlySkipped: current.tests.skippedIds.filter((id) => !skippedBefore.has(id)),
    testsDelta: current.tests.tests - (baseline.tests?.tests ?? 0),
    approximate:
      current.tests.idsTruncated ||
      Boolean(baseline.tests?.idsTruncated) ||
      current.findings.dropped > 0 ||
      (baseline.findings?.dropped ?? 0) > 0,
  };
}

/** Validates a parsed JSON value as a previous run's report. */
export function readBaseline(value: unknown, source: string): GateReport {
  if (typeof value !== 'object' || value === null || (value as { schema?: unknown }).schema !== REPORT_SCHEMA) {
    throw new InputError(source, `not a quality-gate report (expected "schema": "${REPORT_SCHEMA}")`);
  }
  return value as GateReport;
}

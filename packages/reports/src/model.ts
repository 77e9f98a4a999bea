// The normalised data every parser produces and the gate reads: test counts, coverage per file,
// findings. Parsers add to one Collector, so any mix of reports merges into one picture and
// memory stays bounded by what is kept (counts, capped lists), not by the size of the files.

export type Severity = 'error' | 'warning' | 'note';
export type SecuritySeverity = 'critical' | 'high' | 'medium' | 'low';
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'note'];
export const SECURITY_SEVERITIES: readonly SecuritySeverity[] = ['critical', 'high', 'medium', 'low'];

export interface Finding {
  tool: string;
  rule: string;
  severity: Severity;
  security?: SecuritySeverity;
  /** Repository-relative path with forward slashes, when the tool names a file. */
  file?: string;
  line?: number;
  endLine?: number;
  message: string;
  /** True when the finding lies on a line the pull request changed (any of its locations). */
  onChangedLine?: boolean;
}

/** A part the tool could not scan (bandit's `errors`, pip-audit's `skip_reason`): never a clean result. */
export interface ScanError {
  tool: string;
  file?: string;
  reason: string;
}

/** Further locations of a finding (SARIF results may have several), for changed-line matching. */
export interface ExtraLocation {
  file: string;
  line: number;
  endLine?: number;
}

export type TestOutcome = 'failed' | 'errored' | 'skipped' | 'flaky';

export interface TestCaseRef {
  /** classname + name, the stable identity used for deltas. */
  id: string;
  /** The suite holding it: the same class and name in two suites are two tests. */
  suite?: string;
  name: string;
  classname: string;
  file?: string;
  line?: number;
  durationMs: number;
  outcome?: TestOutcome;
  message?: string;
  /** The start of the failure text (stack trace), bounded. */
  details?: string;
  report: string;
}

export interface TestCounts {
  tests: number;
  passed: number;
  failed: number;
  errored: number;
  skipped: number;
  flaky: number;
  durationMs: number;
}

/** Line states in FileCoverage.lines: one byte per line keeps million-line reports small. */
export const NOT_COVERABLE = 0;
export const UNCOVERED = 1;
export const COVERED = 2;

/** Per-file line coverage, indexed by line number, growing as lines are seen. */
export interface FileCoverage {
  file: string;
  lines: Uint8Array;
  /** Branches per line, total and covered (capped at 255), when the format gives them. */
  branchTotal?: Uint8Array;
  branchCovered?: Uint8Array;
}

export interface Limits {
  /** Most failed/errored/flaky/skipped tests kept with details. */
  maxTestFailures: number;
  /** Most test ids kept per outcome for deltas against a baseline. */
  maxTestIds: number;
  /** Most findings kept individually (counts are always exact). */
  maxFindings: number;
  /** Most characters kept of one failure message or finding message. */
  maxMessageChars: number;
  /** Most characters of failure text (stack trace) kept per failure. */
  maxDetailChars: number;
  /** How many slowest tests are kept. */
  slowestTests: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxTestFailures: 500,
  maxTestIds: 5000,
  maxFindings: 20000,
  maxMessageChars: 1000,
  maxDetailChars: 4000,
  slowestTests: 10,
};

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

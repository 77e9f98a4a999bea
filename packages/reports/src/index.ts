// Report parsers and gate evaluation for quality-gate: tests, coverage and findings from many
// tools' files, thresholds, changed lines, baselines, and renderings within GitHub's limits.
export { runGate, resolveReports, readBaseline, sortFindings, REPORT_SCHEMA } from './gate.ts';
export type {
  GateReport,
  GateSettings,
  ReportPattern,
  ConditionResult,
  Ratio,
  FileCoverageSummary,
  BaselineDelta,
} from './gate.ts';
export { FORMATS, detectFormat, type Format } from './detect.ts';
export { parseThresholds, parseCondition, THRESHOLD_KEYS, DEFAULT_THRESHOLDS, type Threshold } from './thresholds.ts';
export { parseUnifiedDiff, gitDiffArgs, countChangedLines, type ChangedLines } from './diff.ts';
export { ReportError } from './errors.ts';
export { parseReportPatterns } from './patterns.ts';
export {
  gateSettings,
  GATE_DEFAULTS,
  type GateSettingsSource,
  type GateSettingName,
  type GateSettingNamer,
} from './settings.ts';
export type { Finding, ScanError, Severity, SecuritySeverity, TestCaseRef, TestCounts } from './model.ts';
export {
  renderMarkdown,
  renderComment,
  COMMENT_MARKER_PREFIX,
  SUMMARY_LIMIT_BYTES,
  COMMENT_LIMIT_CHARS,
} from './render/markdown.ts';
export { renderTerminal } from './render/terminal.ts';
export { selectAnnotations, type Annotation } from './render/annotations.ts';
export { Collector } from './collector.ts';
export { parseReport } from './parse.ts';

// The quality gate's settings, built once for the action's inputs and `adci gate`'s flags: report
// patterns, thresholds (with the documented default), the changed-lines floor and the baseline.
// Every error names the setting as the front end spells it (`baseline` or `--baseline`).
import { InputError } from '@adci/common';
import { readBaseline, type GateReport, type GateSettings } from './gate.ts';
import { parseReportPatterns } from './patterns.ts';
import { DEFAULT_THRESHOLDS, parseThresholds } from './thresholds.ts';

export type GateSettingName = 'reports' | 'thresholds' | 'thresholds-file' | 'min-changed-lines' | 'baseline';
/** How a front end spells a setting in messages: `baseline` (action input) or `--baseline` (CLI flag). */
export type GateSettingNamer = (name: GateSettingName) => string;

export const GATE_DEFAULTS = { minChangedLines: 20 } as const;

export interface GateSettingsSource {
  root: string;
  reports: readonly string[];
  /**
   * The thresholds as YAML. Undefined when none were given: the default applies. Empty when given
   * empty (an unset `${{ vars.X }}`): the default applies, and its verdict says the setting was empty.
   */
  thresholds?: string;
  /** The thresholds were read from a file (`thresholds-file`), so messages name that setting. */
  thresholdsFromFile?: boolean;
  /** As written; '' for the default. */
  minChangedLines: string;
  /** A previous run's JSON report, as read: its file and text. */
  baseline?: { file: string; text: string };
  ignoreMalformed: boolean;
}

export type GateSourceSettings = Omit<GateSettings, 'changedLines' | 'changedLinesError' | 'limits'> & {
  /** The thresholds were not given (or given empty): the default applies. */
  thresholdsDefaulted: boolean;
};

function baselineOf(baseline: { file: string; text: string }, name: string): GateReport {
  let value: unknown;
  try {
    value = JSON.parse(baseline.text);
  } catch (error) {
    throw new InputError(name, `'${baseline.file}' is not JSON: ${(error as Error).message}`);
  }
  return readBaseline(value, name);
}

/** Validates and assembles the gate's settings; the first bad one throws an InputError naming it. */
export async function gateSettings(
  source: GateSettingsSource,
  name: GateSettingNamer = (n) => n,
): Promise<GateSourceSettings> {
  const thresholdsName = name(source.thresholdsFromFile ? 'thresholds-file' : 'thresholds');
  const reports = parseReportPatterns(source.reports, name('reports'));
  const thresholds = await parseThresholds(source.thresholds ?? DEFAULT_THRESHOLDS, thresholdsName);
  const min = source.minChangedLines.trim();
  const minChangedLines = min === '' ? GATE_DEFAULTS.minChangedLines : Number(min);
  if (!Number.isInteger(minChangedLines) || minChangedLines < 0) {
    throw new InputError(name('min-changed-lines'), `'${min}' is not an integer >= 0`);
  }
  return {
    reports,
    reportsName: name('reports'),
    root: source.root,
    thresholds,
    thresholdsDefaulted: (source.thresholds ?? '').trim() === '',
    minChangedLines,
    baseline: source.baseline ? baselineOf(source.baseline, name('baseline')) : undefined,
    ignoreMalformed: source.ignoreMalformed,
  };
}

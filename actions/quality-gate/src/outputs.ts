// The step's outputs and the JSON report file (also the input of a later run's `baseline`).
import * as core from '@actions/core';
import { writeReportFile } from '@adci/common';
import type { GateReport } from '@adci/reports';

const percent = (value: number | null | undefined): string =>
  value === null || value === undefined ? '' : (Math.floor(value * 100) / 100).toFixed(2);

export function writeOutputs(report: GateReport, reportFile: string): void {
  writeReportFile(reportFile, `${JSON.stringify(report, null, 1)}\n`);
  const all = report.findings.counts.all;
  core.setOutput('passed', String(report.passed));
  core.setOutput('tests-failed', String(report.tests.failed + report.tests.errored));
  core.setOutput('coverage-line', report.coverage.reports > 0 ? percent(report.coverage.lines.percent) : '');
  core.setOutput('coverage-diff', percent(report.coverage.diff?.percent));
  core.setOutput('findings-error', String(all?.error ?? 0));
  core.setOutput('security-high', String(all?.high ?? 0));
  core.setOutput('report', reportFile);
}

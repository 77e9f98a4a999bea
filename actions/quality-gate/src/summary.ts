// The job summary: the engine's Markdown, within the 1 MiB a step's summary may hold (above it
// GitHub drops the summary entirely).
import * as core from '@actions/core';
import { renderMarkdown, SUMMARY_LIMIT_BYTES, type GateReport } from '@adci/reports';

export async function writeSummary(report: GateReport, title: string, reportFile: string): Promise<void> {
  // Leave room for anything an earlier command of the same step appended.
  const markdown = renderMarkdown(report, {
    title,
    limit: SUMMARY_LIMIT_BYTES - 16 * 1024,
    fullReportHint: `the report file (${reportFile}, the \`report\` output)`,
  });
  await core.summary.addRaw(markdown, true).write();
}

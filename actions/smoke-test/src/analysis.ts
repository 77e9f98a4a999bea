// smoke-test's `analysis` input: a metric analysis against Prometheus run alongside the checks and
// the load phase, so a load phase is judged by the server's own metrics as well as the client's.
import * as core from '@actions/core';
import type { Logger, Redactor } from '@adci/common';
import type { AnalysisInputs } from './inputs.ts';
import type { AnalysisResult } from '@adci/analysis';

/** Parses (an input error names file:line) and starts the analysis; resolves its result. */
export async function startAnalysis(
  inputs: AnalysisInputs,
  ports: { logger: Logger; redactor: Redactor; signal: AbortSignal; env: (name: string) => string | undefined },
): Promise<() => Promise<AnalysisResult>> {
  const { analysisSettings, runAnalysis } = await import('@adci/analysis');
  const settings = analysisSettings(inputs);
  ports.redactor.add(inputs.prometheusToken);
  const running = runAnalysis(settings, ports);
  running.catch(() => undefined); // awaited by the caller after the checks
  return () => running;
}

export async function reportAnalysis(result: AnalysisResult, redactor: Redactor): Promise<void> {
  const { renderAnalysisMarkdown, renderAnalysisText } = await import('@adci/analysis');
  core.info(redactor.redact(renderAnalysisText(result)));
  core.setOutput('analysis', result.passed ? 'passed' : 'failed');
  await core.summary.addRaw(redactor.redact(renderAnalysisMarkdown(result, '##')), true).write();
}

// smoke-test's `analysis` input: a metric analysis against Prometheus run alongside the checks and
// the load phase, so a load phase is judged by the server's own metrics as well as the client's.
import * as core from '@actions/core';
import { readInputFile, readString, readStringMap } from '@adci/action-common';
import { InputError, type Logger, type Redactor } from '@adci/common';
import type { AnalysisResult } from '@adci/analysis';

export interface AnalysisInputs {
  file: string;
  text: string;
  prometheusUrl?: string;
  prometheusToken?: string;
  vars: Record<string, string>;
}

/** A password in the URL (basic auth) is a secret like the token. */
export function maskUrlPassword(url: string | undefined): void {
  if (!url) return;
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) core.setSecret(password);
  } catch {
    // not a URL: the engine says so, naming the input
  }
}

export async function readAnalysisInputs(workspace: string): Promise<AnalysisInputs | undefined> {
  const input = readInputFile('analysis', workspace);
  const prometheusUrl = readString('prometheus-url') || undefined;
  const prometheusToken = readString('prometheus-token') || undefined;
  if (prometheusToken) core.setSecret(prometheusToken);
  maskUrlPassword(prometheusUrl);
  if (!input) {
    if (prometheusUrl) throw new InputError('prometheus-url', 'is given without an analysis file to run');
    return undefined;
  }
  return { ...input, prometheusUrl, prometheusToken, vars: await readStringMap('analysis-vars') };
}

/** Parses (an input error names file:line) and starts the analysis; resolves its result. */
export async function startAnalysis(
  inputs: AnalysisInputs,
  ports: { logger: Logger; redactor: Redactor; signal: AbortSignal; env: (name: string) => string | undefined },
): Promise<() => Promise<AnalysisResult>> {
  const { parseAnalysisDocument, runAnalysis } = await import('@adci/analysis');
  const document = parseAnalysisDocument(inputs.text, 'analysis', inputs.file, {
    placeholders: Object.keys(inputs.vars),
  });
  if (!document.prometheus && !inputs.prometheusUrl) {
    throw new InputError('analysis', `${inputs.file} names no prometheus: URL; give one there or in prometheus-url`);
  }
  ports.redactor.add(inputs.prometheusToken);
  const running = runAnalysis(
    {
      document,
      vars: inputs.vars,
      prometheusUrl: inputs.prometheusUrl,
      auth: inputs.prometheusToken ? { bearerToken: inputs.prometheusToken } : undefined,
    },
    ports,
  );
  running.catch(() => undefined); // awaited by the caller after the checks
  return () => running;
}

export async function reportAnalysis(result: AnalysisResult, redactor: Redactor): Promise<void> {
  const { renderAnalysisMarkdown, renderAnalysisText } = await import('@adci/analysis');
  core.info(redactor.redact(renderAnalysisText(result)));
  core.setOutput('analysis', result.passed ? 'passed' : 'failed');
  await core.summary.addRaw(redactor.redact(renderAnalysisMarkdown(result, '##')), true).write();
}

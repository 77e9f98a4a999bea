// The smoke-test step: inputs -> probe engine -> report files, outputs, summary, annotations.
import * as core from '@actions/core';
import { Redactor, errorMessage, redactingLogger, writeReportFile } from '@adci/common';
import { cancellationSignal, coreLogger, runAction, workspaceDir } from '@adci/action-common';
import { describeFailure, runSmoke, smokeFailureMessage, toJUnitXml, type SmokeResult } from '@adci/probe';
// Shards (and the histogram library they encode with) load only in merge or shard mode.
import type { CapturedHistogram } from '@adci/probe/shards';
import { readAnalysisInputs, readInputs, readMergeInputs, type MergeInputs } from './inputs.ts';
import { reportAnalysis, startAnalysis } from './analysis.ts';
import type { AnalysisResult } from '@adci/analysis';
import { annotate, setOutputs, writeSummary } from './summary.ts';

/**
 * The result as shown: every string passed through the redactor (registered secrets, URL
 * credentials and secret-named query parameters), so the summary, annotations, log lines, JUnit
 * and the report are all made from text that is already clean.
 */
function shownResult(result: SmokeResult, redactor: Redactor): SmokeResult {
  return JSON.parse(redactor.redact(JSON.stringify(result))) as SmokeResult;
}

/** A failure whose message (and stack, logged as debug) may quote a URL, redacted. */
function redactedError(error: unknown, redactor: Redactor): Error {
  const redacted = new Error(redactor.redact(errorMessage(error)));
  redacted.stack = error instanceof Error && error.stack ? redactor.redact(error.stack) : '';
  return redacted;
}

/** Merge mode: judges the shards' merged results; sends no request. */
async function runMerge(merge: MergeInputs, redactor: Redactor): Promise<void> {
  core.info(`merging ${merge.files.length} shard results from ${merge.source}`);
  const { mergeShards } = await import('@adci/probe/shards');
  const result = mergeShards(merge.files, merge.source, 'merge');
  return finish(result, merge.reportFile, merge.junitFile, redactor);
}

async function finish(
  raw: SmokeResult,
  reportFile: string,
  junitFile: string | undefined,
  redactor: Redactor,
  analysis?: () => Promise<AnalysisResult>,
) {
  const result = shownResult(raw, redactor);
  writeReportFile(reportFile, `${JSON.stringify(result, null, 2)}\n`);
  if (junitFile) writeReportFile(junitFile, redactor.redact(toJUnitXml(result)));
  setOutputs(result, reportFile);
  annotate(result, redactor);
  await writeSummary(result, redactor);
  const analysed = analysis ? await analysis() : undefined;
  if (analysed) await reportAnalysis(analysed, redactor);
  if (!result.passed) throw new Error(redactor.redact(smokeFailureMessage(result)));
  if (analysed && !analysed.passed) throw new Error(redactor.redact(`analysis failed: ${analysed.message}`));
  core.info(`Smoke test passed: ${result.counts.passed} checks and thresholds`);
}

export async function run(): Promise<void> {
  const redactor = new Redactor();
  await runAction(async () => {
    try {
      await main(redactor);
    } catch (error) {
      throw redactedError(error, redactor);
    }
  });
}

async function main(redactor: Redactor): Promise<void> {
  const logger = redactingLogger(coreLogger, redactor);
  const merge = await readMergeInputs();
  if (merge) return runMerge(merge, redactor);
  const inputs = await readInputs();
  inputs.secrets.forEach((s) => redactor.add(s));
  let histogram: CapturedHistogram | undefined;
  const signal = cancellationSignal();
  const shards = inputs.engine.shard ? await import('@adci/probe/shards') : undefined;
  const analysisInputs = await readAnalysisInputs(workspaceDir());
  const analysis = analysisInputs
    ? await startAnalysis(analysisInputs, { logger, redactor, signal, env: inputs.env })
    : undefined;
  const result = await runSmoke(inputs.engine, {
    logger,
    redactor,
    signal,
    env: inputs.env,
    onLoadProgress: (p) =>
      core.info(`  t=${p.second}s  ${p.requests} req  ${p.errors} err  p50 ${p.p50}ms  p95 ${p.p95}ms  p99 ${p.p99}ms`),
    ...(shards ? { onLoadHistogram: (h) => (histogram = shards.captureHistogram(h)) } : {}),
  });
  const shard = inputs.engine.shard;
  if (shard && shards && inputs.shardDir) {
    const file = shards.writeShardResult({
      dir: inputs.shardDir,
      shard,
      plan: shard.plan,
      result,
      ...(histogram ? { histogram } : {}),
      ...(inputs.run ? { run: inputs.run } : {}),
      redact: (text) => redactor.redact(text),
    });
    core.setOutput('shard-dir', inputs.shardDir);
    core.info(
      `shard ${shard.index}/${shard.count} results: ${file} (thresholds are judged when the shards are merged)`,
    );
  }
  for (const check of shownResult(result, redactor).checks) {
    const line = `${check.outcome.padEnd(7)} ${check.name}${check.latencyMs === undefined ? '' : ` (${check.latencyMs}ms)`}`;
    core.info(check.outcome === 'failed' ? `${line}: ${describeFailure(check)}` : line);
  }
  await finish(result, inputs.reportFile, inputs.junitFile, redactor, analysis);
}

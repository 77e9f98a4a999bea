// The smoke-test step: inputs -> probe engine -> report files, outputs, summary, annotations.
import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Redactor } from '@adci/common';
import { cancellationSignal, coreLogger, runAction } from '@adci/action-common';
import {
  captureHistogram,
  describeFailure,
  mergeShards,
  runSmoke,
  toJUnitXml,
  writeShardResult,
  type CapturedHistogram,
  type SmokeResult,
} from '@adci/probe';
import { readInputs, readMergeInputs, type MergeInputs } from './inputs.ts';
import { readAnalysisInputs, reportAnalysis, startAnalysis } from './analysis.ts';
import type { AnalysisResult } from '@adci/analysis';
import { annotate, failureMessage, setOutputs, writeSummary } from './summary.ts';

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Merge mode: judges the shards' merged results; sends no request. */
function runMerge(merge: MergeInputs): Promise<void> {
  core.info(`merging ${merge.files.length} shard results from ${merge.source}`);
  const result = mergeShards(merge.files, merge.source, 'merge');
  return finish(result, merge.reportFile, merge.junitFile, new Redactor());
}

async function finish(
  result: SmokeResult,
  reportFile: string,
  junitFile: string | undefined,
  redactor: Redactor,
  analysis?: () => Promise<AnalysisResult>,
) {
  writeFile(reportFile, `${redactor.redact(JSON.stringify(result, null, 2))}\n`);
  if (junitFile) writeFile(junitFile, redactor.redact(toJUnitXml(result)));
  setOutputs(result, reportFile);
  annotate(result);
  await writeSummary(result);
  const analysed = analysis ? await analysis() : undefined;
  if (analysed) await reportAnalysis(analysed, redactor);
  if (!result.passed) throw new Error(failureMessage(result));
  if (analysed && !analysed.passed) throw new Error(redactor.redact(`analysis failed: ${analysed.message}`));
  core.info(`Smoke test passed: ${result.counts.passed} checks and thresholds`);
}

export async function run(): Promise<void> {
  await runAction(async () => {
    const merge = readMergeInputs();
    if (merge) return runMerge(merge);
    const inputs = await readInputs();
    const redactor = new Redactor();
    inputs.secrets.forEach((s) => redactor.add(s));
    let histogram: CapturedHistogram | undefined;
    const signal = cancellationSignal();
    const analysisInputs = await readAnalysisInputs(process.env.GITHUB_WORKSPACE || process.cwd());
    const analysis = analysisInputs
      ? await startAnalysis(analysisInputs, { logger: coreLogger, redactor, signal, env: inputs.env })
      : undefined;
    const result = await runSmoke(inputs.engine, {
      logger: coreLogger,
      redactor,
      signal,
      env: inputs.env,
      onLoadProgress: (p) =>
        core.info(
          `  t=${p.second}s  ${p.requests} req  ${p.errors} err  p50 ${p.p50}ms  p95 ${p.p95}ms  p99 ${p.p99}ms`,
        ),
      ...(inputs.engine.shard ? { onLoadHistogram: (h) => (histogram = captureHistogram(h)) } : {}),
    });
    const shard = inputs.engine.shard;
    if (shard && inputs.shardDir) {
      const file = writeShardResult({
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
    for (const check of result.checks) {
      const line = `${check.outcome.padEnd(7)} ${check.name}${check.latencyMs === undefined ? '' : ` (${check.latencyMs}ms)`}`;
      core.info(check.outcome === 'failed' ? `${line}: ${describeFailure(check)}` : line);
    }
    await finish(result, inputs.reportFile, inputs.junitFile, redactor, analysis);
  });
}

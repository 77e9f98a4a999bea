// The smoke-test step: inputs -> probe engine -> report files, outputs, summary, annotations.
import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Redactor } from '@adci/common';
import { cancellationSignal, coreLogger, runAction } from '@adci/action-common';
import { describeFailure, runSmoke, toJUnitXml } from '@adci/probe';
import { readInputs } from './inputs.ts';
import { annotate, failureMessage, setOutputs, writeSummary } from './summary.ts';

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

export async function run(): Promise<void> {
  await runAction(async () => {
    const inputs = await readInputs();
    const redactor = new Redactor();
    inputs.secrets.forEach((s) => redactor.add(s));
    const result = await runSmoke(inputs.engine, {
      logger: coreLogger,
      redactor,
      signal: cancellationSignal(),
      env: inputs.env,
      onLoadProgress: (p) =>
        core.info(
          `  t=${p.second}s  ${p.requests} req  ${p.errors} err  p50 ${p.p50}ms  p95 ${p.p95}ms  p99 ${p.p99}ms`,
        ),
    });
    for (const check of result.checks) {
      const line = `${check.outcome.padEnd(7)} ${check.name}${check.latencyMs === undefined ? '' : ` (${check.latencyMs}ms)`}`;
      core.info(check.outcome === 'failed' ? `${line}: ${describeFailure(check)}` : line);
    }
    writeFile(inputs.reportFile, `${redactor.redact(JSON.stringify(result, null, 2))}\n`);
    if (inputs.junitFile) writeFile(inputs.junitFile, redactor.redact(toJUnitXml(result)));
    setOutputs(result, inputs.reportFile);
    annotate(result);
    await writeSummary(result);
    if (!result.passed) throw new Error(failureMessage(result));
    core.info(`Smoke test passed: ${result.counts.passed} checks and thresholds`);
  });
}

// The quality-gate step: inputs -> changed lines -> engine -> outputs, summary, annotations, comment.
import * as core from '@actions/core';
import { coreLogger, readRunContext, runAction } from '@adci/action-common';
import { DEFAULT_THRESHOLDS, runGate } from '@adci/reports';
import { readInputs } from './inputs.ts';
import { readChangedLines } from './changed-lines.ts';
import { writeOutputs } from './outputs.ts';
import { writeSummary } from './summary.ts';
import { writeAnnotations } from './annotations.ts';
import { upsertComment } from './comment.ts';

export async function run(): Promise<void> {
  await runAction(async () => {
    const inputs = await readInputs(readRunContext());
    if (inputs.thresholdsDefaulted) {
      core.warning(
        `The thresholds input is empty (an unset variable gives '', and the runner then skips the default): applying the default ${DEFAULT_THRESHOLDS}`,
        { title: 'Quality gate' },
      );
    }
    const pr = inputs.pullRequest;
    const changed = pr ? await readChangedLines(inputs.root, pr.base, pr.head) : {};
    if (changed.error) core.warning(`Changed lines unknown: ${changed.error}`, { title: 'Quality gate' });
    const report = await runGate(
      {
        reports: inputs.reports,
        root: inputs.root,
        thresholds: inputs.thresholds,
        changedLines: changed.lines,
        changedLinesError: changed.error,
        minChangedLines: inputs.minChangedLines,
        baseline: inputs.baseline,
        ignoreMalformed: inputs.ignoreMalformed,
      },
      coreLogger,
    );
    for (const warning of report.warnings) core.warning(warning, { title: 'Quality gate' });
    writeOutputs(report, inputs.reportFile);
    writeAnnotations(report, inputs.annotationsPerLevel, inputs.reportFile, inputs.pathPrefix);
    await writeSummary(report, inputs.title, inputs.reportFile);
    await upsertComment(report, inputs);
    const failed = report.conditions.filter((c) => !c.passed);
    if (report.passed) {
      core.info(`${inputs.title} passed (${report.conditions.length} checks).`);
      return;
    }
    const reasons = failed.map((c) => `${c.key} is ${c.actual} (wanted ${c.wanted})`).join('; ');
    const message = `${inputs.title} failed: ${reasons}`;
    if (inputs.failOnFailure) throw new Error(message);
    core.warning(`${message} (fail-on-failure is false, so the step passes)`);
  });
}

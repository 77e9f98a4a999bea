// A smoke result on GitHub: outputs, the job summary (rendered by @adci/probe), and an error
// annotation per failed check or threshold.
import * as core from '@actions/core';
import { redactUrlSecrets, type Redactor } from '@adci/common';
import {
  describeFailure,
  IMPLICIT_THRESHOLD_NOTE,
  renderSmokeMarkdown,
  thresholdActual,
  type SmokeResult,
} from '@adci/probe';

export function setOutputs(result: SmokeResult, reportFile: string): void {
  core.setOutput('passed', String(result.counts.passed));
  core.setOutput('failed', String(result.counts.failed));
  const load = result.load;
  core.setOutput('p95-ms', load ? String(load.latency.p95) : '');
  core.setOutput('p99-ms', load ? String(load.latency.p99) : '');
  core.setOutput('error-rate', load ? String(load.errorRate) : '');
  core.setOutput('rps', load ? String(load.rps) : '');
  core.setOutput('report', reportFile);
}

/** The text with the redactor's secrets masked, or at least URL credentials and secret parameters. */
function redactWith(redactor: Redactor | undefined): (text: string) => string {
  return redactor ? (text) => redactor.redact(text) : redactUrlSecrets;
}

export function annotate(result: SmokeResult, redactor?: Redactor): void {
  const redact = redactWith(redactor);
  for (const c of result.checks.filter((check) => check.outcome === 'failed')) {
    const excerpt = c.excerpt ? `\nResponse: ${c.excerpt.slice(0, 300)}` : '';
    core.error(redact(`${c.method} ${c.url}: ${describeFailure(c)}${excerpt}`), {
      title: redact(`Smoke check failed: ${c.name}`),
    });
  }
  for (const t of result.load?.thresholds.filter((threshold) => !threshold.passed) ?? []) {
    core.error(
      `${t.threshold} breached: actual ${thresholdActual(t)}${t.implicit ? ` (${IMPLICIT_THRESHOLD_NOTE})` : ''}`,
      {
        title: 'Load threshold breached',
      },
    );
  }
  if (result.load && result.load.dropped > 0) {
    core.warning(
      result.load.scenarios !== undefined
        ? `${result.load.dropped} arrivals (virtual users) were dropped: ${result.load.maxInFlight} were already running, so the service was slower than the scenario's rate allows`
        : `${result.load.dropped} requests were dropped: max-in-flight (${result.load.maxInFlight}) was reached, so the service was slower than the requested rate allows`,
      { title: 'Load phase dropped requests' },
    );
  }
}

export async function writeSummary(result: SmokeResult, redactor?: Redactor): Promise<void> {
  await core.summary.addRaw(redactWith(redactor)(renderSmokeMarkdown(result))).write();
}

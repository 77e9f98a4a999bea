// The notify step: inputs -> engine -> outputs, summary, annotations.
import * as core from '@actions/core';
import { cancellationSignal, coreLogger, readRunContext, runAction } from '@adci/action-common';
import { notify, renderMessageMarkdown, type NotifyResult } from '@adci/slack';
import { readInputs } from './inputs.ts';

async function writeSummary(result: NotifyResult): Promise<void> {
  const { delivery } = result;
  const verdict = delivery.ok
    ? `Delivered to Slack after ${delivery.attempts} attempt(s).`
    : `Not delivered: ${delivery.error ?? 'unknown error'}`;
  await core.summary
    .addHeading('Slack notification', 2)
    .addRaw(`${verdict}\n\n`)
    .addRaw(`<details><summary>Message sent</summary>\n\n${renderMessageMarkdown(result.message)}\n</details>\n`)
    .write();
}

export async function run(): Promise<void> {
  await runAction(async () => {
    const { settings, failOnError } = await readInputs(readRunContext());
    const result = await notify(settings, { logger: coreLogger, signal: cancellationSignal() });
    const { delivery } = result;
    core.setOutput('ok', String(delivery.ok));
    core.setOutput('status-code', String(delivery.statusCode));
    core.setOutput('attempts', String(delivery.attempts));
    await writeSummary(result);
    if (delivery.ok) {
      core.info(`Slack accepted the message (${delivery.attempts} attempt(s))`);
      return;
    }
    const message = `Slack notification failed: ${delivery.error ?? 'unknown error'}`;
    if (failOnError) throw new Error(message);
    core.warning(`${message} (fail-on-error is false, so the step passes)`, { title: 'Slack notification failed' });
  });
}

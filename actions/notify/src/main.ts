// The notify step: inputs -> engine -> outputs, summary, annotations.
import * as core from '@actions/core';
import { cancellationSignal, coreLogger, readRunContext, runAction } from '@adci/action-common';
import { composeMessage, notify, renderMessageMarkdown, type NotifyResult, type SlackMessage } from '@adci/slack';
import { readInputs } from './inputs.ts';

async function writeSummary(verdict: string, message: SlackMessage, sent: boolean): Promise<void> {
  await core.summary
    .addHeading('Slack notification', 2)
    .addRaw(`${verdict}\n\n`)
    .addRaw(
      `<details><summary>Message ${sent ? 'sent' : 'not sent'}</summary>\n\n${renderMessageMarkdown(message)}\n</details>\n`,
    )
    .write();
}

function verdictOf({ delivery }: NotifyResult): string {
  return delivery.ok
    ? `Delivered to Slack after ${delivery.attempts} attempt(s).`
    : `Not delivered: ${delivery.error ?? 'unknown error'}`;
}

export async function run(): Promise<void> {
  await runAction(async () => {
    const { settings, failOnError, skipped } = await readInputs(readRunContext());
    if (skipped) {
      // Composed all the same, so a bad payload fails on a fork's pull request too.
      const message = composeMessage(settings);
      core.setOutput('ok', 'false');
      core.setOutput('status-code', '0');
      core.setOutput('attempts', '0');
      await writeSummary(`Not sent: ${skipped.replace(/^Slack notification not sent: /, '')}`, message, false);
      core.warning(skipped, { title: 'Slack notification not sent' });
      return;
    }
    const result = await notify(settings, { logger: coreLogger, signal: cancellationSignal() });
    const { delivery } = result;
    core.setOutput('ok', String(delivery.ok));
    core.setOutput('status-code', String(delivery.statusCode));
    core.setOutput('attempts', String(delivery.attempts));
    await writeSummary(verdictOf(result), result.message, true);
    if (delivery.ok) {
      core.info(`Slack accepted the message (${delivery.attempts} attempt(s))`);
      return;
    }
    const message = `Slack notification failed: ${delivery.error ?? 'unknown error'}`;
    if (failOnError) throw new Error(message);
    core.warning(`${message} (fail-on-error is false, so the step passes)`, { title: 'Slack notification failed' });
  });
}

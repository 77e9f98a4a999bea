// `adci notify`, run: the notify engine from GitLab CI, Jenkins or a terminal.
import { readFileSync } from 'node:fs';
import { InputError, consoleLogger, parseDuration } from '@adci/common';
import { parseStringMap } from '@adci/common/structured';
import {
  composeMessage,
  resolveWebhookUrl,
  notify,
  parseMentions,
  parsePayload,
  templateValues,
  type NotifyStatus,
} from '@adci/slack';
import { readCiRun } from '../ci-context.ts';
import { versioned } from '../json.ts';

/** The command's options as commander parses them (declared in notify.ts). */
export interface NotifyOptions {
  status: NotifyStatus;
  title: string;
  text: string;
  fields: string;
  environment: string;
  environmentUrl: string;
  image: string;
  mention: string;
  payload?: string;
  payloadFile?: string;
  failOnError: boolean;
  timeout: string;
  json: boolean;
  verbose: boolean;
}

export async function runNotifyAction(options: NotifyOptions): Promise<void> {
  // The URL is a secret: taken from the environment only, never from argv (visible in `ps`).
  const webhook = resolveWebhookUrl((process.env.SLACK_WEBHOOK_URL ?? '').trim(), options.failOnError, {
    input: 'SLACK_WEBHOOK_URL',
    failOnError: '--fail-on-error',
  });
  const ci = readCiRun();
  const message = {
    status: options.status,
    title: options.title,
    text: options.text,
    fields: parseStringMap(options.fields, '--fields'),
    environment: options.environment,
    environmentUrl: options.environmentUrl,
    image: options.image,
    mention: parseMentions(options.mention, '--mention'),
  };
  if (options.payload && options.payloadFile) {
    throw new InputError('--payload', 'give either --payload or --payload-file, not both');
  }
  const payload = options.payload
    ? await parsePayload(options.payload, '--payload')
    : options.payloadFile
      ? await parsePayload(readFileSync(options.payloadFile, 'utf8'), `--payload-file ${options.payloadFile}`)
      : undefined;
  const values: Record<string, string> = templateValues(ci, message, { run_id: ci.runId });
  const settings = {
    webhookUrl: 'url' in webhook ? webhook.url : '',
    message,
    payload,
    run: ci,
    lookup: (name: string) => (name.startsWith('env.') ? process.env[name.slice(4)] : values[name]),
    timeoutMs: parseDuration(options.timeout, '--timeout'),
  };
  const logger = consoleLogger(options.verbose);
  if ('skipped' in webhook) {
    // Composed all the same, so a bad payload is an error whether or not a URL is set.
    composeMessage(settings);
    logger.warning(webhook.skipped.replace('The step passes', 'Exit 0'));
    if (options.json)
      process.stdout.write(`${JSON.stringify(versioned({ ok: false, skipped: webhook.skipped }), null, 2)}\n`);
    return;
  }
  const result = await notify(settings, { logger });
  const { delivery } = result;
  if (options.json) process.stdout.write(`${JSON.stringify(versioned(delivery), null, 2)}\n`);
  else if (delivery.ok) process.stdout.write(`delivered to Slack (${delivery.attempts} attempt(s))\n`);
  else process.stderr.write(`not delivered: ${delivery.error}\n`);
  if (!delivery.ok && options.failOnError) process.exitCode = 1;
}

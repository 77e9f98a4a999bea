// Every notify input is read and validated here, once, into one settings object.
import { InputError } from '@adci/common/basics';
import {
  readBoolean,
  readDuration,
  readEnum,
  readInputFile,
  readSecret,
  readString,
  readStringMap,
  readText,
  type RunContext,
  workspaceDir,
} from '@adci/action-common';
import {
  NOTIFY_STATUSES,
  resolveWebhookUrl,
  parseMentions,
  parsePayload,
  runInfoOf,
  templateValues,
  type NotifySettings,
} from '@adci/slack';

export interface NotifyInputs {
  settings: NotifySettings;
  failOnError: boolean;
  /** Set when webhook-url is empty and fail-on-error is false: why nothing is sent. */
  skipped?: string;
}

async function readPayload(): Promise<NotifySettings['payload']> {
  const inline = readText('payload');
  const file = readString('payload-file');
  if (inline.trim() && file) throw new InputError('payload', 'give either payload or payload-file, not both');
  if (inline.trim()) return parsePayload(inline, 'payload');
  const loaded = readInputFile('payload-file', workspaceDir());
  return loaded ? parsePayload(loaded.text, `payload-file ${loaded.file}`) : undefined;
}

export async function readInputs(context: RunContext): Promise<NotifyInputs> {
  const failOnError = readBoolean('fail-on-error', false);
  const webhook = resolveWebhookUrl(readSecret('webhook-url', 'SLACK_WEBHOOK_URL'), failOnError, {
    input: 'webhook-url',
    failOnError: 'fail-on-error: true',
  });
  const message = {
    status: readEnum('status', NOTIFY_STATUSES, 'success'),
    title: readString('title'),
    text: readString('text'),
    fields: await readStringMap('fields'),
    environment: readString('environment'),
    environmentUrl: readString('environment-url'),
    image: readString('image'),
    mention: parseMentions(readString('mention'), 'mention'),
  };
  const run = runInfoOf(context);
  const values: Record<string, string> = templateValues(run, message, {
    job: context.job,
    event_name: context.eventName,
    run_id: context.runId,
    run_number: context.runNumber,
    server_url: context.serverUrl,
  });
  const lookup = (name: string): string | undefined =>
    name.startsWith('env.') ? process.env[name.slice(4)] : Object.hasOwn(values, name) ? values[name] : undefined;
  return {
    settings: {
      webhookUrl: 'url' in webhook ? webhook.url : '',
      message,
      payload: await readPayload(),
      run,
      lookup,
      timeoutMs: readDuration('timeout', '30s'),
    },
    failOnError,
    ...('skipped' in webhook ? { skipped: webhook.skipped } : {}),
  };
}

// Every notify input is read and validated here, once, into one settings object.
import { readFileSync } from 'node:fs';
import { InputError, parseStructured } from '@adci/common';
import {
  readBoolean,
  readDuration,
  readEnum,
  readSecret,
  readString,
  readStringMap,
  readText,
  type RunContext,
} from '@adci/action-common';
import { NOTIFY_STATUSES, templateValues, type NotifySettings, type RunInfo } from '@adci/slack';

export interface NotifyInputs {
  settings: NotifySettings;
  failOnError: boolean;
}

const MENTION_ID = /^([UWS][A-Z0-9]{2,}|here|channel|everyone)$/;

function readWebhookUrl(): string {
  const url = readSecret('webhook-url', 'SLACK_WEBHOOK_URL');
  if (!url) throw new InputError('webhook-url', 'is required (or set the SLACK_WEBHOOK_URL environment variable)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never echo the value: it is a secret.
    throw new InputError('webhook-url', 'is not a valid URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new InputError('webhook-url', `must be an https URL, not ${parsed.protocol}`);
  }
  return url;
}

function readPayload(): NotifySettings['payload'] {
  const inline = readText('payload');
  const file = readString('payload-file');
  if (inline.trim() && file) throw new InputError('payload', 'give either payload or payload-file, not both');
  if (inline.trim()) return { value: parseStructured(inline, 'payload').value, source: 'payload' };
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError('payload-file', `cannot read '${file}': ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return { value: parseStructured(text, `payload-file ${file}`).value, source: `payload-file ${file}` };
}

function readMentions(): string[] {
  const ids = readString('mention')
    .split(/[\s,]+/)
    .map((id) => id.replace(/^@/, ''))
    .filter(Boolean);
  for (const id of ids) {
    if (!MENTION_ID.test(id)) {
      throw new InputError('mention', `'${id}' is not a Slack user id (U…/W…), group id (S…), here or channel`);
    }
  }
  return ids;
}

export function readInputs(context: RunContext): NotifyInputs {
  const webhookUrl = readWebhookUrl();
  const message = {
    status: readEnum('status', NOTIFY_STATUSES, 'success'),
    title: readString('title'),
    text: readString('text'),
    fields: readStringMap('fields'),
    environment: readString('environment'),
    environmentUrl: readString('environment-url'),
    image: readString('image'),
    mention: readMentions(),
  };
  const run: RunInfo = {
    repository: context.repository,
    repositoryUrl: context.repository ? `${context.serverUrl}/${context.repository}` : '',
    ref: context.refName,
    sha: context.sha,
    commitUrl: context.commitUrl,
    commitMessage: context.commitMessage,
    actor: context.actor,
    workflow: context.workflow,
    runUrl: context.runUrl,
  };
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
      webhookUrl,
      message,
      payload: readPayload(),
      run,
      lookup,
      timeoutMs: readDuration('timeout', '30s'),
    },
    failOnError: readBoolean('fail-on-error', false),
  };
}

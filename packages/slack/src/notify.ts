// The notify engine's entry: compose the message (refusing a bad one before anything is sent), then deliver it.
import type { Clock, Logger } from '@adci/common/basics';
import { buildCustomMessage, buildDefaultMessage, type MessageSettings, type RunInfo } from './message.ts';
import { deliverMessage, type DeliveryResult } from './deliver.ts';
import type { SlackMessage } from './limits.ts';

export interface NotifySettings {
  webhookUrl: string;
  message: MessageSettings;
  /** A custom payload, already parsed; `source` names the input or file for errors. */
  payload?: { value: unknown; source: string };
  run: RunInfo;
  /** Values for `{{ name }}` placeholders in a custom payload. */
  lookup: (name: string) => string | undefined;
  timeoutMs: number;
}

export interface NotifyResult {
  message: SlackMessage;
  delivery: DeliveryResult;
}

export function composeMessage(settings: NotifySettings): SlackMessage {
  if (settings.payload) return buildCustomMessage(settings.payload.value, settings.lookup, settings.payload.source);
  return buildDefaultMessage(settings.message, settings.run);
}

export async function notify(
  settings: NotifySettings,
  ports: { logger: Logger; clock?: Clock; signal?: AbortSignal },
): Promise<NotifyResult> {
  const message = composeMessage(settings);
  const delivery = await deliverMessage(settings.webhookUrl, message, { timeoutMs: settings.timeoutMs, ...ports });
  return { message, delivery };
}

/** Placeholder values for payload templates, from the run and the message settings. */
export function templateValues(run: RunInfo, message: MessageSettings, extra: Record<string, string> = {}) {
  return {
    repository: run.repository,
    repository_url: run.repositoryUrl,
    ref: run.ref,
    sha: run.sha,
    short_sha: run.sha.slice(0, 7),
    commit_url: run.commitUrl,
    commit_message: run.commitMessage,
    actor: run.actor,
    workflow: run.workflow,
    run_url: run.runUrl,
    status: message.status,
    title: message.title,
    text: message.text,
    environment: message.environment,
    environment_url: message.environmentUrl,
    image: message.image,
    ...extra,
  } satisfies Record<string, string>;
}

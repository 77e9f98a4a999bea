// Builds the default Block Kit message for a pipeline event and fills custom payload templates.
import { InputError, fillTemplateDeep } from '@adci/common/basics';
import type { RunContext } from '@adci/common/github-context';
import { findLimitProblems, truncate, SLACK_LIMITS, type SlackBlock, type SlackMessage } from './limits.ts';

export const NOTIFY_STATUSES = ['success', 'failure', 'cancelled', 'skipped', 'started', 'warning'] as const;
export type NotifyStatus = (typeof NOTIFY_STATUSES)[number];

/** What the message says about the run; plain data given by the adapter (GitHub, GitLab, a terminal). */
export interface RunInfo {
  repository: string;
  repositoryUrl: string;
  ref: string;
  sha: string;
  commitUrl: string;
  commitMessage: string;
  actor: string;
  workflow: string;
  runUrl: string;
}

/** What a GitHub Actions run says about itself (the action's context, or the CLI on a GitHub runner). */
export function runInfoOf(context: RunContext): RunInfo {
  return {
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
}

export interface MessageSettings {
  status: NotifyStatus;
  title: string;
  text: string;
  fields: Record<string, string>;
  environment: string;
  environmentUrl: string;
  image: string;
  /** Slack user (U…/W…) or group (S…) ids, or `here`/`channel`; mentioned only on failure. */
  mention: string[];
}

const STATUS_STYLE: Record<NotifyStatus, { emoji: string; color: string; word: string }> = {
  success: { emoji: '✅', color: '#2EB67D', word: 'succeeded' },
  failure: { emoji: '❌', color: '#E01E5A', word: 'failed' },
  cancelled: { emoji: '⏹️', color: '#9E9E9E', word: 'was cancelled' },
  skipped: { emoji: '⏭️', color: '#BDBDBD', word: 'was skipped' },
  started: { emoji: '🚀', color: '#1D9BD1', word: 'started' },
  warning: { emoji: '⚠️', color: '#ECB22E', word: 'finished with warnings' },
};

/** Escapes text for mrkdwn: Slack requires &, < and > escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function link(url: string, label: string): string {
  return url ? `<${url}|${escapeMrkdwn(label).replace(/\|/g, '¦')}>` : escapeMrkdwn(label);
}

export function mentionTag(id: string): string {
  if (id === 'here' || id === 'channel' || id === 'everyone') return `<!${id}>`;
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}

function field(label: string, value: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: truncate(`*${escapeMrkdwn(label)}*\n${value}`, SLACK_LIMITS.fieldText) };
}

/** The message sent when no payload is given: header, colour bar by status, the run's facts. */
export function buildDefaultMessage(settings: MessageSettings, run: RunInfo): SlackMessage {
  const style = STATUS_STYLE[settings.status];
  const title = settings.title || `${run.workflow || 'Pipeline'} ${style.word}`;
  const header = truncate(`${style.emoji} ${title}`, SLACK_LIMITS.headerText);
  const shortSha = run.sha.slice(0, 7);

  const facts: { type: 'mrkdwn'; text: string }[] = [];
  if (run.repository) facts.push(field('Repository', link(run.repositoryUrl, run.repository)));
  if (run.ref) facts.push(field('Branch', escapeMrkdwn(run.ref)));
  if (shortSha) {
    const message = run.commitMessage ? ` ${escapeMrkdwn(run.commitMessage)}` : '';
    facts.push(field('Commit', `${link(run.commitUrl, shortSha)}${message}`));
  }
  if (run.actor) facts.push(field('Actor', escapeMrkdwn(run.actor)));
  if (run.workflow || run.runUrl) facts.push(field('Workflow', link(run.runUrl, run.workflow || 'run')));
  if (settings.environment) {
    facts.push(field('Environment', link(settings.environmentUrl, settings.environment)));
  }
  if (settings.image) facts.push(field('Image', `\`${escapeMrkdwn(settings.image)}\``));
  for (const [name, value] of Object.entries(settings.fields)) facts.push(field(name, escapeMrkdwn(value)));

  const body: SlackBlock[] = [];
  const mentions = settings.status === 'failure' ? settings.mention.map(mentionTag).join(' ') : '';
  const lead = [mentions, settings.text ? escapeMrkdwn(settings.text) : ''].filter(Boolean).join(' ');
  if (lead) body.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(lead, SLACK_LIMITS.sectionText) } });
  // Slack allows 10 fields per section: spread the facts over as many sections as needed.
  for (let i = 0; i < facts.length; i += SLACK_LIMITS.sectionFields) {
    body.push({ type: 'section', fields: facts.slice(i, i + SLACK_LIMITS.sectionFields) });
  }
  if (run.runUrl) {
    body.push({ type: 'context', elements: [{ type: 'mrkdwn', text: link(run.runUrl, 'View the run on GitHub') }] });
  }
  // Header blocks plus attachments past the 50-block cap would be refused: keep within it.
  const blocks = body.slice(0, SLACK_LIMITS.blocks - 1);

  const where = run.repository ? ` in ${run.repository}${shortSha ? `@${shortSha}` : ''}` : '';
  const fallback = `${mentions ? `${mentions} ` : ''}${style.emoji} ${title}${where}${run.actor ? ` by ${run.actor}` : ''}`;
  return {
    text: truncate(fallback, SLACK_LIMITS.messageText),
    blocks: [{ type: 'header', text: { type: 'plain_text', text: header, emoji: true } }],
    attachments: [{ color: style.color, blocks }],
  };
}

/**
 * Turns a user's payload (already parsed from JSON/YAML) into the message to send: fills
 * `{{ name }}` placeholders, then refuses it, naming block and limit, if Slack would.
 */
export function buildCustomMessage(
  payload: unknown,
  lookup: (name: string) => string | undefined,
  source: string,
): SlackMessage {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new InputError(source, 'the payload must be a JSON or YAML object (with "text", "blocks" or "attachments")');
  }
  const message = fillTemplateDeep(payload, lookup, (name) => {
    throw new InputError(source, `unknown placeholder {{ ${name} }}`);
  }) as SlackMessage;
  const problems = findLimitProblems(message);
  if (problems.length > 0) {
    throw new InputError(source, `the payload breaks Slack's limits, nothing was sent: ${problems.join('; ')}`);
  }
  return message;
}

// Renders a Slack message as Markdown for a job summary or a terminal: what was sent, readably.
import type { SlackBlock, SlackMessage } from './limits.ts';

/** Slack mrkdwn to GitHub Markdown: links, bold, and the three escaped characters. */
function fromMrkdwn(text: string): string {
  return text
    .replace(/<([^|>]+)\|([^>]+)>/g, '[$2]($1)')
    .replace(/<!subteam\^([A-Z0-9]+)>/g, '@group:$1')
    .replace(/<!(here|channel|everyone)>/g, '@$1')
    .replace(/<@([A-Z0-9]+)>/g, '@user:$1')
    .replace(/(^|\s)\*([^*\n]+)\*/g, '$1**$2**')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

const textOf = (value: unknown): string => {
  const text = (value as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' ? text : '';
};

function renderBlocks(blocks: SlackBlock[] | undefined, lines: string[]): void {
  for (const block of blocks ?? []) {
    if (block.type === 'header') lines.push(`### ${textOf(block.text)}`, '');
    else if (block.type === 'section') {
      if (textOf(block.text)) lines.push(fromMrkdwn(textOf(block.text)), '');
      const fields = Array.isArray(block.fields) ? block.fields : [];
      if (fields.length) {
        lines.push('| | |', '|---|---|');
        for (const f of fields) {
          const [label = '', ...rest] = fromMrkdwn(textOf(f)).split('\n');
          lines.push(`| ${label.replace(/\|/g, '\\|')} | ${rest.join(' ').replace(/\|/g, '\\|')} |`);
        }
        lines.push('');
      }
    } else if (block.type === 'context' && Array.isArray(block.elements)) {
      lines.push(`<sub>${block.elements.map((e) => fromMrkdwn(textOf(e))).join(' · ')}</sub>`, '');
    } else if (block.type === 'divider') lines.push('---', '');
    else lines.push(`*(${block.type} block)*`, '');
  }
}

export function renderMessageMarkdown(message: SlackMessage): string {
  const lines: string[] = [];
  renderBlocks(message.blocks, lines);
  for (const attachment of message.attachments ?? []) renderBlocks(attachment.blocks, lines);
  if (lines.length === 0 && message.text) lines.push(fromMrkdwn(message.text), '');
  return lines.join('\n');
}

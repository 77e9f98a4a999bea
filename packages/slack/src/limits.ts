// The one place that knows Slack's message limits (docs.slack.dev Block Kit reference).
// Generated text is cut to fit; a user's own payload that breaks a limit is refused, naming the block.

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  blockId: 255,
  /** Slack truncates top-level `text` beyond this (changelog 2018-04). */
  messageText: 40_000,
  attachments: 100,
} as const;

export type SlackBlock = { type: string; block_id?: string; [key: string]: unknown };

export interface SlackMessage {
  text?: string;
  blocks?: SlackBlock[];
  attachments?: { color?: string; blocks?: SlackBlock[]; [key: string]: unknown }[];
  [key: string]: unknown;
}

/** Cuts `text` to `max` characters, ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

const length = (text: unknown): number => (typeof text === 'string' ? [...text].length : 0);
const textOf = (value: unknown): unknown => (value as { text?: unknown } | undefined)?.text;

/** Every limit a block list breaks, as readable problems naming the block's index. */
function blockProblems(blocks: unknown, where: string): string[] {
  if (blocks === undefined) return [];
  if (!Array.isArray(blocks)) return [`${where} must be a list of blocks`];
  const problems: string[] = [];
  if (blocks.length > SLACK_LIMITS.blocks) {
    problems.push(`${where} has ${blocks.length} blocks; Slack allows at most ${SLACK_LIMITS.blocks}`);
  }
  blocks.forEach((raw: unknown, index) => {
    const at = `${where}[${index}]`;
    if (!raw || typeof raw !== 'object' || typeof (raw as SlackBlock).type !== 'string') {
      problems.push(`${at} is not a block (an object with a "type")`);
      return;
    }
    const block = raw as SlackBlock;
    const label = `${at} (${block.type})`;
    if (length(block.block_id) > SLACK_LIMITS.blockId) {
      problems.push(`${label}: block_id is ${length(block.block_id)} characters; the limit is ${SLACK_LIMITS.blockId}`);
    }
    if (block.type === 'header' && length(textOf(block.text)) > SLACK_LIMITS.headerText) {
      problems.push(
        `${label}: text is ${length(textOf(block.text))} characters; the limit is ${SLACK_LIMITS.headerText}`,
      );
    }
    if (block.type === 'section') {
      if (length(textOf(block.text)) > SLACK_LIMITS.sectionText) {
        problems.push(
          `${label}: text is ${length(textOf(block.text))} characters; the limit is ${SLACK_LIMITS.sectionText}`,
        );
      }
      const fields = block.fields;
      if (Array.isArray(fields)) {
        if (fields.length > SLACK_LIMITS.sectionFields) {
          problems.push(`${label}: ${fields.length} fields; the limit is ${SLACK_LIMITS.sectionFields}`);
        }
        fields.forEach((field: unknown, f) => {
          if (length(textOf(field)) > SLACK_LIMITS.fieldText) {
            problems.push(
              `${label}: fields[${f}] is ${length(textOf(field))} characters; the limit is ${SLACK_LIMITS.fieldText}`,
            );
          }
        });
      }
    }
    if (block.type === 'context' && Array.isArray(block.elements)) {
      if (block.elements.length > SLACK_LIMITS.contextElements) {
        problems.push(`${label}: ${block.elements.length} elements; the limit is ${SLACK_LIMITS.contextElements}`);
      }
    }
  });
  return problems;
}

/** Checks a message against Slack's limits; returns the problems found (empty when it fits). */
export function findLimitProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  if (message.text === undefined && message.blocks === undefined && message.attachments === undefined) {
    problems.push('the message has none of "text", "blocks" or "attachments"');
  }
  if (message.text !== undefined && typeof message.text !== 'string') problems.push('"text" must be a string');
  if (length(message.text) > SLACK_LIMITS.messageText) {
    problems.push(`"text" is ${length(message.text)} characters; Slack truncates beyond ${SLACK_LIMITS.messageText}`);
  }
  problems.push(...blockProblems(message.blocks, 'blocks'));
  if (message.attachments !== undefined) {
    if (!Array.isArray(message.attachments)) {
      problems.push('"attachments" must be a list');
    } else {
      if (message.attachments.length > SLACK_LIMITS.attachments) {
        problems.push(`${message.attachments.length} attachments; the limit is ${SLACK_LIMITS.attachments}`);
      }
      message.attachments.forEach((attachment, a) => {
        problems.push(...blockProblems(attachment?.blocks, `attachments[${a}].blocks`));
      });
    }
  }
  return problems;
}

// Validation of notify settings shared by every front end (the action, the CLI), so that each
// reports the same error for the same bad value, naming the input it came from.
import { InputError } from '@adci/common/basics';

const MENTION_ID = /^([UWS][A-Z0-9]{2,}|here|channel|everyone)$/;

/** Slack ids from a comma/space/newline separated list; `@` prefixes are tolerated. */
export function parseMentions(text: string, input: string): string[] {
  const ids = text
    .split(/[\s,]+/)
    .map((id) => id.replace(/^@/, ''))
    .filter(Boolean);
  for (const id of ids) {
    if (!MENTION_ID.test(id)) {
      throw new InputError(input, `'${id}' is not a Slack user id (U…/W…), group id (S…), here or channel`);
    }
  }
  return ids;
}

/** Checks a webhook URL without ever echoing it: it is a secret. */
export function checkWebhookUrl(url: string, input: string): string {
  if (!url) throw new InputError(input, 'is required (or set the SLACK_WEBHOOK_URL environment variable)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(input, 'is not a valid URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new InputError(input, `must be an https URL, not ${parsed.protocol}`);
  }
  return url;
}

/** A custom payload from an inline value or a file's text (JSON or YAML). */
export async function parsePayload(text: string, source: string): Promise<{ value: unknown; source: string }> {
  // The YAML parser loads only when a payload is given: it is most of a step's start-up cost.
  const { parseStructured } = await import('@adci/common');
  return { value: parseStructured(text, source).value, source };
}

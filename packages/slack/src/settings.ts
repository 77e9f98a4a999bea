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

/** Why a webhook URL is empty in practice. */
export const EMPTY_WEBHOOK_REASON = 'pull requests from forks get no secrets, or the secret is not set';

/**
 * The webhook URL, or, when it is empty and failing is not asked for, the warning that says why
 * nothing is sent (a fork's pull request gets no secrets: its notify step should not fail the run).
 * An empty URL with fail-on-error, or a malformed one, is an input error. `names` are as the front
 * end spells them: `{ input: 'webhook-url', failOnError: 'fail-on-error: true' }`.
 */
export function resolveWebhookUrl(
  url: string,
  failOnError: boolean,
  names: { input: string; failOnError: string },
): { url: string } | { skipped: string } {
  if (url) return { url: checkWebhookUrl(url, names.input) };
  const why = `is empty (${EMPTY_WEBHOOK_REASON})`;
  if (failOnError)
    throw new InputError(names.input, `${why}; nothing was sent, and ${names.failOnError} makes that an error`);
  return {
    skipped: `Slack notification not sent: input '${names.input}' ${why}. The step passes; set ${names.failOnError} to fail it instead.`,
  };
}

/** Checks a webhook URL without ever echoing it: it is a secret. */
export function checkWebhookUrl(url: string, input: string): string {
  if (!url) throw new InputError(input, `is required: it is empty (${EMPTY_WEBHOOK_REASON})`);
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
  const { parseStructured } = await import('@adci/common/structured');
  return { value: parseStructured(text, source).value, source };
}

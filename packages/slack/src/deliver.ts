// Delivers a message to an incoming webhook within one overall timeout: waits out 429s as
// Retry-After says, backs off with jitter on 5xx and network errors, and never retries other 4xx.
import { silentLogger, systemClock, type Clock, type Logger } from '@adci/common/basics';
import type { SlackMessage } from './limits.ts';
import { post, type PostInit } from './post.ts';

export interface DeliveryOptions {
  /** The whole delivery, every attempt and wait included, ends within this many ms. */
  timeoutMs: number;
  logger?: Logger;
  clock?: Clock;
  signal?: AbortSignal;
  /** Source of jitter in [0, 1); tests may fix it. */
  random?: () => number;
  /** First backoff before jitter; doubles each retry up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Deadline of each attempt; default a third of `timeoutMs`, between 1 s and 10 s, so that one
   * stalled connection leaves room for retries within the whole timeout.
   */
  attemptTimeoutMs?: number;
}

export interface DeliveryResult {
  ok: boolean;
  /** Last HTTP status seen; 0 when no answer came. */
  statusCode: number;
  attempts: number;
  /** Each wait before a retry, in ms. */
  waits: number[];
  /** Slack's error code from the body (e.g. `no_service`), when it gave one. */
  slackError?: string;
  /** What went wrong and what to do about it; never contains the webhook URL. */
  error?: string;
}

const ADVICE: Record<string, string> = {
  invalid_payload: 'Slack could not read the message: it must be JSON with "text", "blocks" or "attachments".',
  invalid_blocks:
    'Slack refused the blocks (webhooks give no detail): check block types and fields against Block Kit, e.g. in the Block Kit Builder.',
  no_service:
    'the webhook was removed or disabled, or the URL is wrong: create a new incoming webhook and update the secret.',
  channel_not_found: "the webhook's channel no longer exists: create a webhook for an existing channel.",
  channel_is_archived: "the webhook's channel is archived: unarchive it or create a webhook for another channel.",
  action_prohibited: 'a workspace admin has restricted posting to this channel.',
  posting_to_general_channel_denied: 'only admins may post to this channel.',
  user_not_found: 'the user the message is addressed to does not exist.',
  too_many_attachments: 'the message has more than 100 attachments.',
  invalid_token: 'the webhook token is invalid: the webhook may have been revoked.',
  no_team: 'the Slack workspace is missing or was deleted.',
  team_disabled: 'the Slack workspace has been disabled.',
  rollup_error: 'Slack failed on its side; try again later.',
};

/** Seconds from a Retry-After header (delta seconds or an HTTP date), else from Slack's JSON body. */
function retryAfterMs(header: string | null, body: string, now: number): number | undefined {
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  try {
    const parsed = JSON.parse(body) as { retry_after?: unknown };
    if (typeof parsed.retry_after === 'number') return parsed.retry_after * 1000;
  } catch {
    // Plain-text bodies are the norm for webhooks.
  }
  return undefined;
}

/** Slack's error code from a plain-text or JSON body. */
function slackErrorCode(body: string): string {
  const trimmed = body.trim();
  try {
    const parsed = JSON.parse(trimmed) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // Not JSON.
  }
  return /^[a-z_]{2,64}$/.test(trimmed) ? trimmed : '';
}

const MAX_ATTEMPTS = 20;
/** Slack answers in well under a second; an attempt this slow is treated as lost. */
const MAX_ATTEMPT_TIMEOUT_MS = 10_000;
const MIN_ATTEMPT_TIMEOUT_MS = 1000;

/** Each attempt's own deadline: a third of the whole timeout, within [1 s, 10 s]. */
export function attemptTimeout(timeoutMs: number): number {
  return Math.min(MAX_ATTEMPT_TIMEOUT_MS, Math.max(MIN_ATTEMPT_TIMEOUT_MS, Math.ceil(timeoutMs / 3)));
}

export async function deliverMessage(
  webhookUrl: string,
  message: SlackMessage,
  options: DeliveryOptions,
): Promise<DeliveryResult> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const baseBackoff = options.baseBackoffMs ?? 1000;
  const maxBackoff = options.maxBackoffMs ?? 15_000;
  const deadline = clock.now() + options.timeoutMs;
  const perAttempt = options.attemptTimeoutMs ?? attemptTimeout(options.timeoutMs);
  // Loaded on first use so a step that fails on its inputs starts fast.
  const { IncomingWebhook, IncomingWebhookHTTPError } = await import('@slack/webhook');

  // Set by each response, read after a 429: @slack/webhook's errors do not carry headers.
  const lastResponse: { retryAfter: string | null } = { retryAfter: null };
  // node:http(s), not the global fetch: see post.ts.
  const fetchWithHeaders = async (input: string | URL, init?: PostInit) => {
    const signals = [init?.signal, options.signal].filter((s): s is AbortSignal => !!s);
    const response = await post(input, { ...init, signal: AbortSignal.any(signals) });
    lastResponse.retryAfter = response.headers.get('retry-after');
    return response;
  };

  const result: DeliveryResult = { ok: false, statusCode: 0, attempts: 0, waits: [] };
  const fail = (error: string): DeliveryResult => ({ ...result, error });

  let backoffStep = 0;
  while (result.attempts < MAX_ATTEMPTS) {
    const remaining = Math.floor(deadline - clock.now());
    if (remaining <= 0) return fail(`no delivery within the timeout (${options.timeoutMs} ms)`);
    if (options.signal?.aborted) return fail('cancelled before the message was delivered');
    result.attempts += 1;
    lastResponse.retryAfter = null;
    // A hung connection must not eat the whole budget: each attempt has its own deadline, and
    // later attempts get a fresh connection.
    const thisAttemptMs = Math.min(remaining, perAttempt);
    const webhook = new IncomingWebhook(webhookUrl, {
      timeout: thisAttemptMs,
      // @slack/webhook reads only ok, status, statusText and text() of the response.
      fetch: fetchWithHeaders as unknown as typeof fetch,
    });
    let waitMs: number;
    // Said only once the retry is sure to happen (it fits in the timeout and the attempts).
    let problem: string;
    try {
      await webhook.send(message);
      result.ok = true;
      result.statusCode = 200;
      return result;
    } catch (error) {
      if (options.signal?.aborted) return fail('cancelled before the message was delivered');
      if (error instanceof IncomingWebhookHTTPError) {
        const httpError = error;
        result.statusCode = httpError.statusCode;
        const code = slackErrorCode(httpError.body);
        if (code) result.slackError = code;
        if (httpError.statusCode === 429) {
          waitMs = retryAfterMs(lastResponse.retryAfter, httpError.body, Date.now()) ?? 1000;
          problem = `Slack rate-limited the webhook (429); waiting ${waitMs} ms as Retry-After asks`;
        } else if (httpError.statusCode >= 500) {
          waitMs = backoff(backoffStep++, baseBackoff, maxBackoff, random);
          problem = `Slack answered ${httpError.statusCode}; retrying in ${Math.round(waitMs)} ms`;
        } else {
          const advice = ADVICE[code] ?? 'the request was refused; it will not succeed if repeated.';
          return fail(`Slack answered ${httpError.statusCode}${code ? ` ${code}` : ''}: ${advice}`);
        }
      } else {
        // No answer: refused, reset, DNS, or this attempt's timeout.
        waitMs = backoff(backoffStep++, baseBackoff, maxBackoff, random);
        const reason = networkReason(error);
        const why = reason === 'timed out' ? `attempt ${result.attempts} timed out after ${thisAttemptMs} ms` : reason;
        problem = `no answer from the webhook (${why}); retrying in ${Math.round(waitMs)} ms`;
      }
    }
    const left = deadline - clock.now();
    if (waitMs >= left) {
      const why =
        result.statusCode === 429
          ? `Slack asked to wait ${Math.ceil(waitMs / 1000)} s (Retry-After), past the timeout`
          : 'the timeout ran out';
      return fail(`not delivered after ${result.attempts} attempt(s): ${why}${lastProblem(result)}`);
    }
    if (result.attempts >= MAX_ATTEMPTS) break;
    logger.info(problem);
    result.waits.push(Math.round(waitMs));
    try {
      await clock.sleep(waitMs, options.signal);
    } catch {
      return fail('cancelled before the message was delivered');
    }
  }
  return fail(`not delivered after ${result.attempts} attempts${lastProblem(result)}`);
}

function backoff(step: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** step);
  // "Equal jitter": at least half the step, so retries neither bunch up nor collapse to zero.
  return ceiling / 2 + (random() * ceiling) / 2;
}

function networkReason(error: unknown): string {
  const original = (error as { original?: unknown }).original ?? error;
  const cause = (original as { cause?: { code?: string; message?: string } }).cause;
  if ((original as Error).name === 'TimeoutError' || (original as Error).name === 'AbortError') return 'timed out';
  return cause?.code ?? cause?.message ?? (original as Error).message ?? 'network error';
}

function lastProblem(result: DeliveryResult): string {
  if (result.statusCode === 0) return '; the webhook never answered';
  return `; last answer ${result.statusCode}${result.slackError ? ` ${result.slackError}` : ''}`;
}

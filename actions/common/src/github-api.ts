// Calls to GitHub's REST API from the actions (the pull-request comment, GitHub Deployments): one
// retry policy and one way to say what went wrong. 5xx, 429, a 403 secondary rate limit that
// carries Retry-After, and no answer at all are retried with the shared back-off (`retry`),
// waiting exactly Retry-After when GitHub gives one; anything else fails at once.
import { STATUS_CODES } from 'node:http';
import { retry } from '@adci/common/basics';

/** Five attempts, waits of about 0.5, 1, 2 and 4 s (or Retry-After), within a minute. */
export const GITHUB_RETRY = { attempts: 5, initialMs: 500, maxMs: 4000, timeoutMs: 60_000 } as const;

/** What Octokit's RequestError carries (it is not imported: Octokit loads only when it is used). */
interface ApiError {
  name?: string;
  status?: number;
  message?: string;
  response?: { status?: number; headers?: Record<string, string | undefined>; data?: unknown };
}

/** No answer at all: refused, reset, DNS (Octokit reports these as an HttpError without a response). */
function isNetworkError(e: ApiError): boolean {
  return e.name === 'HttpError' && e.response === undefined;
}

/** GitHub's Retry-After, in milliseconds, when the error carries one. */
export function retryAfterMs(error: unknown): number | undefined {
  const header = (error as ApiError).response?.headers?.['retry-after'];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** 5xx, 429 (and a 403 secondary rate limit with Retry-After) and network errors are worth retrying. */
export function githubRetryable(error: unknown): boolean | number {
  const e = error as ApiError;
  if (isNetworkError(e)) return true;
  const status = e.response?.status ?? 0;
  const wait = retryAfterMs(e);
  if (status === 429 || status >= 500) return wait ?? true;
  if (status === 403 && wait !== undefined) return wait;
  return false;
}

/** Runs one GitHub API call under the policy; `onRetry` is told each wait and why. */
export function githubCall<T>(
  operation: () => Promise<T>,
  onRetry?: (info: { error: unknown; delayMs: number }) => void,
): Promise<T> {
  return retry(operation, { ...GITHUB_RETRY, retryable: githubRetryable, ...(onRetry ? { onRetry } : {}) });
}

/**
 * A GitHub API error as one short line: the status and GitHub's JSON `message`, never the body of
 * an HTML error page (GitHub's 5xx pages are HTML).
 */
export function describeApiError(error: unknown): string {
  const e = error as ApiError;
  if (isNetworkError(e)) {
    // Octokit wraps fetch's TypeError, whose cause carries the socket's code.
    const code = (error as { cause?: { cause?: { code?: string } } }).cause?.cause?.code;
    return `no answer from GitHub (${code ?? oneLine(e.message ?? 'network error')})`;
  }
  const status = e.response?.status ?? e.status;
  if (status === undefined) return oneLine(e.message ?? String(error));
  const answered = `GitHub answered ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;
  const data = e.response?.data;
  const message =
    data && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string'
      ? (data as { message: string }).message
      : typeof data === 'string'
        ? data
        : '';
  if (/<\s*(!doctype|html|head|body)\b/i.test(message)) return `${answered} (an HTML error page)`;
  const text = oneLine(message);
  return text ? `${answered}: ${text}` : answered;
}

function oneLine(text: string): string {
  const line = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

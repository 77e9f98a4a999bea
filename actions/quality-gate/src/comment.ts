// One pull-request comment per gate, found again by its hidden marker and updated in place, so a
// re-run never adds a second one. Fork pull requests get a read-only token: skipped with a notice.
// GitHub's 5xx, 429 and network errors are retried with back-off (the shared `retry`); a comment
// that still cannot be written is a warning, and the gate's own verdict stands.
import * as core from '@actions/core';
import { STATUS_CODES } from 'node:http';
import type * as GitHub from '@actions/github';
import { retry } from '@adci/common';
import { renderComment, type GateReport } from '@adci/reports';
import type { QualityGateInputs } from './inputs.ts';

export type CommentOutcome = 'created' | 'updated' | 'skipped' | 'failed';

type Octokit = ReturnType<typeof GitHub.getOctokit>;

/** Back-off of the comment's API calls: five attempts, waits of about 0.5, 1, 2 and 4 s (or Retry-After). */
const COMMENT_RETRY = { attempts: 5, initialMs: 500, maxMs: 4000, timeoutMs: 60_000 } as const;

/** What Octokit's RequestError carries (it is not imported: Octokit loads only when commenting). */
interface ApiError {
  name?: string;
  status?: number;
  message?: string;
  response?: { status?: number; headers?: Record<string, string | undefined>; data?: unknown };
}

/** Our own comment: its first line is the marker (a quote of it by a person starts with '>'). */
async function findComment(octokit: Octokit, inputs: QualityGateInputs, marker: string, issue: number) {
  const { owner, repo } = inputs.repository;
  for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number: issue,
    per_page: 100,
  })) {
    const found = page.data.find((c) => (c.body ?? '').startsWith(marker));
    if (found) return found;
  }
  return undefined;
}

function isPermissionError(error: unknown): boolean {
  const e = error as ApiError;
  if (retryAfterMs(e) !== undefined) return false; // a secondary rate limit, not a permission
  return e.status === 403 || (e.status === 404 && /not accessible|Not Found/i.test(describeApiError(error)));
}

/** No answer at all: refused, reset, DNS (Octokit reports these as an HttpError without a response). */
function isNetworkError(e: ApiError): boolean {
  return e.name === 'HttpError' && e.response === undefined;
}

function retryAfterMs(e: ApiError): number | undefined {
  const header = e.response?.headers?.['retry-after'];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** 5xx, 429 (and a 403 secondary rate limit with Retry-After) and network errors are worth retrying. */
function retryable(error: unknown): boolean | number {
  const e = error as ApiError;
  if (isNetworkError(e)) return true;
  const status = e.response?.status ?? 0;
  const wait = retryAfterMs(e);
  if (status === 429 || status >= 500) return wait ?? true;
  if (status === 403 && wait !== undefined) return wait;
  return false;
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

export async function upsertComment(report: GateReport, inputs: QualityGateInputs): Promise<CommentOutcome> {
  const pr = inputs.pullRequest;
  if (inputs.comment === 'false') return 'skipped';
  if (!pr) {
    core.info('Not a pull request: no comment.');
    return 'skipped';
  }
  if (pr.fromFork) {
    core.notice(
      'This pull request comes from a fork, whose token cannot write comments: the result is in the job summary only. ' +
        'To comment on fork pull requests, run the gate from a workflow_run workflow.',
      { title: 'Quality gate comment skipped' },
    );
    return 'skipped';
  }
  if (!inputs.token) {
    core.notice('No github-token: the result is in the job summary only.', { title: 'Quality gate comment skipped' });
    return 'skipped';
  }
  // Loaded only when commenting: Octokit is most of the bundle, and most runs never need it.
  const github = await import('@actions/github');
  const octokit = github.getOctokit(inputs.token);
  const body = renderComment(report, { id: inputs.commentId, title: inputs.title, runUrl: inputs.runUrl });
  const marker = body.slice(0, body.indexOf('\n'));
  const { owner, repo } = inputs.repository;
  // Each attempt looks for the comment again: a create that failed after GitHub wrote it must
  // update that comment on the retry, not add a second one.
  const write = async (): Promise<CommentOutcome> => {
    const existing = await findComment(octokit, inputs, marker, pr.number);
    if (existing) {
      await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body });
      core.info(`Updated the pull-request comment ${existing.html_url}`);
      return 'updated';
    }
    if (inputs.comment === 'on-failure' && report.passed) {
      core.info('The gate passed and comment is on-failure: no comment.');
      return 'skipped';
    }
    const created = await octokit.rest.issues.createComment({ owner, repo, issue_number: pr.number, body });
    core.info(`Commented on the pull request: ${created.data.html_url}`);
    return 'created';
  };
  let attempts = 0;
  try {
    return await retry(
      () => {
        attempts++;
        return write();
      },
      {
        ...COMMENT_RETRY,
        retryable,
        onRetry: ({ error, delayMs }) =>
          core.info(`retrying the pull-request comment in ${Math.round(delayMs)} ms: ${describeApiError(error)}`),
      },
    );
  } catch (error) {
    if (isPermissionError(error)) {
      core.notice(
        `The token cannot write pull-request comments (${describeApiError(error)}): the result is in the job summary only. ` +
          'Grant `pull-requests: write` to comment.',
        { title: 'Quality gate comment skipped' },
      );
      return 'skipped';
    }
    core.warning(
      `The pull-request comment (comment-id '${inputs.commentId}') on #${pr.number} was not written: ` +
        `${describeApiError(error)} after ${attempts} attempt${attempts === 1 ? '' : 's'}; ` +
        `the gate's verdict (${report.passed ? 'passed' : 'failed'}) stands. The result is in the job summary.`,
      { title: 'Quality gate comment not written' },
    );
    return 'failed';
  }
}

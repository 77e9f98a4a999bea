// One pull-request comment per gate, found again by its hidden marker and updated in place, so a
// re-run never adds a second one. Fork pull requests get a read-only token: skipped with a notice.
// GitHub's 5xx, 429, secondary rate limits and network errors are retried by the actions' one GitHub
// policy (`githubCall`); a comment that still cannot be written is a warning, and the gate's own
// verdict stands.
import * as core from '@actions/core';
import type * as GitHub from '@actions/github';
import { describeApiError, githubCall, retryAfterMs } from '@adci/action-common';
import { renderComment, type GateReport } from '@adci/reports';
import type { QualityGateInputs } from './inputs.ts';

export type CommentOutcome = 'created' | 'updated' | 'skipped' | 'failed';

type Octokit = ReturnType<typeof GitHub.getOctokit>;

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
  if (retryAfterMs(error) !== undefined) return false; // a secondary rate limit, not a permission
  const status = (error as { status?: number }).status;
  return status === 403 || (status === 404 && /not accessible|Not Found/i.test(describeApiError(error)));
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
    return await githubCall(
      () => {
        attempts++;
        return write();
      },
      ({ error, delayMs }) =>
        core.info(`retrying the pull-request comment in ${Math.round(delayMs)} ms: ${describeApiError(error)}`),
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

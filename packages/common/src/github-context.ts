// The GitHub Actions run context as plain data, from the runner's environment and the event
// payload, in one place: the action adapters and `adci` on a GitHub runner read it the same way.
import { readFileSync } from 'node:fs';

export interface RunContext {
  repository: string;
  serverUrl: string;
  /**
   * The commit under test: the pull request's head for pull_request(_target) events (GITHUB_SHA is
   * then the temporary merge commit, or the base branch's head for pull_request_target), else GITHUB_SHA.
   */
  sha: string;
  ref: string;
  /** The branch: the pull request's head branch on a pull request, else GITHUB_REF_NAME. */
  refName: string;
  actor: string;
  workflow: string;
  job: string;
  eventName: string;
  runId: string;
  runNumber: string;
  runAttempt: string;
  runUrl: string;
  commitUrl: string;
  /** First line of the pushed head commit's message (push events); '' otherwise. */
  commitMessage: string;
  pullRequestNumber: number | undefined;
  event: Record<string, unknown>;
}

function readEvent(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const event = readEvent(env.GITHUB_EVENT_PATH);
  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com';
  const repository = env.GITHUB_REPOSITORY ?? '';
  const pr = event.pull_request as { number?: unknown; head?: { sha?: unknown; ref?: unknown } } | undefined;
  const headCommit = event.head_commit as { message?: unknown } | undefined;
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
  const sha = text(pr?.head?.sha) ?? env.GITHUB_SHA ?? '';
  const runId = env.GITHUB_RUN_ID ?? '';
  return {
    repository,
    serverUrl,
    sha,
    ref: env.GITHUB_REF ?? '',
    refName: text(pr?.head?.ref) || env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || '',
    actor: env.GITHUB_ACTOR ?? '',
    workflow: env.GITHUB_WORKFLOW ?? '',
    job: env.GITHUB_JOB ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    runId,
    runNumber: env.GITHUB_RUN_NUMBER ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '',
    runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : '',
    commitUrl: repository && sha ? `${serverUrl}/${repository}/commit/${sha}` : '',
    commitMessage: (text(headCommit?.message) ?? '').split('\n')[0] ?? '',
    pullRequestNumber: typeof pr?.number === 'number' ? pr.number : undefined,
    event,
  };
}

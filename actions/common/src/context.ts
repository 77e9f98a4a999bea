// The GitHub run context as plain data, read from the runner's environment and event payload,
// so engines get values (repository, sha, run URL) without importing @actions/github.
import { readFileSync } from 'node:fs';

export interface RunContext {
  repository: string;
  serverUrl: string;
  sha: string;
  ref: string;
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
  commitMessage: string;
  pullRequestNumber: number | undefined;
  event: Record<string, unknown>;
}

function readEvent(): Record<string, unknown> {
  const path = process.env.GITHUB_EVENT_PATH;
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function readRunContext(): RunContext {
  const env = process.env;
  const event = readEvent();
  const serverUrl = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const repository = env.GITHUB_REPOSITORY ?? '';
  const pr = event.pull_request as { number?: number; head?: { sha?: string; ref?: string } } | undefined;
  const headCommit = event.head_commit as { message?: string } | undefined;
  const sha = pr?.head?.sha ?? env.GITHUB_SHA ?? '';
  const runId = env.GITHUB_RUN_ID ?? '';
  return {
    repository,
    serverUrl,
    sha,
    ref: env.GITHUB_REF ?? '',
    refName: pr?.head?.ref ?? env.GITHUB_HEAD_REF ?? env.GITHUB_REF_NAME ?? '',
    actor: env.GITHUB_ACTOR ?? '',
    workflow: env.GITHUB_WORKFLOW ?? '',
    job: env.GITHUB_JOB ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    runId,
    runNumber: env.GITHUB_RUN_NUMBER ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '',
    runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : '',
    commitUrl: repository && sha ? `${serverUrl}/${repository}/commit/${sha}` : '',
    commitMessage: (headCommit?.message ?? '').split('\n')[0] ?? '',
    pullRequestNumber: typeof pr?.number === 'number' ? pr.number : undefined,
    event,
  };
}

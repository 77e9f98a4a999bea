// The GitHub Deployment that mirrors a blue-green run, when a github-token is given: created
// `in_progress` before anything changes, then `success` (promoted, unchanged, rolled back on
// request), `failure` (failed, rolled back by itself) or `inactive` (an aborted preview). A run
// that stops with the preview ready leaves it `in_progress`; the later `promote` or `abort` job
// finds it again (same environment and commit) and finishes it. A record, not a gate: a GitHub
// API failure is retried by the actions' one GitHub policy (`githubCall`: 5xx, 429, secondary rate
// limits, Retry-After), then is a warning and never changes the deploy.
import * as core from '@actions/core';
import type * as GitHub from '@actions/github';
import { errorMessage } from '@adci/common';
import { githubCall } from '@adci/action-common';
import type { RunContext } from '@adci/common/github-context';

type Octokit = ReturnType<typeof GitHub.getOctokit>;
export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive' | 'error';

/** GitHub refuses a status description over 140 characters. */
export const DESCRIPTION_LIMIT = 140;

export interface DeploymentTarget {
  token: string;
  environment: string;
  environmentUrl?: string;
  app: string;
  namespace: string;
  action: 'deploy' | 'promote' | 'rollback' | 'abort';
  image?: string;
}

export function shorten(text: string, limit = DESCRIPTION_LIMIT): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= limit ? line : `${line.slice(0, limit - 1)}…`;
}

export class GitHubDeployment {
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;
  private readonly target: DeploymentTarget;
  private readonly context: RunContext;
  readonly id: number;

  private constructor(
    octokit: Octokit,
    owner: string,
    repo: string,
    target: DeploymentTarget,
    context: RunContext,
    id: number,
  ) {
    this.octokit = octokit;
    this.owner = owner;
    this.repo = repo;
    this.target = target;
    this.context = context;
    this.id = id;
  }

  /** Creates (deploy, rollback) or finds (promote, abort) the deployment; undefined with a warning on failure. */
  static async open(target: DeploymentTarget, context: RunContext): Promise<GitHubDeployment | undefined> {
    const [owner, repo] = context.repository.split('/');
    if (!owner || !repo) {
      core.warning('github-token is set but GITHUB_REPOSITORY is not: no GitHub Deployment is recorded');
      return undefined;
    }
    try {
      // Loaded only when recording: Octokit is a large part of a bundle most runs do not need.
      const github = await import('@actions/github');
      const octokit = github.getOctokit(target.token);
      const call = <T>(what: string, operation: () => Promise<T>) =>
        githubCall(operation, ({ error, delayMs }) =>
          core.info(`GitHub ${what} failed (${errorMessage(error)}); retrying in ${Math.round(delayMs)} ms`),
        );
      let id: number | undefined;
      if (target.action === 'promote' || target.action === 'abort') {
        // The preview's deployment: this environment, this commit, still in progress.
        const listed = await call('deployments list', () =>
          octokit.rest.repos.listDeployments({
            owner,
            repo,
            environment: target.environment,
            sha: context.sha || undefined,
            per_page: 20,
          }),
        );
        for (const candidate of listed.data) {
          const payload = candidate.payload as { app?: unknown; namespace?: unknown } | string;
          if (typeof payload !== 'object' || payload.app !== target.app || payload.namespace !== target.namespace)
            continue;
          const statuses = await call('deployment statuses', () =>
            octokit.rest.repos.listDeploymentStatuses({ owner, repo, deployment_id: candidate.id, per_page: 1 }),
          );
          if (statuses.data[0]?.state === 'in_progress') id = candidate.id;
          break;
        }
        if (id === undefined && target.action === 'abort') {
          core.info(
            `No GitHub Deployment of ${target.app} is waiting in ${target.environment}: none to mark inactive.`,
          );
          return undefined;
        }
      }
      if (id === undefined) {
        const created = await call('deployment create', () =>
          octokit.rest.repos.createDeployment({
            owner,
            repo,
            ref: context.sha || context.ref,
            environment: target.environment,
            auto_merge: false,
            // The workflow that runs this step already decided; GitHub must not re-check commit statuses.
            required_contexts: [],
            description: shorten(`${target.action} ${target.app}${target.image ? ` ${target.image}` : ''}`),
            payload: { app: target.app, namespace: target.namespace, image: target.image ?? '', tool: 'adci' },
          }),
        );
        if (created.status !== 201 || !('id' in created.data)) {
          core.warning(`GitHub did not create a deployment: ${JSON.stringify(created.data).slice(0, 200)}`);
          return undefined;
        }
        id = created.data.id;
      }
      const deployment = new GitHubDeployment(octokit, owner, repo, target, context, id);
      await deployment.status('in_progress', `${target.action} of ${target.app} started`);
      return deployment;
    } catch (error) {
      core.warning(`Could not record a GitHub Deployment in ${target.environment}: ${errorMessage(error)}`);
      return undefined;
    }
  }

  /** The deployment a main step opened, for the post: step after a cancel or a crash. */
  static async resume(
    id: number,
    target: DeploymentTarget,
    context: RunContext,
  ): Promise<GitHubDeployment | undefined> {
    const [owner, repo] = context.repository.split('/');
    if (!owner || !repo) return undefined;
    const github = await import('@actions/github');
    return new GitHubDeployment(github.getOctokit(target.token), owner, repo, target, context, id);
  }

  /** Posts a status; returns false (with a warning) when GitHub refuses it. */
  async status(state: DeploymentState, description: string): Promise<boolean> {
    try {
      await githubCall(() =>
        this.octokit.rest.repos.createDeploymentStatus({
          owner: this.owner,
          repo: this.repo,
          deployment_id: this.id,
          state,
          description: shorten(description),
          environment: this.target.environment,
          ...(this.context.runUrl ? { log_url: this.context.runUrl } : {}),
          ...(this.target.environmentUrl && state === 'success' ? { environment_url: this.target.environmentUrl } : {}),
        }),
      );
      core.info(`GitHub Deployment ${this.id} in ${this.target.environment}: ${state}`);
      return true;
    } catch (error) {
      core.warning(`Could not set GitHub Deployment ${this.id} to ${state}: ${errorMessage(error)}`);
      return false;
    }
  }
}

/** The status a finished run leaves on its deployment; undefined leaves it in progress. */
export function finalState(result: string, failed: boolean): DeploymentState | undefined {
  if (result === 'preview-ready') return undefined;
  if (result === 'aborted') return 'inactive';
  if (failed) return 'failure';
  return 'success';
}

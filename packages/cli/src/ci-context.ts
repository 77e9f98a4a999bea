// What the CLI knows about the run it is part of, from the variables GitHub Actions, GitLab CI
// and Jenkins set, so `adci notify` from any of them says the same things as the action.
import { readRunContext } from '@adci/common/github-context';
import { runInfoOf, type RunInfo } from '@adci/slack';

export interface CiRun extends RunInfo {
  system: 'github' | 'gitlab' | 'jenkins' | 'local';
  runId: string;
}

export function readCiRun(env: NodeJS.ProcessEnv = process.env): CiRun {
  if (env.GITHUB_ACTIONS === 'true') {
    // The same reader as the actions: on a pull request the commit is the PR head, not GITHUB_SHA's merge commit.
    const context = readRunContext(env);
    return { system: 'github', ...runInfoOf(context), runId: context.runId };
  }
  // GitLab sets GITLAB_CI=true; gitlab-ci-local (a local GitLab pipeline runner) sets it to false but
  // provides the same CI_* job variables, which are what the notification needs.
  if (env.GITLAB_CI === 'true' || (env.GITLAB_CI !== undefined && env.CI_JOB_ID && env.CI_PROJECT_URL)) {
    const projectUrl = env.CI_PROJECT_URL ?? '';
    // A merged-results pipeline tests a temporary merge commit: name the merge request's head instead.
    const sha = env.CI_MERGE_REQUEST_SOURCE_BRANCH_SHA || env.CI_COMMIT_SHA || '';
    return {
      system: 'gitlab',
      repository: env.CI_PROJECT_PATH ?? '',
      repositoryUrl: projectUrl,
      ref: env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME || env.CI_COMMIT_REF_NAME || '',
      sha,
      commitUrl: projectUrl && sha ? `${projectUrl}/-/commit/${sha}` : '',
      commitMessage: env.CI_COMMIT_TITLE ?? '',
      actor: env.GITLAB_USER_LOGIN ?? '',
      workflow: env.CI_JOB_NAME ?? env.CI_PIPELINE_NAME ?? 'pipeline',
      // The job that sent the message (its log); the pipeline when the job URL is unknown.
      runUrl: env.CI_JOB_URL || env.CI_PIPELINE_URL || '',
      runId: env.CI_PIPELINE_ID ?? '',
    };
  }
  if (env.JENKINS_URL) {
    const repositoryUrl = webUrlOfRemote(env.GIT_URL ?? '');
    const sha = env.GIT_COMMIT ?? '';
    return {
      system: 'jenkins',
      repository: repositoryUrl ? new URL(repositoryUrl).pathname.replace(/^\/+/, '') : '',
      repositoryUrl,
      // Multibranch: BRANCH_NAME (PR-7 for a pull request, whose branch is CHANGE_BRANCH); plain jobs: GIT_BRANCH.
      ref: (env.CHANGE_BRANCH || env.BRANCH_NAME || env.GIT_BRANCH || '').replace(/^origin\//, ''),
      sha,
      commitUrl: repositoryUrl && sha ? `${repositoryUrl}/commit/${sha}` : '',
      commitMessage: '',
      actor: env.BUILD_USER_ID ?? '',
      workflow: env.JOB_NAME ?? '',
      runUrl: env.BUILD_URL ?? '',
      runId: env.BUILD_NUMBER ?? '',
    };
  }
  return {
    system: 'local',
    repository: '',
    repositoryUrl: '',
    ref: '',
    sha: '',
    commitUrl: '',
    commitMessage: '',
    actor: env.USER ?? '',
    workflow: 'adci',
    runUrl: '',
    runId: '',
  };
}

/** The web URL of a git remote (https://host/owner/repo.git or git@host:owner/repo.git), or ''. */
function webUrlOfRemote(remote: string): string {
  const scp = /^[\w.-]+@([^:/]+):(.+?)(?:\.git)?\/?$/.exec(remote);
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  try {
    const url = new URL(remote);
    if (url.protocol !== 'https:' && url.protocol !== 'http:' && url.protocol !== 'ssh:') return '';
    const path = url.pathname.replace(/\.git$/, '').replace(/\/+$/, '');
    return path.length > 1 ? `https://${url.hostname}${path}` : '';
  } catch {
    return '';
  }
}

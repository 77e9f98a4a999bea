import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunContext } from '@adci/common/github-context';
import { readCiRun } from './ci-context.ts';

const HEAD = '9f2c4e1a7b3d5f60818a2b3c4d5e6f708192a3b4';
const MERGE = '1111111111111111111111111111111111111111';

function githubEnv(event: unknown, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'adci-ci-context-'));
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(event));
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'org/ads',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '42',
    GITHUB_EVENT_PATH: eventPath,
    ...extra,
  };
}

test('on a pull_request event the CLI and the actions both name the PR head, not the merge commit', () => {
  const env = githubEnv(
    { pull_request: { number: 7, head: { sha: HEAD, ref: 'feature/bids' } } },
    {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_SHA: MERGE,
      GITHUB_REF_NAME: '7/merge',
      GITHUB_HEAD_REF: 'feature/bids',
    },
  );
  const cli = readCiRun(env);
  const action = readRunContext(env);
  assert.equal(cli.sha, HEAD);
  assert.equal(action.sha, HEAD);
  assert.equal(cli.commitUrl, `https://github.com/org/ads/commit/${HEAD}`);
  assert.equal(cli.commitUrl, action.commitUrl);
  assert.equal(cli.ref, 'feature/bids');
  assert.equal(cli.ref, action.refName);
  assert.equal(cli.runUrl, 'https://github.com/org/ads/actions/runs/42');
});

test('on a push the commit is GITHUB_SHA and the message its first line', () => {
  const env = githubEnv(
    { head_commit: { message: 'Raise the bid floor\n\nLonger body' } },
    { GITHUB_EVENT_NAME: 'push', GITHUB_SHA: HEAD, GITHUB_REF_NAME: 'main' },
  );
  const cli = readCiRun(env);
  assert.equal(cli.system, 'github');
  assert.equal(cli.sha, HEAD);
  assert.equal(cli.ref, 'main');
  assert.equal(cli.commitMessage, 'Raise the bid floor');
});

test('an unreadable or mis-shaped event file leaves the environment values', () => {
  for (const event of [null, [1, 2], { pull_request: { head: { sha: 12 } } }]) {
    const env = githubEnv(event, { GITHUB_SHA: HEAD });
    assert.equal(readCiRun(env).sha, HEAD);
  }
  assert.equal(readCiRun({ GITHUB_ACTIONS: 'true', GITHUB_SHA: HEAD, GITHUB_EVENT_PATH: '/nonexistent' }).sha, HEAD);
});

test('GitLab CI: commit, branch and the job URL (not only the pipeline) fill the notification', () => {
  const cli = readCiRun({
    GITLAB_CI: 'true',
    CI_PROJECT_PATH: 'ads/ad-platform',
    CI_PROJECT_URL: 'https://gitlab.example.com/ads/ad-platform',
    CI_COMMIT_SHA: HEAD,
    CI_COMMIT_REF_NAME: 'develop',
    CI_COMMIT_TITLE: 'Raise the bid floor',
    GITLAB_USER_LOGIN: 'ada',
    CI_JOB_NAME: 'deploy-staging',
    CI_JOB_URL: 'https://gitlab.example.com/ads/ad-platform/-/jobs/812',
    CI_PIPELINE_URL: 'https://gitlab.example.com/ads/ad-platform/-/pipelines/77',
    CI_PIPELINE_ID: '77',
  });
  assert.equal(cli.system, 'gitlab');
  assert.equal(cli.sha, HEAD);
  assert.equal(cli.ref, 'develop');
  assert.equal(cli.commitUrl, `https://gitlab.example.com/ads/ad-platform/-/commit/${HEAD}`);
  assert.equal(cli.commitMessage, 'Raise the bid floor');
  assert.equal(cli.runUrl, 'https://gitlab.example.com/ads/ad-platform/-/jobs/812');
  assert.equal(cli.repository, 'ads/ad-platform');
  assert.equal(cli.actor, 'ada');
});

test('GitLab CI merged-results pipeline: the merge request head, not the temporary merge commit', () => {
  const cli = readCiRun({
    GITLAB_CI: 'true',
    CI_PROJECT_URL: 'https://gitlab.example.com/ads/ad-platform',
    CI_COMMIT_SHA: MERGE,
    CI_MERGE_REQUEST_SOURCE_BRANCH_SHA: HEAD,
    CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'feature/bids',
    CI_COMMIT_REF_NAME: 'refs/merge-requests/7/merge',
    CI_PIPELINE_URL: 'https://gitlab.example.com/ads/ad-platform/-/pipelines/78',
  });
  assert.equal(cli.sha, HEAD);
  assert.equal(cli.ref, 'feature/bids');
  assert.equal(cli.runUrl, 'https://gitlab.example.com/ads/ad-platform/-/pipelines/78');
});

test('Jenkins: commit with its link, branch (multibranch, PR and plain jobs) and the build URL', () => {
  const base = {
    JENKINS_URL: 'https://jenkins.example.com/',
    BUILD_URL: 'https://jenkins.example.com/job/ad-platform/job/develop/42/',
    BUILD_NUMBER: '42',
    JOB_NAME: 'ad-platform/develop',
    GIT_COMMIT: HEAD,
  };
  const https = readCiRun({ ...base, BRANCH_NAME: 'develop', GIT_URL: 'https://github.com/org/ads.git' });
  assert.equal(https.system, 'jenkins');
  assert.equal(https.sha, HEAD);
  assert.equal(https.ref, 'develop');
  assert.equal(https.repository, 'org/ads');
  assert.equal(https.repositoryUrl, 'https://github.com/org/ads');
  assert.equal(https.commitUrl, `https://github.com/org/ads/commit/${HEAD}`);
  assert.equal(https.runUrl, 'https://jenkins.example.com/job/ad-platform/job/develop/42/');
  assert.equal(https.workflow, 'ad-platform/develop');

  const ssh = readCiRun({ ...base, GIT_BRANCH: 'origin/main', GIT_URL: 'git@github.com:org/ads.git' });
  assert.equal(ssh.ref, 'main');
  assert.equal(ssh.repository, 'org/ads');
  assert.equal(ssh.commitUrl, `https://github.com/org/ads/commit/${HEAD}`);

  const pr = readCiRun({ ...base, BRANCH_NAME: 'PR-7', CHANGE_BRANCH: 'feature/bids', GIT_URL: '' });
  assert.equal(pr.ref, 'feature/bids');
  assert.equal(pr.commitUrl, '');
  assert.equal(pr.repository, '');
});

test('gitlab-ci-local (GITLAB_CI=false, the same CI_* job variables) reads as GitLab', () => {
  const cli = readCiRun({
    GITLAB_CI: 'false',
    CI_JOB_ID: '3',
    CI_PROJECT_URL: 'https://gitlab.example.com/ads/ad-platform',
    CI_COMMIT_SHA: HEAD,
    CI_COMMIT_REF_NAME: 'develop',
    CI_JOB_URL: 'https://gitlab.example.com/ads/ad-platform/-/jobs/3',
  });
  assert.equal(cli.system, 'gitlab');
  assert.equal(cli.ref, 'develop');
  assert.equal(cli.runUrl, 'https://gitlab.example.com/ads/ad-platform/-/jobs/3');
  assert.equal(readCiRun({ GITLAB_CI: 'false' }).system, 'local');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DESCRIPTION_LIMIT, finalState, shorten } from './github-deployment.ts';

test('a status description fits GitHub’s 140 characters on one line', () => {
  assert.equal(shorten('short\nreason'), 'short reason');
  const long = shorten('x'.repeat(500));
  assert.equal(long.length, DESCRIPTION_LIMIT);
  assert.ok(long.endsWith('…'));
});

test('each result maps to the deployment state GitHub shows', () => {
  assert.equal(finalState('promoted', false), 'success');
  assert.equal(finalState('unchanged', false), 'success');
  assert.equal(finalState('rolled-back', false), 'success'); // a rollback someone asked for
  assert.equal(finalState('rolled-back', true), 'failure'); // rolled back by itself
  assert.equal(finalState('failed', true), 'failure');
  assert.equal(finalState('aborted', false), 'inactive');
  assert.equal(finalState('preview-ready', false), undefined);
});

test('a secondary rate limit (403 with Retry-After) is waited out, as the pull-request comment does', async (t) => {
  const { startFakeGitHub } = await import('../../../test/fakes/github-api.ts');
  const { readRunContext } = await import('@adci/common/github-context');
  const { GitHubDeployment } = await import('./github-deployment.ts');
  const github = await startFakeGitHub({ owner: 'acme', repo: 'shop' });
  const saved = process.env.GITHUB_API_URL;
  process.env.GITHUB_API_URL = github.url;
  t.after(async () => {
    if (saved === undefined) delete process.env.GITHUB_API_URL;
    else process.env.GITHUB_API_URL = saved;
    await github.close();
  });
  github.fail({
    status: 403,
    body: JSON.stringify({ message: 'You have exceeded a secondary rate limit. Please wait a few minutes.' }),
    headers: { 'retry-after': '1' },
  });
  const context = readRunContext({
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '7',
  });
  const started = performance.now();
  const deployment = await GitHubDeployment.open(
    { token: github.token, environment: 'production', app: 'shop', namespace: 'prod', action: 'deploy' },
    context,
  );
  assert.ok(deployment, 'the deployment was recorded after the wait');
  assert.ok(performance.now() - started >= 950, 'Retry-After asked for 1 s');
  assert.deepEqual(
    github.deployments().map((d) => d.statuses.map((s) => s.state)),
    [['in_progress']],
  );
  assert.deepEqual(github.violations, []);
});

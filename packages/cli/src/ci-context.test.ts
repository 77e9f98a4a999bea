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

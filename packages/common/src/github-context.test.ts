// Unit tests of github-context.ts: the run context from the runner's environment and the event
// payload (test/act/events holds the payloads the act harness sends, as GitHub sends them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunContext } from './github-context.ts';

const HEAD = '9f2c4e1a7b3d5f60818a2b3c4d5e6f708192a3b4';
const MERGE = '1111111111111111111111111111111111111111';
const events = join(import.meta.dirname, '..', '..', '..', 'test', 'act', 'events');

/** The act harness's event payload with its {{ placeholders }} filled, written to a temporary file. */
function eventFile(t: { after: (fn: () => void) => void }, name: string, values: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'adci-github-context-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const text = readFileSync(join(events, name), 'utf8').replace(
    /\{\{ (\w+) \}\}/g,
    (_, key: string) => values[key] ?? '',
  );
  const path = join(dir, 'event.json');
  writeFileSync(path, text);
  return path;
}

const runner = {
  GITHUB_REPOSITORY: 'org/adci',
  GITHUB_RUN_ID: '42',
  GITHUB_RUN_NUMBER: '7',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_ACTOR: 'ada',
  GITHUB_WORKFLOW: 'ci',
  GITHUB_JOB: 'gate',
};

test('pull_request: the commit and branch are the PR head, not the merge commit GITHUB_SHA', (t) => {
  const context = readRunContext({
    ...runner,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventFile(t, 'pull_request.json', { head: HEAD, base: MERGE }),
    GITHUB_SHA: MERGE,
    GITHUB_REF: 'refs/pull/7/merge',
    GITHUB_REF_NAME: '7/merge',
  });
  assert.equal(context.sha, HEAD);
  assert.equal(context.refName, 'feature/bid-floor');
  assert.equal(context.ref, 'refs/pull/7/merge');
  assert.equal(context.pullRequestNumber, 7);
  assert.equal(context.serverUrl, 'https://github.com');
  assert.equal(context.commitUrl, `https://github.com/org/adci/commit/${HEAD}`);
  assert.equal(context.runUrl, 'https://github.com/org/adci/actions/runs/42');
  assert.equal(context.commitMessage, '');
  assert.deepEqual(
    [context.actor, context.workflow, context.job, context.runNumber, context.runAttempt],
    ['ada', 'ci', 'gate', '7', '2'],
  );
});

test('push: GITHUB_SHA and GITHUB_REF_NAME, the first line of the head commit message', (t) => {
  const context = readRunContext({
    ...runner,
    GITHUB_SERVER_URL: 'https://ghe.example.com',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: eventFile(t, 'push-main.json', { head: HEAD, message: 'Raise the bid floor\\n\\nBody' }),
    GITHUB_SHA: HEAD,
    GITHUB_REF_NAME: 'main',
  });
  assert.equal(context.sha, HEAD);
  assert.equal(context.refName, 'main');
  assert.equal(context.commitMessage, 'Raise the bid floor');
  assert.equal(context.pullRequestNumber, undefined);
  assert.equal(context.commitUrl, `https://ghe.example.com/org/adci/commit/${HEAD}`);
});

test('no event file, an unreadable one or a mis-shaped one: the environment values, and no URLs without their parts', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adci-github-context-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'broken.json'), '{ "pull_request": ');
  writeFileSync(join(dir, 'array.json'), '[1, 2]');
  writeFileSync(join(dir, 'numbers.json'), '{ "pull_request": { "number": "7", "head": { "sha": 12, "ref": "" } } }');
  for (const path of [
    undefined,
    join(dir, 'missing.json'),
    ...['broken', 'array', 'numbers'].map((n) => join(dir, `${n}.json`)),
  ]) {
    const context = readRunContext({
      GITHUB_EVENT_PATH: path,
      GITHUB_SHA: MERGE,
      GITHUB_HEAD_REF: 'feature/x',
      GITHUB_REF_NAME: '7/merge',
    });
    assert.equal(context.sha, MERGE, String(path));
    assert.equal(context.refName, 'feature/x', 'GITHUB_HEAD_REF before GITHUB_REF_NAME');
    assert.equal(context.pullRequestNumber, undefined);
    assert.equal(context.runUrl, '', 'no repository, no run URL');
    assert.equal(context.commitUrl, '');
  }
  assert.equal(readRunContext({}).sha, '');
});

// `adci notify` never logs a retry that will not happen: with a 5 s timeout and a webhook that never
// answers, every "retrying" line is followed by another attempt, and the last attempt's failure says
// it gave up (the timeout), not that it retries.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../runner/index.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';

let slack: FakeSlack;
before(async () => {
  slack = await startFakeSlack();
});
after(async () => {
  await slack.close();
});

function adci(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'adci.js'), ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

for (const scripted of [
  { name: 'never answers', answers: Array.from({ length: 8 }, () => ({ hang: true })) },
  { name: 'answers 503', answers: Array.from({ length: 8 }, () => ({ status: 503, body: 'unavailable' })) },
]) {
  test(`adci notify --timeout 5s, a webhook that ${scripted.name}: every logged retry happens`, async () => {
    slack.reset();
    slack.script(...scripted.answers);
    const { code, stderr } = await adci(['notify', '--status', 'success', '--timeout', '5s', '--fail-on-error'], {
      SLACK_WEBHOOK_URL: slack.webhookUrl,
    });
    assert.equal(code, 1, stderr);
    const retries = stderr.split('\n').filter((line) => /retrying in/.test(line)).length;
    assert.equal(retries, slack.received.length - 1, `${slack.received.length} attempt(s), log:\n${stderr}`);
    assert.match(stderr, /not delivered/);
  });
}

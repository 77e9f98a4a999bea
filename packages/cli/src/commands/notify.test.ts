// `adci notify` from the sources, on the Slack fake (test/fakes/slack.ts): the webhook URL only from
// the environment, the message composed from flags and the CI run, a custom payload, delivery
// failures and --fail-on-error, and flag errors naming the flag before anything is sent. The built
// CLI is tested end to end in test/e2e/notify-timeout-cli.test.ts and test/e2e/cli.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeSlack, type FakeSlack } from '../../../../test/fakes/slack.ts';
import { adciFromSources, type AdciRun } from '../../../../test/runner/adci-sources.ts';

let slack: FakeSlack;
const scratch = mkdtempSync(join(tmpdir(), 'adci-notify-cmd-'));
before(async () => {
  slack = await startFakeSlack();
});
after(async () => {
  await slack.close();
  rmSync(scratch, { recursive: true, force: true });
});

const adci = (args: string[], env: Record<string, string> = {}): Promise<AdciRun> =>
  adciFromSources(args, { env, timeoutMs: 60_000 });

const gitlab = {
  GITLAB_CI: 'true',
  CI_PROJECT_PATH: 'ads/bidder',
  CI_PROJECT_URL: 'https://gitlab.example.com/ads/bidder',
  CI_COMMIT_SHA: '0123456789abcdef0123456789abcdef01234567',
  CI_COMMIT_REF_NAME: 'main',
  CI_PIPELINE_URL: 'https://gitlab.example.com/ads/bidder/-/pipelines/42',
  CI_PIPELINE_ID: '42',
  GITLAB_USER_LOGIN: 'ann',
};

test('the default message, from flags and the CI run, is delivered; --json prints the delivery', async () => {
  slack.reset();
  const run = await adci(
    [
      'notify',
      '--status',
      'failure',
      '--title',
      'Deploy to prod',
      '--environment',
      'prod',
      '--mention',
      'U024BE7LH',
      '--json',
    ],
    { ...gitlab, SLACK_WEBHOOK_URL: slack.webhookUrl },
  );
  assert.equal(run.code, 0, run.err);
  const delivery = JSON.parse(run.out) as { adciVersion: string; ok: boolean; attempts: number };
  assert.deepEqual([delivery.ok, delivery.attempts], [true, 1]);
  assert.equal(slack.received.length, 1);
  const sent = JSON.stringify(slack.received[0]?.json);
  assert.match(sent, /Deploy to prod/);
  assert.match(sent, /<@U024BE7LH>/, 'the mention on a failure');
  assert.match(sent, /ads\/bidder/);
  assert.match(sent, /0123456/);
});

test('a custom payload from a file, with placeholders from the run and the flags', async () => {
  slack.reset();
  const file = join(scratch, 'payload.yml');
  writeFileSync(
    file,
    'text: "{{ status }} of {{ repository }} at {{ short_sha }} by {{ actor }} ({{ env.REGION }})"\n',
  );
  const run = await adci(['notify', '--status', 'success', '--payload-file', file], {
    ...gitlab,
    SLACK_WEBHOOK_URL: slack.webhookUrl,
    REGION: 'eu-west',
  });
  assert.equal(run.code, 0, run.err);
  assert.equal(run.out, 'delivered to Slack (1 attempt(s))\n');
  assert.deepEqual(slack.received[0]?.json, { text: 'success of ads/bidder at 0123456 by ann (eu-west)' });
});

test('no webhook URL: skipped with a warning and exit 0, unless --fail-on-error; a refused delivery', async () => {
  slack.reset();
  const skipped = await adci(['notify', '--json'], gitlab);
  assert.equal(skipped.code, 0);
  assert.match(skipped.err, /SLACK_WEBHOOK_URL/);
  assert.equal((JSON.parse(skipped.out) as { ok: boolean }).ok, false);
  const required = await adci(['notify', '--fail-on-error'], gitlab);
  assert.equal(required.code, 2);
  assert.match(required.err, /SLACK_WEBHOOK_URL/);
  const wrongPath = `${slack.url}/services/T000/B000/nope`;
  const refused = await adci(['notify', '--fail-on-error', '--timeout', '5s'], {
    ...gitlab,
    SLACK_WEBHOOK_URL: wrongPath,
  });
  assert.equal(refused.code, 1);
  assert.match(refused.err, /not delivered: .*404.*no_service/);
  const tolerated = await adci(['notify', '--timeout', '5s'], { ...gitlab, SLACK_WEBHOOK_URL: wrongPath });
  assert.equal(tolerated.code, 0, 'a failed delivery does not fail the job without --fail-on-error');
  assert.equal(slack.received.filter((r) => r.path === '/services/T000/B000/nope').length, 2);
});

test('flag errors exit 2 naming the flag, and nothing is sent', async () => {
  slack.reset();
  const file = join(scratch, 'p.json');
  writeFileSync(file, '{"text": "x"}');
  const cases: [string[], RegExp][] = [
    [['--status', 'great'], /argument 'great' is invalid.*success/],
    [['--payload', '{"text":"a"}', '--payload-file', file], /'--payload'.*either --payload or --payload-file/],
    [['--payload', '{"text": "{{ nope }}"}'], /nope/],
    [['--fields', '- a'], /'--fields'/],
    [['--mention', 'ann'], /'--mention'/],
    [['--timeout', 'soon'], /'--timeout'.*'soon' is not a valid duration/],
  ];
  for (const [flags, message] of cases) {
    const run = await adci(['notify', ...flags], { ...gitlab, SLACK_WEBHOOK_URL: slack.webhookUrl });
    assert.equal(run.code, 2, `${flags.join(' ')}: ${run.err}`);
    assert.match(run.err, message);
  }
  assert.equal(slack.received.length, 0);
});

// Unit tests of notify.ts: the message composed (the default one, or a custom payload with its
// placeholders filled and refused before anything is sent), then delivered to the Slack webhook
// fake on loopback (test/fakes/slack.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@adci/common/basics';
import { startFakeSlack } from '../../../test/fakes/slack.ts';
import type { MessageSettings, RunInfo } from './message.ts';
import { composeMessage, notify, templateValues, type NotifySettings } from './notify.ts';

const run: RunInfo = {
  repository: 'org/ads',
  repositoryUrl: 'https://github.com/org/ads',
  ref: 'main',
  sha: '0123456789abcdef',
  commitUrl: 'https://github.com/org/ads/commit/0123456789abcdef',
  commitMessage: 'Raise the bid floor',
  actor: 'dev',
  workflow: 'Deploy',
  runUrl: 'https://github.com/org/ads/actions/runs/1',
};
const message: MessageSettings = {
  status: 'failure',
  title: '',
  text: '',
  fields: {},
  environment: 'production',
  environmentUrl: 'https://ads.example.com',
  image: 'ads:v2',
  mention: ['U024BE7LH'],
};

function settings(extra: Partial<NotifySettings> = {}): NotifySettings {
  const values = templateValues(run, message, { region: 'eu' });
  return {
    webhookUrl: 'http://127.0.0.1:1/unused',
    message,
    run,
    lookup: (name) => (values as Record<string, string>)[name],
    timeoutMs: 5000,
    ...extra,
  };
}

test('templateValues: every placeholder a payload may use, extra values last', () => {
  const values: Record<string, string> = templateValues(run, message, { region: 'eu', status: 'overridden' });
  assert.equal(values.short_sha, '0123456');
  assert.equal(values.commit_message, 'Raise the bid floor');
  assert.equal(values.environment_url, 'https://ads.example.com');
  assert.equal(values.region, 'eu');
  assert.equal(values.status, 'overridden');
});

test('composeMessage: the default message without a payload, the filled payload with one', () => {
  const standard = composeMessage(settings());
  assert.match(standard.text ?? '', /^<@U024BE7LH> ❌ Deploy failed in org\/ads@0123456 by dev$/);
  const custom = composeMessage(
    settings({ payload: { value: { text: '{{ status }} {{ short_sha }} in {{ region }}' }, source: 'payload' } }),
  );
  assert.deepEqual(custom, { text: 'failure 0123456 in eu' });
  assert.throws(
    () => composeMessage(settings({ payload: { value: { text: '{{ nope }}' }, source: 'payload-file (slack.yml)' } })),
    /^InputError: Input 'payload-file \(slack\.yml\)': unknown placeholder \{\{ nope \}\}$/,
  );
  assert.throws(
    () => composeMessage(settings({ payload: { value: ['text'], source: 'payload' } })),
    /Input 'payload': the payload must be a JSON or YAML object/,
  );
});

test('notify delivers the composed message; a bad payload is refused before anything is sent', async (t) => {
  const slack = await startFakeSlack();
  t.after(() => slack.close());
  const result = await notify(settings({ webhookUrl: slack.webhookUrl }), { logger: silentLogger });
  assert.equal(result.delivery.ok, true);
  assert.deepEqual(slack.received[0]?.json, result.message);

  await assert.rejects(
    () =>
      notify(settings({ webhookUrl: slack.webhookUrl, payload: { value: { blocks: 'x' }, source: 'payload' } }), {
        logger: silentLogger,
      }),
    /Input 'payload': the payload breaks Slack's limits, nothing was sent: blocks must be a list of blocks/,
  );
  assert.equal(slack.received.length, 1, 'nothing more was sent');
});

// Unit tests of settings.ts: mentions, the webhook URL (an empty one is a reason to skip unless
// fail-on-error), custom payloads; every error names the input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWebhookUrl, parseMentions, parsePayload, resolveWebhookUrl } from './settings.ts';

test('an empty webhook URL is a reason to skip, or an input error with fail-on-error', () => {
  const names = { input: 'webhook-url', failOnError: 'fail-on-error: true' };
  const skipped = resolveWebhookUrl('', false, names);
  assert.ok('skipped' in skipped);
  assert.match(skipped.skipped, /input 'webhook-url' is empty \(pull requests from forks get no secrets/);
  assert.throws(() => resolveWebhookUrl('', true, names), /Input 'webhook-url': is empty/);
  assert.deepEqual(resolveWebhookUrl('https://hooks.slack.com/services/T/B/x', true, names), {
    url: 'https://hooks.slack.com/services/T/B/x',
  });
  assert.throws(() => resolveWebhookUrl('not a url', false, names), /Input 'webhook-url': is not a valid URL/);
});

test('parseMentions: user, group and special ids, separated any way, @ tolerated; anything else names the input', () => {
  assert.deepEqual(parseMentions('U024BE7LH, @W012A3CDE\nS0614TZR7 here  channel', 'mention'), [
    'U024BE7LH',
    'W012A3CDE',
    'S0614TZR7',
    'here',
    'channel',
  ]);
  assert.deepEqual(parseMentions('  ', 'mention'), []);
  assert.throws(
    () => parseMentions('U024BE7LH, @alice', '--mention'),
    /^InputError: Input '--mention': 'alice' is not a Slack user id \(U…\/W…\), group id \(S…\), here or channel$/,
  );
});

test('checkWebhookUrl: http(s) only, and the URL, a secret, is never echoed', () => {
  const secret = 'ftp://hooks.slack.com/services/T0/B0/s3cret';
  assert.throws(
    () => checkWebhookUrl(secret, 'webhook-url'),
    (error: Error) => /^Input 'webhook-url': must be an https URL, not ftp:$/.test(error.message),
  );
  assert.throws(
    () => checkWebhookUrl('', '--webhook-url'),
    /^InputError: Input '--webhook-url': is required: it is empty/,
  );
  assert.throws(
    () => checkWebhookUrl('hooks.slack.com/s3cret', 'webhook-url'),
    (error: Error) => !error.message.includes('s3cret'),
  );
});

test('parsePayload: JSON or YAML text; a syntax error names the source with line and column', async () => {
  assert.deepEqual(await parsePayload('{"text": "hi"}', 'payload'), { value: { text: 'hi' }, source: 'payload' });
  assert.deepEqual((await parsePayload('blocks:\n  - type: divider\n', 'payload-file (slack.yml)')).value, {
    blocks: [{ type: 'divider' }],
  });
  await assert.rejects(
    () => parsePayload('blocks: [\n', 'payload-file (slack.yml)'),
    /^InputError: Input 'payload-file \(slack\.yml\)': line \d+, column \d+/,
  );
});

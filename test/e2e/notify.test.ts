// End-to-end: dist/notify run through the runner harness against a local Slack-like webhook server.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runActionBundle, type ActionResult } from '../runner/index.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';

let slack: FakeSlack;
before(async () => {
  slack = await startFakeSlack();
});
after(async () => {
  await slack.close();
});
beforeEach(() => slack.reset());

const pushEvent = { head_commit: { message: 'Raise the bid cap for retargeting\n\nLonger body' } };

function notify(inputs: Record<string, string>, extra: { env?: Record<string, string>; cancelAfterMs?: number } = {}) {
  return runActionBundle('notify', {
    with: inputs,
    event: pushEvent,
    env: extra.env,
    cancelAfterMs: extra.cancelAfterMs,
    timeoutMs: 60_000,
  });
}

/** The webhook URL (and its secret path) must never be visible anywhere a person or log reader looks. */
function assertNoLeak(result: ActionResult, url = slack.webhookUrl): void {
  const secretPath = new URL(url).pathname;
  const visible = [result.stdout, result.stderr, result.summary, JSON.stringify(result.annotations)].join('\n');
  assert.ok(!visible.includes(url), 'webhook URL leaked');
  assert.ok(!visible.includes(secretPath), 'webhook path leaked');
  assert.ok(result.masks.includes(url), 'webhook URL was not masked with add-mask');
}

const messageOf = (i = 0) =>
  slack.received[i]?.json as {
    text: string;
    blocks: { type: string; text: { text: string } }[];
    attachments: { color: string; blocks: { type: string; text?: { text: string }; fields?: { text: string }[] }[] }[];
  };

test('success: the default message carries the run facts, outputs report one attempt', async () => {
  const result = await notify({
    'webhook-url': slack.webhookUrl,
    status: 'success',
    title: 'Deploy ad-platform',
    environment: 'production',
    'environment-url': 'https://ads.example.test',
    image: 'ad-platform:1.4.2',
    fields: 'Campaigns: "12"\nRegion: eu-west',
    mention: 'U024BE7LH',
  });
  assert.equal(result.exitCode, 0, result.stdout);
  assert.deepEqual(result.outputs, { ok: 'true', 'status-code': '200', attempts: '1' });
  assert.equal(slack.received.length, 1);
  assert.equal(slack.received[0]?.headers['content-type'], 'application/json');
  const message = messageOf();
  assert.deepEqual(message.blocks, [
    { type: 'header', text: { type: 'plain_text', text: '✅ Deploy ad-platform', emoji: true } },
  ]);
  assert.equal(message.attachments[0]?.color, '#2EB67D');
  const fields = message.attachments[0]?.blocks[0]?.fields?.map((f) => f.text);
  assert.deepEqual(fields, [
    '*Repository*\n<https://github.com/adci-org/ad-platform|adci-org/ad-platform>',
    '*Branch*\nmain',
    '*Commit*\n<https://github.com/adci-org/ad-platform/commit/4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39|4f2a9c1> Raise the bid cap for retargeting',
    '*Actor*\noctocat',
    '*Workflow*\n<https://github.com/adci-org/ad-platform/actions/runs/7001|Deploy>',
    '*Environment*\n<https://ads.example.test|production>',
    '*Image*\n`ad-platform:1.4.2`',
    '*Campaigns*\n12',
    '*Region*\neu-west',
  ]);
  // Mentions are for failures only.
  assert.ok(!JSON.stringify(message).includes('U024BE7LH'));
  assert.match(message.text, /✅ Deploy ad-platform in adci-org\/ad-platform@4f2a9c1 by octocat/);
  assert.match(result.summary, /Delivered to Slack after 1 attempt/);
  assert.match(result.summary, /### ✅ Deploy ad-platform/);
  assert.match(result.summary, /\| \*\*Environment\*\* \| \[production\]\(https:\/\/ads.example.test\) \|/);
  assertNoLeak(result);
});

test('failure mentions users and groups; the webhook URL may come from SLACK_WEBHOOK_URL', async () => {
  const result = await notify(
    { status: 'failure', mention: 'U024BE7LH, S0614TZR7' },
    { env: { SLACK_WEBHOOK_URL: slack.webhookUrl } },
  );
  assert.equal(result.exitCode, 0, result.stdout);
  const message = messageOf();
  assert.equal(message.attachments[0]?.color, '#E01E5A');
  assert.equal(message.attachments[0]?.blocks[0]?.text?.text, '<@U024BE7LH> <!subteam^S0614TZR7>');
  assert.match(message.text, /^<@U024BE7LH> <!subteam\^S0614TZR7> ❌ Deploy failed/);
  assertNoLeak(result);
});

test('429 with Retry-After: waits as told, then delivers', async () => {
  slack.script({
    status: 429,
    body: '{"retry_after":1,"ok":false,"error":"rate_limited"}',
    headers: { 'retry-after': '1' },
  });
  const result = await notify({ 'webhook-url': slack.webhookUrl, status: 'success' });
  assert.equal(result.exitCode, 0, result.stdout);
  assert.deepEqual(result.outputs, { ok: 'true', 'status-code': '200', attempts: '2' });
  assert.equal(slack.received.length, 2);
  const gap = (slack.received[1]?.at ?? 0) - (slack.received[0]?.at ?? 0);
  assert.ok(gap >= 950, `second attempt came ${gap} ms after the 429; Retry-After asked for 1000 ms`);
  assert.deepEqual(slack.received[1]?.json, slack.received[0]?.json, 'the retry sends the same message');
  assert.match(result.stdout, /rate-limited the webhook \(429\); waiting 1000 ms/);
  assertNoLeak(result);
});

test('429 whose Retry-After is past the timeout fails at once instead of overrunning', async () => {
  slack.script({ status: 429, body: 'rate_limited', headers: { 'retry-after': '120' } });
  const result = await notify({ 'webhook-url': slack.webhookUrl, status: 'success', timeout: '5s' });
  assert.equal(result.exitCode, 0);
  assert.deepEqual(result.outputs, { ok: 'false', 'status-code': '429', attempts: '1' });
  assert.ok(result.durationMs < 5000, `took ${result.durationMs} ms`);
  const warning = result.annotations.find((a) => a.level === 'warning');
  assert.match(warning?.message ?? '', /Slack asked to wait 120 s \(Retry-After\), past the timeout/);
  assertNoLeak(result);
});

test('a burst of 5xx is retried with backoff until Slack recovers', async () => {
  slack.script({ status: 503, body: 'service_unavailable' }, { status: 500, body: 'rollup_error' }, { status: 502 });
  const result = await notify({ 'webhook-url': slack.webhookUrl, status: 'started' });
  assert.equal(result.exitCode, 0, result.stdout);
  assert.deepEqual(result.outputs, { ok: 'true', 'status-code': '200', attempts: '4' });
  const at = slack.received.map((r) => r.at);
  const waits = at.slice(1).map((t, i) => t - (at[i] as number));
  // Equal jitter: each wait is between half and all of 1 s, 2 s, 4 s.
  assert.ok(waits[0]! >= 450 && waits[1]! >= 950 && waits[2]! >= 1950, `waits ${waits.join(', ')}`);
  assertNoLeak(result);
});

test('404 no_service: not retried, explained, the step passes with a warning and ok=false', async () => {
  const wrongUrl = `${slack.url}/services/T0ADCI0001/B0GONE0000/deletedSecret123`;
  const result = await notify({ 'webhook-url': wrongUrl, status: 'success' });
  assert.equal(result.exitCode, 0);
  assert.equal(slack.received.length, 1);
  assert.deepEqual(result.outputs, { ok: 'false', 'status-code': '404', attempts: '1' });
  const warning = result.annotations.find((a) => a.level === 'warning');
  assert.match(warning?.message ?? '', /Slack answered 404 no_service: the webhook was removed or disabled/);
  assert.match(result.summary, /Not delivered: Slack answered 404 no_service/);
  assertNoLeak(result, wrongUrl);
});

test('404 no_service with fail-on-error: the step fails', async () => {
  const wrongUrl = `${slack.url}/services/T0ADCI0001/B0GONE0000/deletedSecret123`;
  const result = await notify({ 'webhook-url': wrongUrl, status: 'success', 'fail-on-error': 'true' });
  assert.equal(result.exitCode, 1);
  assert.equal(result.outputs.ok, 'false');
  const error = result.annotations.find((a) => a.level === 'error');
  assert.match(error?.message ?? '', /Slack notification failed: Slack answered 404 no_service/);
  assertNoLeak(result, wrongUrl);
});

test('400 invalid_blocks from Slack is reported with advice and not retried', async () => {
  slack.script({ status: 400, body: 'invalid_blocks' });
  const result = await notify({ 'webhook-url': slack.webhookUrl, payload: '{"blocks":[{"type":"sektion"}]}' });
  assert.equal(result.exitCode, 0);
  assert.equal(slack.received.length, 1);
  assert.deepEqual(result.outputs, { ok: 'false', 'status-code': '400', attempts: '1' });
  assert.match(result.annotations[0]?.message ?? '', /400 invalid_blocks: Slack refused the blocks/);
  assertNoLeak(result);
});

test('a webhook that never answers: the delivery gives up within the timeout', async () => {
  slack.script({ hang: true }, { hang: true }, { hang: true }, { hang: true });
  const result = await notify({ 'webhook-url': slack.webhookUrl, timeout: '3s', 'fail-on-error': 'true' });
  assert.equal(result.exitCode, 1);
  assert.equal(result.outputs.ok, 'false');
  assert.equal(result.outputs['status-code'], '0');
  assert.ok(result.durationMs < 8000, `took ${result.durationMs} ms for a 3 s timeout`);
  assert.match(result.annotations.find((a) => a.level === 'error')?.message ?? '', /never answered|timeout/);
  assertNoLeak(result);
});

test('a stalled first attempt has its own deadline: the second attempt is delivered within the timeout', async () => {
  // The first connection is accepted and never answered; a per-attempt deadline (a third of the
  // timeout here) ends it, so the retry still fits in the 6 s budget.
  slack.script({ hang: true });
  const result = await notify({ 'webhook-url': slack.webhookUrl, timeout: '6s', 'fail-on-error': 'true' });
  assert.equal(result.exitCode, 0, result.stdout);
  assert.deepEqual(result.outputs, { ok: 'true', 'status-code': '200', attempts: '2' });
  assert.equal(slack.received.length, 2);
  const gap = (slack.received[1]?.at ?? 0) - (slack.received[0]?.at ?? 0);
  assert.ok(gap >= 1900 && gap < 5000, `second attempt came ${gap} ms after the first`);
  assert.match(result.stdout, /no answer from the webhook \(attempt 1 timed out after 2000 ms\); retrying/);
  assertNoLeak(result);
});

test('an empty webhook-url (fork pull requests get no secrets) is a warning saying why; the step passes', async () => {
  const result = await notify({ 'webhook-url': '', status: 'failure' });
  assert.equal(result.exitCode, 0, result.stdout);
  assert.deepEqual(result.outputs, { ok: 'false', 'status-code': '0', attempts: '0' });
  assert.equal(slack.received.length, 0);
  const warnings = result.annotations.filter((a) => a.level === 'warning');
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]?.message ?? '',
    /Slack notification not sent: input 'webhook-url' is empty.*pull requests from forks get no secrets.*fail-on-error: true/,
  );
  assert.match(result.summary, /Not sent: input 'webhook-url' is empty/);
});

test('an empty webhook-url with fail-on-error: the step fails, naming the input and why', async () => {
  const result = await notify({ 'webhook-url': '', status: 'failure', 'fail-on-error': 'true' });
  assert.equal(result.exitCode, 1);
  assert.equal(slack.received.length, 0);
  const error = result.annotations.find((a) => a.level === 'error');
  assert.match(error?.message ?? '', /Input 'webhook-url': is empty.*pull requests from forks get no secrets/);
});

test('a custom YAML payload file has its placeholders filled from the run context', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'adci-notify-'));
  const file = join(dir, 'payload.yml');
  writeFileSync(
    file,
    [
      'text: "{{ repository }} {{ short_sha }} {{ status }}"',
      'blocks:',
      '  - type: section',
      '    text: { type: mrkdwn, text: "<{{ run_url }}|Run {{ run_number }}> by {{ actor }}: {{ env.RELEASE }}" }',
    ].join('\n'),
  );
  const result = await notify(
    { 'webhook-url': slack.webhookUrl, 'payload-file': file, status: 'warning' },
    { env: { RELEASE: 'v1.4.2 "quoted"' } },
  );
  assert.equal(result.exitCode, 0, result.stdout);
  assert.deepEqual(slack.received[0]?.json, {
    text: 'adci-org/ad-platform 4f2a9c1 warning',
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '<https://github.com/adci-org/ad-platform/actions/runs/7001|Run 42> by octocat: v1.4.2 "quoted"',
        },
      },
    ],
  });
  assertNoLeak(result);
});

test('a payload over Slack limits fails naming the block and the limit; nothing is sent', async () => {
  const payload = JSON.stringify({
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'ok' } },
      { type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } },
    ],
  });
  const result = await notify({ 'webhook-url': slack.webhookUrl, payload });
  assert.equal(result.exitCode, 1);
  assert.equal(slack.received.length, 0);
  assert.match(
    result.annotations[0]?.message ?? '',
    /Input 'payload': the payload breaks Slack's limits, nothing was sent: blocks\[1\] \(section\): text is 3001 characters; the limit is 3000/,
  );
  assertNoLeak(result);
});

test('bad inputs are refused before anything is sent, naming the input', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ 'webhook-url': slack.webhookUrl, status: 'great' }, /Input 'status': 'great' is not one of success, failure/],
    [{ 'webhook-url': slack.webhookUrl, timeout: 'soon' }, /Input 'timeout': 'soon' is not a valid duration/],
    [{ 'webhook-url': slack.webhookUrl, mention: 'bob' }, /Input 'mention': 'bob' is not a Slack user id/],
    [
      { 'webhook-url': slack.webhookUrl, payload: 'text: "{{ nope }}"' },
      /Input 'payload': unknown placeholder \{\{ nope \}\}/,
    ],
    [{ 'webhook-url': slack.webhookUrl, fields: '- a\n- b' }, /Input 'fields': must be a YAML or JSON mapping/],
    [{ 'webhook-url': 'ftp://hooks.example.test/x' }, /Input 'webhook-url': must be an https URL/],
  ];
  for (const [inputs, expected] of cases) {
    const result = await notify(inputs);
    assert.equal(result.exitCode, 1, JSON.stringify(inputs));
    assert.match(result.annotations[0]?.message ?? '', expected);
    assert.equal(slack.received.length, 0);
    if (inputs['webhook-url']?.startsWith('http')) assertNoLeak(result);
  }
});

test('cancellation while waiting on Slack ends the step promptly with the reason', async () => {
  slack.script({ hang: true });
  const result = await notify({ 'webhook-url': slack.webhookUrl, timeout: '60s' }, { cancelAfterMs: 1500 });
  assert.ok(result.durationMs < 7000, `took ${result.durationMs} ms; SIGINT should stop it before SIGTERM`);
  assert.equal(result.outputs.ok, 'false');
  assert.match(result.annotations.find((a) => a.level === 'warning')?.message ?? '', /cancelled/);
  assertNoLeak(result);
});

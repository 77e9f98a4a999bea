// Unit tests of deliver.ts against the Slack webhook fake on loopback (test/fakes/slack.ts): 429 waits
// as Retry-After says, 5xx and lost answers back off, other 4xx end at once with advice, all on a
// virtual clock within one timeout; the webhook URL never appears in an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger, type Clock } from '@adci/common/basics';
import { startFakeSlack, type FakeSlack } from '../../../test/fakes/slack.ts';
import { attemptTimeout, deliverMessage, type DeliveryOptions } from './deliver.ts';

test('each delivery attempt gets a third of the timeout, between 1 s and 10 s', () => {
  assert.equal(attemptTimeout(6000), 2000);
  assert.equal(attemptTimeout(2000), 1000);
  assert.equal(attemptTimeout(30_000), 10_000);
  assert.equal(attemptTimeout(120_000), 10_000);
});

/** Virtual time: sleeping moves the clock forward at once and records the wait. */
function virtualClock(): Clock & { sleeps: number[] } {
  let time = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => time,
    sleep: (ms, signal) => {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      sleeps.push(ms);
      time += ms;
      return Promise.resolve();
    },
  };
}

async function fakeSlack(t: { after: (fn: () => Promise<void>) => void }): Promise<FakeSlack> {
  const slack = await startFakeSlack();
  t.after(() => slack.close());
  return slack;
}

const message = { text: 'Deployed ads v2' };
const options = (extra: Partial<DeliveryOptions> = {}): DeliveryOptions => ({
  timeoutMs: 30_000,
  clock: virtualClock(),
  random: () => 0,
  ...extra,
});

test('delivered on the first attempt: the message is POSTed as JSON', async (t) => {
  const slack = await fakeSlack(t);
  const result = await deliverMessage(slack.webhookUrl, message, options());
  assert.deepEqual(result, { ok: true, statusCode: 200, attempts: 1, waits: [] });
  assert.equal(slack.received.length, 1);
  assert.equal(slack.received[0]?.method, 'POST');
  assert.deepEqual(slack.received[0]?.json, message);
});

test('429: waits as Retry-After says (seconds or a JSON retry_after), then delivers', async (t) => {
  const slack = await fakeSlack(t);
  slack.script(
    { status: 429, body: 'rate_limited', headers: { 'retry-after': '3' } },
    { status: 429, body: '{"ok":false,"error":"rate_limited","retry_after":2}' },
  );
  const infos: string[] = [];
  const logger = { ...silentLogger, info: (m: string) => infos.push(m) };
  const result = await deliverMessage(slack.webhookUrl, message, options({ logger }));
  assert.equal(result.ok, true);
  assert.equal(result.attempts, 3);
  assert.deepEqual(result.waits, [3000, 2000]);
  assert.match(infos[0] ?? '', /Slack rate-limited the webhook \(429\); waiting 3000 ms as Retry-After asks/);
});

test('429 asking to wait past the timeout ends at once, saying so', async (t) => {
  const slack = await fakeSlack(t);
  slack.script({ status: 429, body: 'rate_limited', headers: { 'retry-after': '60' } });
  const result = await deliverMessage(slack.webhookUrl, message, options({ timeoutMs: 10_000 }));
  assert.equal(result.ok, false);
  assert.equal(result.attempts, 1);
  assert.equal(result.statusCode, 429);
  assert.equal(
    result.error,
    'not delivered after 1 attempt(s): Slack asked to wait 60 s (Retry-After), past the timeout; last answer 429 rate_limited',
  );
});

test('5xx backs off with equal jitter, doubling; never past the timeout', async (t) => {
  const slack = await fakeSlack(t);
  slack.script({ status: 503 }, { status: 500, body: 'rollup_error' });
  const delivered = await deliverMessage(slack.webhookUrl, message, options());
  assert.equal(delivered.ok, true);
  assert.deepEqual(delivered.waits, [500, 1000], 'half of 1 s, then half of 2 s, with random() = 0');

  slack.reset();
  slack.script(...Array.from({ length: 10 }, () => ({ status: 502, body: 'Bad Gateway' })));
  const failed = await deliverMessage(slack.webhookUrl, message, options({ timeoutMs: 4000, random: () => 0.999 }));
  assert.equal(failed.ok, false);
  assert.equal(failed.statusCode, 502);
  assert.match(failed.error ?? '', /^not delivered after \d attempt\(s\): the timeout ran out; last answer 502$/);
  assert.ok(failed.waits.reduce((a, b) => a + b, 0) < 4000);
});

test('other 4xx are not retried: the answer with advice, never the webhook URL', async (t) => {
  const slack = await fakeSlack(t);
  const wrongPath = `${slack.url}/services/T0/B0/wrong-secret`;
  const gone = await deliverMessage(wrongPath, message, options());
  assert.equal(gone.ok, false);
  assert.equal(gone.attempts, 1);
  assert.equal(gone.slackError, 'no_service');
  assert.match(gone.error ?? '', /^Slack answered 404 no_service: the webhook was removed or disabled/);
  assert.ok(!gone.error?.includes('wrong-secret'));

  slack.script({ status: 400, body: '{"ok":false,"error":"invalid_blocks"}' });
  const refused = await deliverMessage(slack.webhookUrl, message, options());
  assert.equal(refused.slackError, 'invalid_blocks');
  assert.match(refused.error ?? '', /^Slack answered 400 invalid_blocks: Slack refused the blocks/);

  slack.script({ status: 403, body: 'Forbidden, see <html>' });
  const unknown = await deliverMessage(slack.webhookUrl, message, options());
  assert.equal(unknown.slackError, undefined);
  assert.equal(unknown.error, 'Slack answered 403: the request was refused; it will not succeed if repeated.');
});

test('an attempt that gets no answer times out on its own deadline; the next attempt delivers', async (t) => {
  const slack = await fakeSlack(t);
  slack.script({ hang: true });
  const infos: string[] = [];
  const logger = { ...silentLogger, info: (m: string) => infos.push(m) };
  const result = await deliverMessage(slack.webhookUrl, message, options({ attemptTimeoutMs: 200, logger }));
  assert.equal(result.ok, true);
  assert.equal(result.attempts, 2);
  assert.deepEqual(result.waits, [500]);
  assert.match(infos[0] ?? '', /^no answer from the webhook \(attempt 1 timed out after 200 ms\); retrying in 500 ms$/);
});

test('a refused connection is retried, then reported as never answered; a cancel stops at once', async () => {
  const refused = await deliverMessage('http://127.0.0.1:1/services/T/B/x', message, options({ timeoutMs: 3000 }));
  assert.equal(refused.ok, false);
  assert.equal(refused.statusCode, 0);
  assert.ok(refused.attempts >= 2);
  assert.match(refused.error ?? '', /; the webhook never answered$/);

  const cancelled = await deliverMessage('http://127.0.0.1:1/x', message, options({ signal: AbortSignal.abort() }));
  assert.deepEqual(cancelled, {
    ok: false,
    statusCode: 0,
    attempts: 0,
    waits: [],
    error: 'cancelled before the message was delivered',
  });
});

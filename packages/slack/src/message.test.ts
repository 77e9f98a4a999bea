// Unit tests of message.ts: the default message (cut to Slack's limits, fields over several sections,
// run data escaped) and a custom payload refused when over the limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCustomMessage, buildDefaultMessage, findLimitProblems, type RunInfo } from './index.ts';

const run: RunInfo = {
  repository: 'org/ads',
  repositoryUrl: 'https://github.com/org/ads',
  ref: 'main',
  sha: '0123456789abcdef',
  commitUrl: 'https://github.com/org/ads/commit/0123456789abcdef',
  commitMessage: 'Fix <bid> & cap',
  actor: 'dev',
  workflow: 'Deploy',
  runUrl: 'https://github.com/org/ads/actions/runs/1',
};
const settings = {
  status: 'success' as const,
  title: '',
  text: '',
  fields: {},
  environment: '',
  environmentUrl: '',
  image: '',
  mention: [],
};

test('generated text is cut to Slack limits with an ellipsis, never refused', () => {
  const message = buildDefaultMessage({ ...settings, title: 'T'.repeat(400), text: 'x'.repeat(5000) }, run);
  const header = (message.blocks?.[0]?.text as { text: string }).text;
  assert.equal([...header].length, 150);
  assert.ok(header.endsWith('…'));
  const lead = message.attachments?.[0]?.blocks?.[0] as unknown as { text: { text: string } };
  assert.equal(lead.text.text.length, 3000);
  assert.deepEqual(findLimitProblems(message), []);
});
test('more than ten fields spread over several sections', () => {
  const fields = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`f${i}`, `v${i}`]));
  const message = buildDefaultMessage({ ...settings, fields }, run);
  const sections = message.attachments?.[0]?.blocks?.filter((b) => b.type === 'section') ?? [];
  assert.deepEqual(
    sections.map((s) => (s.fields as unknown[]).length),
    [10, 10],
  );
  assert.deepEqual(findLimitProblems(message), []);
});
test('mrkdwn special characters in run data are escaped', () => {
  const message = buildDefaultMessage(settings, run);
  assert.match(JSON.stringify(message), /Fix &lt;bid&gt; &amp; cap/);
});
test('a custom payload over the limits is refused naming each block and limit', () => {
  const payload = {
    blocks: [
      ...Array.from({ length: 50 }, () => ({ type: 'divider' })),
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
      { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) },
      { type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) },
    ],
  };
  assert.throws(
    () => buildCustomMessage(payload, () => undefined, 'payload'),
    (error: Error) => {
      assert.match(error.message, /blocks has 53 blocks; Slack allows at most 50/);
      assert.match(error.message, /blocks\[50\] \(header\): text is 151 characters; the limit is 150/);
      assert.match(error.message, /blocks\[51\] \(section\): 11 fields; the limit is 10/);
      assert.match(error.message, /blocks\[52\] \(context\): 11 elements; the limit is 10/);
      return true;
    },
  );
  assert.deepEqual(findLimitProblems({ attachments: [{ blocks: [{ type: 'x', block_id: 'b'.repeat(256) }] }] }), [
    'attachments[0].blocks[0] (x): block_id is 256 characters; the limit is 255',
  ]);
  assert.deepEqual(findLimitProblems({}), ['the message has none of "text", "blocks" or "attachments"']);
});

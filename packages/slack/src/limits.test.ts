// Unit tests of limits.ts: truncate counts characters (not UTF-16 units), and findLimitProblems
// names every limit a message breaks, by block index, in blocks and in attachments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SLACK_LIMITS, findLimitProblems, truncate } from './limits.ts';

test('truncate: untouched when it fits; cut with an ellipsis to exactly max characters, emoji counted once', () => {
  assert.equal(truncate('deploy', 6), 'deploy');
  assert.equal(truncate('deploy', 5), 'depl…');
  const rockets = '🚀'.repeat(10);
  assert.equal(truncate(rockets, 10), rockets);
  const cut = truncate(rockets, 4);
  assert.equal(cut, '🚀🚀🚀…');
  assert.equal([...cut].length, 4);
});

test('findLimitProblems: a message within every limit has no problem', () => {
  const fields = Array.from({ length: SLACK_LIMITS.sectionFields }, () => ({ type: 'mrkdwn', text: 'f' }));
  assert.deepEqual(
    findLimitProblems({
      text: 'x'.repeat(SLACK_LIMITS.messageText),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(SLACK_LIMITS.headerText) } },
        { type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(SLACK_LIMITS.sectionText) }, fields },
      ],
      attachments: [{ blocks: [{ type: 'divider', block_id: 'b'.repeat(SLACK_LIMITS.blockId) }] }],
    }),
    [],
  );
  assert.deepEqual(findLimitProblems({ text: 'only text' }), []);
});

test('findLimitProblems: one problem per broken limit, naming where', () => {
  assert.deepEqual(
    findLimitProblems({
      text: 'x'.repeat(40_001),
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(3001) } },
        { type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2001) }] },
        'not a block' as never,
        { text: 'no type' } as never,
      ],
    }),
    [
      '"text" is 40001 characters; Slack truncates beyond 40000',
      'blocks[0] (section): text is 3001 characters; the limit is 3000',
      'blocks[1] (section): fields[0] is 2001 characters; the limit is 2000',
      'blocks[2] is not a block (an object with a "type")',
      'blocks[3] is not a block (an object with a "type")',
    ],
  );
  assert.deepEqual(findLimitProblems({ text: 42 as never }), ['"text" must be a string']);
  assert.deepEqual(findLimitProblems({ blocks: {} as never }), ['blocks must be a list of blocks']);
  assert.deepEqual(findLimitProblems({ attachments: {} as never }), ['"attachments" must be a list']);
  assert.deepEqual(
    findLimitProblems({ attachments: Array.from({ length: 101 }, () => ({ blocks: [{ type: 'divider' }] })) }),
    ['101 attachments; the limit is 100'],
  );
  assert.deepEqual(
    findLimitProblems({
      attachments: [{ blocks: [] }, { blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) }],
    }),
    ['attachments[1].blocks has 51 blocks; Slack allows at most 50'],
  );
});

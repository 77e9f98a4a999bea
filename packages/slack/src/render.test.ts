// Unit tests of render.ts: a Slack message as the job summary's Markdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDefaultMessage, renderMessageMarkdown, type RunInfo } from './index.ts';

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

test('the markdown rendering shows header, fields and links', () => {
  const markdown = renderMessageMarkdown(buildDefaultMessage({ ...settings, environment: 'prod' }, run));
  assert.match(markdown, /^### ✅ Deploy succeeded/);
  assert.match(markdown, /\| \*\*Repository\*\* \| \[org\/ads\]\(https:\/\/github.com\/org\/ads\) \|/);
  assert.match(markdown, /Fix <bid> & cap/);
});

test("a custom message's mrkdwn becomes Markdown: links, mentions, bold, escapes, fields, context, divider", () => {
  const markdown = renderMessageMarkdown({
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Release 1.4' } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '*Rolled back* by <@U024BE7LH> <!here> <!subteam^S0614TZR7> see <https://ci/1|run 1> &lt;ok&gt; &amp;',
        },
        fields: [{ type: 'mrkdwn', text: '*Env*\nprod | eu' }],
      },
      { type: 'divider' },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: 'a' },
          { type: 'mrkdwn', text: 'b' },
        ],
      },
      { type: 'actions' },
    ],
  });
  assert.equal(
    markdown,
    [
      '### Release 1.4',
      '',
      '**Rolled back** by @user:U024BE7LH @here @group:S0614TZR7 see [run 1](https://ci/1) <ok> &',
      '',
      '| | |',
      '|---|---|',
      '| **Env** | prod \\| eu |',
      '',
      '---',
      '',
      '<sub>a · b</sub>',
      '',
      '*(actions block)*',
      '',
    ].join('\n'),
  );
});

test('a message of text only renders its text; an empty one renders nothing', () => {
  assert.equal(renderMessageMarkdown({ text: 'Deployed <https://x|v2>' }), 'Deployed [v2](https://x)\n');
  assert.equal(renderMessageMarkdown({ text: 'ignored', blocks: [{ type: 'divider' }] }), '---\n');
  assert.equal(renderMessageMarkdown({}), '');
});

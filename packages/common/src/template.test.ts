// Unit tests of template.ts: {{ name }} placeholders filled, unknown names refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fillTemplate } from './template.ts';

test('fillTemplate fills names and refuses unknown ones', () => {
  const values: Record<string, string> = { repository: 'org/ads', 'env.TOKEN': 't' };
  assert.equal(
    fillTemplate('{{ repository }}/{{env.TOKEN}}', (n) => values[n]),
    'org/ads/t',
  );
  assert.throws(() => fillTemplate('{{ nope }}', (n) => values[n]), /unknown placeholder \{\{ nope \}\}/);
});

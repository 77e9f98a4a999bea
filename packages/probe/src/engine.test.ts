import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '@adci/common';
import { startFakeService } from '../../../test/fakes/service.ts';
import { runSmoke, SMOKE_DEFAULTS } from './engine.ts';
import { parseChecksDocument } from './spec.ts';

test('a token captured from a login and sent in a header is masked in failures and excerpts', async () => {
  const service = await startFakeService();
  try {
    const { checks } = await parseChecksDocument(
      `- { name: login, method: POST, path: /login, capture: { token: $.token } }
- { name: echo, path: /echo, headers: { Authorization: "Bearer {{ token }}" }, expect: { status: 418 } }
`,
      'checks',
    );
    const redactor = new Redactor();
    const result = await runSmoke({ ...SMOKE_DEFAULTS, baseUrl: service.url, headers: {}, checks }, { redactor });
    assert.equal(result.passed, false);
    const echo = result.checks[1];
    assert.equal(echo?.outcome, 'failed');
    assert.match(echo?.excerpt ?? '', /"authorization":"Bearer \*\*\*"/);
    assert.doesNotMatch(JSON.stringify(result), /session-\d+-7f3c9a1e/);
  } finally {
    await service.close();
  }
});

test('a failed wait skips the checks and counts as a failure', async () => {
  const service = await startFakeService({ unavailableForMs: 60_000 });
  try {
    const { checks } = await parseChecksDocument('- path: /healthz\n', 'checks');
    const result = await runSmoke({
      ...SMOKE_DEFAULTS,
      baseUrl: service.url,
      headers: {},
      checks,
      waitFor: '/healthz',
      waitTimeoutMs: 300,
      waitIntervalMs: 100,
    });
    assert.equal(result.wait?.ready, false);
    assert.equal(result.wait?.lastProblem, 'status 503');
    assert.deepEqual(result.counts, { passed: 0, failed: 1, skipped: 1 });
    assert.equal(result.passed, false);
  } finally {
    await service.close();
  }
});

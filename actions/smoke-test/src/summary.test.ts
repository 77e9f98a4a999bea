import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '@adci/common';
import type { SmokeResult } from '@adci/probe';
import { annotate } from './summary.ts';

/** What the step writes to the runner (workflow commands such as `::error title=…::…`). */
function captured(run: () => void): string {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  try {
    run();
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

const result: SmokeResult = {
  passed: false,
  baseUrl: 'http://127.0.0.1:8080/',
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1000,
  checks: [
    {
      name: 'login',
      outcome: 'failed',
      method: 'GET',
      url: 'http://ci:pa55word@127.0.0.1:8080/login?token=abc123',
      status: 500,
      latencyMs: 12,
      attempts: 1,
      failures: [{ assertion: 'status', expected: '2xx', actual: '500' }],
      captured: [],
    },
  ],
  counts: { passed: 0, failed: 1, skipped: 0 },
};

test('a failed check is an error annotation naming it, with URL credentials and secret parameters masked', () => {
  const out = captured(() => annotate(result));
  assert.match(
    out,
    /::error title=Smoke check failed%3A login::GET http:\/\/\*\*\*@127\.0\.0\.1:8080\/login\?token=\*\*\*: /,
  );
  assert.doesNotMatch(out, /pa55word|abc123/);
});

test('a registered secret is masked in the annotation too', () => {
  const redactor = new Redactor();
  redactor.add('s3cret-tenant-value');
  const named = { ...result, checks: [{ ...result.checks[0]!, name: 'login as s3cret-tenant-value' }] };
  const out = captured(() => annotate(named, redactor));
  assert.match(out, /title=Smoke check failed%3A login as \*\*\*::/);
  assert.doesNotMatch(out, /s3cret-tenant-value/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeApiError, githubRetryable } from './github-api.ts';

const answered = (status: number, headers: Record<string, string> = {}, data: unknown = {}) => ({
  name: 'HttpError',
  status,
  response: { status, headers, data },
});

test('githubRetryable: 5xx, 429 and no answer back off; Retry-After is waited exactly; a 403 only with it', () => {
  assert.equal(githubRetryable(answered(502)), true);
  assert.equal(githubRetryable(answered(429, { 'retry-after': '2' })), 2000);
  assert.equal(githubRetryable(answered(403, { 'retry-after': '1' })), 1000);
  assert.equal(githubRetryable(answered(403)), false);
  assert.equal(githubRetryable(answered(404)), false);
  assert.equal(githubRetryable({ name: 'HttpError', message: 'fetch failed' }), true);
  assert.equal(githubRetryable(new TypeError('a bug')), false);
});

test('describeApiError: the status and GitHub’s message on one line, never an HTML page', () => {
  assert.equal(
    describeApiError(answered(422, {}, { message: 'Validation\nFailed' })),
    'GitHub answered 422 Unprocessable Entity: Validation Failed',
  );
  assert.equal(
    describeApiError(answered(503, {}, '<!DOCTYPE html><html><body>Unicorn</body></html>')),
    'GitHub answered 503 Service Unavailable (an HTML error page)',
  );
});

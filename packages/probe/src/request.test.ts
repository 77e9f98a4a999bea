// A check's request made concrete: placeholders, the base URL's path prefix, headers merged in
// lower case, a JSON body with its content type, and credentials written in a URL sent as Basic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequest, joinUrl, loadRequestOf, withUrlCredentials } from './request.ts';
import type { RequestSpec } from './types.ts';

const base = new URL('http://127.0.0.1:8080/api/');
const lookup = (name: string): string | undefined => ({ id: 'c7', token: 't0k', 'env.REGION': 'eu' })[name];
const spec = (over: Partial<RequestSpec>): RequestSpec => ({ method: 'GET', headers: {}, ...over });

test('joinUrl keeps the base path prefix and the query of the path, drops the base query and hash', () => {
  assert.equal(joinUrl(new URL('http://h/api'), '/x').href, 'http://h/api/x');
  assert.equal(joinUrl(new URL('http://h/api///'), 'x?a=1&b=2').href, 'http://h/api/x?a=1&b=2');
  assert.equal(joinUrl(new URL('http://h/?q=1#top'), '/healthz').href, 'http://h/healthz');
  assert.equal(joinUrl(new URL('http://h/'), '/search?q=a?b').href, 'http://h/search?q=a?b');
});

test('buildRequest fills placeholders in the path, headers and JSON body; headers in lower case, the check last', () => {
  const built = buildRequest(
    spec({
      method: 'POST',
      path: '/campaigns/{{ id }}?region={{ env.REGION }}',
      headers: { Authorization: 'Bearer {{ token }}', 'X-Trace': 'check' },
      json: { id: '{{ id }}', nested: ['{{ token }}', 3] },
    }),
    base,
    { 'X-Trace': 'common', Accept: 'application/json' },
    lookup,
  );
  assert.equal(built.url.href, 'http://127.0.0.1:8080/api/campaigns/c7?region=eu');
  assert.deepEqual(built.headers, {
    'x-trace': 'check',
    accept: 'application/json',
    authorization: 'Bearer t0k',
    'content-type': 'application/json',
  });
  assert.equal(built.body, '{"id":"c7","nested":["t0k",3]}');
  const raw = buildRequest(
    spec({ method: 'PUT', path: '/x', body: 'name={{ id }}', headers: { 'Content-Type': 'text/plain' } }),
    base,
    {},
    lookup,
  );
  assert.equal(raw.body, 'name=c7');
  assert.equal(raw.headers['content-type'], 'text/plain');
  const json = buildRequest(
    spec({ json: [], headers: { 'content-type': 'application/vnd.api+json' } }),
    base,
    {},
    lookup,
  );
  assert.equal(json.headers['content-type'], 'application/vnd.api+json', 'a content type of its own is kept');
  assert.equal(buildRequest(spec({}), base, {}, lookup).url.href, 'http://127.0.0.1:8080/api/');
});

test('an absolute URL is used as written; it must be http(s); an unknown placeholder throws', () => {
  assert.equal(
    buildRequest(spec({ url: 'https://other.example/{{ id }}' }), base, {}, lookup).url.href,
    'https://other.example/c7',
  );
  assert.throws(
    () => buildRequest(spec({ url: 'ftp://h/x' }), base, {}, lookup),
    /'ftp:\/\/h\/x' is not an http\(s\) URL/,
  );
  assert.throws(() => buildRequest(spec({ path: '/{{ missing }}' }), base, {}, lookup), /unknown placeholder/);
});

test('credentials in the URL become Basic authorization, decoded, unless the request has its own', () => {
  const url = new URL('http://ops%40ads:p%C3%A4ss%3Aword@127.0.0.1/');
  assert.deepEqual(withUrlCredentials(url, {}), {
    authorization: `Basic ${Buffer.from('ops@ads:päss:word').toString('base64')}`,
  });
  assert.deepEqual(withUrlCredentials(url, { authorization: 'Bearer x' }), { authorization: 'Bearer x' });
  assert.deepEqual(withUrlCredentials(new URL('http://127.0.0.1/'), { a: 'b' }), { a: 'b' });
  assert.equal(
    withUrlCredentials(new URL('http://user:%E0%A4%A@h/'), {}).authorization,
    `Basic ${Buffer.from('user:%E0%A4%A').toString('base64')}`,
    'a malformed escape is sent as written',
  );
  const built = buildRequest(spec({ url: 'http://admin:s3cret@127.0.0.1:9/x' }), base, {}, lookup);
  assert.equal(built.headers.authorization, `Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
});

test('loadRequestOf: the origin, the path with its query, the method, headers and a body when there is one', () => {
  const built = buildRequest(
    spec({ path: '/bid?x=1', method: 'POST', headers: { 'x-a': 'b' }, body: '{"a":1}' }),
    new URL('http://127.0.0.1:8080/api'),
    {},
    lookup,
  );
  const request = loadRequestOf(built);
  assert.equal(request.origin, 'http://127.0.0.1:8080');
  assert.equal(request.path, '/api/bid?x=1');
  assert.equal(request.method, 'POST');
  assert.equal(request.headers['x-a'], 'b');
  assert.equal(request.body, '{"a":1}');
  assert.equal('body' in loadRequestOf({ ...built, body: undefined }), false);
});

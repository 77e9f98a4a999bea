import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor, isSecretParameterName, redactUrlSecrets, urlSecrets } from './index.ts';

test('isSecretParameterName: secret-like words, any case and spelling, not ordinary names', () => {
  const secret = [
    'token',
    'TOKEN',
    'key',
    'secret',
    'signature',
    'sig',
    'password',
    'Password',
    'passwd',
    'pwd',
    'pass',
    'api_key',
    'apikey',
    'apiKey',
    'API-KEY',
    'APIKey',
    'access_token',
    'accessToken',
    'refresh-token',
    'X-Amz-Signature',
    'X-Amz-Security-Token',
    'X-Amz-Credential',
    'client_secret',
    'auth',
    'jwt',
    'jsessionid',
    'PHPSESSID',
    'api%5Fkey',
    'keys',
    'tokens',
    'key2',
    'private.key',
  ];
  const plain = [
    'page',
    'sort',
    'q',
    'signup',
    'design',
    'signal',
    'author',
    'keyword',
    'tokenizer',
    'passage',
    'id',
    'v',
  ];
  for (const name of secret) assert.ok(isSecretParameterName(name), `${name} should be secret`);
  for (const name of plain) assert.ok(!isSecretParameterName(name), `${name} should not be secret`);
});

test('redactUrlSecrets removes URL credentials and secret parameters, in free text, keeping the rest', () => {
  assert.equal(
    redactUrlSecrets('GET https://user:pa%40ss@host.example:8443/path?token=abc&page=2: status 500'),
    'GET https://***@host.example:8443/path?token=***&page=2: status 500',
  );
  assert.equal(redactUrlSecrets('https://ghp_abcdef@github.com/o/r.git'), 'https://***@github.com/o/r.git');
  assert.equal(redactUrlSecrets('postgres://app:s3cret@db:5432/x'), 'postgres://***@db:5432/x');
  // The last '@' of the authority ends the userinfo; an '@' in the path is not userinfo.
  assert.equal(redactUrlSecrets('http://u:p@ss@h/a@b'), 'http://***@h/a@b');
  assert.equal(redactUrlSecrets('http://h/users/me@example.com'), 'http://h/users/me@example.com');
  assert.equal(redactUrlSecrets('mail me@example.com'), 'mail me@example.com');
  // Bare paths, several secrets, fragments, XML-escaped separators, trailing punctuation.
  assert.equal(redactUrlSecrets('/x?sig=1&Signature=2&api_key=3&q=4'), '/x?sig=***&Signature=***&api_key=***&q=4');
  assert.equal(redactUrlSecrets('cb#access_token=abc&state=9'), 'cb#access_token=***&state=9');
  assert.equal(redactUrlSecrets('<a href="/x?a=1&amp;token=abc&amp;b=2">'), '<a href="/x?a=1&amp;token=***&amp;b=2">');
  assert.equal(redactUrlSecrets('see /x?token=abc.'), 'see /x?token=***.');
  assert.equal(redactUrlSecrets('(/x?token=abc)'), '(/x?token=***)');
  assert.equal(redactUrlSecrets('/x?token=&page=1'), '/x?token=&page=1');
  assert.equal(redactUrlSecrets('/x?token=a%2Bb%3D%3D'), '/x?token=***');
  // JSON stays JSON: values stop at quotes and backslashes.
  const json = JSON.stringify({ url: 'http://u:p@h/?key=v', excerpt: '{"next":"/i?token=abc"}' });
  const redacted = redactUrlSecrets(json);
  assert.deepEqual(JSON.parse(redacted), { url: 'http://***@h/?key=***', excerpt: '{"next":"/i?token=***"}' });
  // Idempotent, and text without URLs is untouched.
  assert.equal(redactUrlSecrets(redacted), redacted);
  assert.equal(redactUrlSecrets('a = b; c=d & e'), 'a = b; c=d & e');
});

test('urlSecrets lists the password, the Basic credential and secret parameter values', () => {
  assert.deepEqual(urlSecrets('http://ci:pw%40secret@h/?token=abcd%2Befgh&page=2'), [
    'pw%40secret',
    'pw@secret',
    Buffer.from('ci:pw@secret').toString('base64'),
    'abcd%2Befgh',
    'abcd+efgh',
  ]);
  assert.deepEqual(urlSecrets('https://tok123456@h/'), [Buffer.from('tok123456:').toString('base64')]);
  assert.deepEqual(urlSecrets('http://u:pass@h/?key=test'), [Buffer.from('u:pass').toString('base64')]);
  assert.deepEqual(urlSecrets('not a url'), []);
});

test('Redactor masks registered values and URL secrets', () => {
  const redactor = new Redactor();
  redactor.addUrl(new URL('http://ci:hunter2-long@h/?sig=zzzz9999'));
  assert.equal(
    redactor.redact('echo hunter2-long zzzz9999 http://x:y@h/?sig=q&n=1'),
    'echo *** *** http://***@h/?sig=***&n=1',
  );
});

test('Redactor removes every secret, longest first', () => {
  const redactor = new Redactor();
  redactor.add('secret-token');
  redactor.add('secret-token-long');
  redactor.add('ab'); // too short to mask safely
  assert.equal(redactor.redact('x secret-token-long y secret-token ab'), 'x *** y *** ab');
});

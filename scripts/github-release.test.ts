// scripts/github-release.ts against the fake GitHub API (every call checked against GitHub's OpenAPI
// description): a release with the tarball, its checksum and notes; a re-run adds nothing; a re-run
// with another tarball of the same name is refused; a tag that is not the package's version is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from '../test/fakes/github-api.ts';
import { publishGitHubRelease } from './github-release.ts';

let github: FakeGitHub;
let dir = '';
before(async () => {
  github = await startFakeGitHub({ owner: 'org', repo: 'adci' });
  dir = mkdtempSync(join(tmpdir(), 'adci-gh-release-'));
});
after(async () => {
  await github.close();
  rmSync(dir, { recursive: true, force: true });
});

function pack(content: string): string {
  const filename = 'adci-dev-adci-1.0.0.tgz';
  writeFileSync(join(dir, filename), content);
  const integrity = `sha512-${createHash('sha512').update(content).digest('base64')}`;
  const packJson = join(dir, 'pack.json');
  writeFileSync(packJson, JSON.stringify([{ name: '@adci-dev/adci', version: '1.0.0', filename, integrity }]));
  return packJson;
}

const options = (packJson: string, tag = 'v1.0.0') => ({
  tag,
  packJson,
  apiUrl: github.url,
  repository: 'org/adci',
  token: github.token,
  target: 'a'.repeat(40),
  log: () => undefined,
});

test('creates the release with the tarball, its checksum and notes; a re-run adds nothing', async () => {
  const packJson = pack('tarball bytes');
  await publishGitHubRelease(options(packJson));
  await publishGitHubRelease(options(packJson));
  const [release, ...others] = github.releases();
  assert.equal(others.length, 0);
  assert.equal(release?.name, 'adci 1.0.0');
  assert.deepEqual(
    release?.assets.map((a) => a.name),
    ['adci-dev-adci-1.0.0.tgz', 'adci-dev-adci-1.0.0.tgz.sha256'],
  );
  const sha256 = createHash('sha256').update('tarball bytes').digest('hex');
  assert.equal(release?.assets[1]?.content.toString('utf8'), `${sha256}  adci-dev-adci-1.0.0.tgz\n`);
  assert.match(release?.body ?? '', /npm install --no-save --no-audit --no-fund @adci-dev\/adci@1\.0\.0/);
  assert.match(release?.body ?? '', /sha256sum -c adci-dev-adci-1\.0\.0\.tgz\.sha256/);
  assert.deepEqual(github.violations, []);
});

test('a re-run with a different tarball of the same name is refused', async () => {
  await assert.rejects(
    publishGitHubRelease(options(pack('other bytes'))),
    /release v1\.0\.0 already has a different adci-dev-adci-1\.0\.0\.tgz/,
  );
});

test('a tag that is not the package version is refused before any call', async () => {
  const before = github.requests.length;
  await assert.rejects(
    publishGitHubRelease(options(pack('tarball bytes'), 'v1.0.1')),
    /the tag v1\.0\.1 is not v1\.0\.0/,
  );
  assert.equal(github.requests.length, before);
});

// The released version can be traced from every run: `adci --version`/`-V`, an `adciVersion` field in
// every `--json` output, and a footer naming the version in every action's job summary (also when the
// step fails). The version is the package's (package.json), the one release.yml publishes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runActionBundle } from '../runner/index.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
const VERSION = manifest.version;
const FIXTURE = join(repoRoot, 'test/fixtures/reports/real/jest-junit.xml');

let slack: FakeSlack;
let dir = '';
before(async () => {
  slack = await startFakeSlack();
  dir = mkdtempSync(join(tmpdir(), 'adci-version-'));
  copyFileSync(FIXTURE, join(dir, 'junit.xml'));
});
after(async () => {
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

function adci(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'adci.js'), ...args],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('the package is the scoped @adci-dev/adci at 1.0.0 or later', () => {
  assert.equal(manifest.name, '@adci-dev/adci');
  assert.match(VERSION, /^[1-9]\d*\.\d+\.\d+$/);
});

test('adci --version and -V print the package version and exit 0', async () => {
  for (const flag of ['--version', '-V']) {
    const { code, stdout, stderr } = await adci([flag]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `${VERSION}\n`);
  }
  const help = await adci(['--help']);
  assert.match(help.stdout, /-V, --version/);
});

test('every --json output carries adciVersion', async () => {
  const gate = await adci(['gate', '--reports', 'junit.xml', '--thresholds', 'tests.failed: 5', '--json']);
  assert.equal(gate.code, 0, gate.stderr);
  assert.equal((JSON.parse(gate.stdout) as { adciVersion?: string }).adciVersion, VERSION);

  const notify = await adci(['notify', '--status', 'success', '--json'], { SLACK_WEBHOOK_URL: slack.webhookUrl });
  assert.equal(notify.code, 0, notify.stderr);
  assert.equal((JSON.parse(notify.stdout) as { adciVersion?: string }).adciVersion, VERSION);

  const skipped = await adci(['notify', '--status', 'success', '--json']);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.equal((JSON.parse(skipped.stdout) as { adciVersion?: string }).adciVersion, VERSION);

  const smoke = await adci([
    'smoke',
    '--base-url',
    slack.webhookUrl.replace(/\/services\/.*$/, ''),
    '--checks',
    '[{ name: unknown, path: /unknown, expect: { status: 404 } }]',
    '--json',
  ]);
  assert.ok(smoke.code === 0 || smoke.code === 1, smoke.stderr);
  assert.equal((JSON.parse(smoke.stdout) as { adciVersion?: string }).adciVersion, VERSION);
});

const footer = new RegExp(`adci ${VERSION.replaceAll('.', '\\.')}`);

test('every action ends its job summary with the adci version, also when it fails', async () => {
  const gate = await runActionBundle('quality-gate', {
    with: { reports: FIXTURE, thresholds: 'tests.failed: 5' },
  });
  assert.equal(gate.exitCode, 0, gate.stdout);
  assert.match(gate.summary, footer);

  const notify = await runActionBundle('notify', { with: { 'webhook-url': slack.webhookUrl, status: 'success' } });
  assert.equal(notify.exitCode, 0, notify.stdout);
  assert.match(notify.summary, footer);

  const smoke = await runActionBundle('smoke-test', { with: { 'base-url': 'not a url' } });
  assert.equal(smoke.exitCode, 1);
  assert.match(smoke.summary, footer);

  const deploy = await runActionBundle('blue-green-deploy', { with: { namespace: 'x', manifests: '' } });
  assert.equal(deploy.exitCode, 1);
  assert.match(deploy.summary, footer);
});

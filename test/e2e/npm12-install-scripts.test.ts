// npm 12 runs no dependency install script that package.json's `allowScripts` does not list. The
// project's pinned Node 24 (the `node` package, a preinstall script) and esbuild (a postinstall) need
// theirs: without them `npm ci` leaves the npm scripts on the system Node (20 here), where `npm run
// validate` crashes. This test installs npm 12 from the registry into a temporary prefix, runs a fresh
// `npm ci` with it in a copy of this checkout, with the system's PATH (no Node 24 on it), and checks
// that the npm scripts get Node 24 and that no install script was blocked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { repoRoot } from '../runner/index.ts';

/** PATH without any node_modules directory (npm test puts this checkout's .bin and Node 24 there). */
function systemPath(): string {
  return (process.env.PATH ?? '/usr/bin:/bin')
    .split(delimiter)
    .filter((dir) => dir && !dir.includes('node_modules'))
    .join(delimiter);
}

test('package.json allows the install scripts of the pinned Node and esbuild, and no others', () => {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    allowScripts?: Record<string, boolean>;
  };
  assert.deepEqual(manifest.allowScripts, { esbuild: true, node: true });
});

test('a fresh npm ci with npm 12 gives Node 24 to the npm scripts', { timeout: 600_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adci-npm12-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const npmPrefix = join(dir, 'npm12');
  execFileSync('npm', ['install', '--prefix', npmPrefix, '--no-save', '--no-audit', '--no-fund', 'npm@12'], {
    stdio: 'ignore',
    timeout: 180_000,
  });
  const npmCli = join(npmPrefix, 'node_modules', 'npm', 'bin', 'npm-cli.js');
  const npmVersion = (
    JSON.parse(readFileSync(join(dirname(dirname(npmCli)), 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  assert.match(npmVersion, /^12\./);

  // The checkout's files, tracked and new, not ignored: what a fresh clone has.
  const copy = join(dir, 'adci');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    try {
      cpSync(join(repoRoot, file), join(copy, file), { verbatimSymlinks: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  // npm 12 needs Node 22.22 or newer: it runs on the Node running this test; the scripts it starts find
  // `node` on PATH, which has only the system's.
  const npm12 = (...args: string[]) =>
    spawnSync(process.execPath, [npmCli, ...args], {
      cwd: copy,
      encoding: 'utf8',
      env: { PATH: systemPath(), HOME: process.env.HOME, npm_config_update_notifier: 'false' },
      timeout: 400_000,
    });
  const ci = npm12('ci', '--no-audit', '--no-fund');
  assert.equal(ci.status, 0, `${ci.stdout}\n${ci.stderr}`);
  assert.doesNotMatch(
    `${ci.stdout}${ci.stderr}`,
    /install scripts? (were |had install scripts )?blocked|not covered by allowScripts/,
  );
  const version = npm12('exec', '-c', 'node --version');
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout.trim(), /^v24\./);
  const validate = npm12('run', 'validate');
  assert.equal(validate.status, 0, `${validate.stdout}\n${validate.stderr}`);
  assert.match(validate.stdout, /validated \d+ action\.yml file/);
});

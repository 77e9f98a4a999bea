// End-to-end: the `adci` command installed from the `npm pack` tarball (what release.yml publishes
// and attaches to the GitHub release; dist/cli is committed, so nothing is built), outside this
// repository: in an empty directory under the system's temp dir, out of reach of this repository's
// node_modules. The registry route is in install-registry.test.ts and release-act.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../runner/index.ts';

const FIXTURE = join(repoRoot, 'test/fixtures/reports/real/jest-junit.xml');

/** npm as `npm test` runs it (npm_execpath), else the npm on PATH, always on this Node. */
function npm(args: string[], cwd: string, cache: string): SpawnSyncReturns<string> {
  const execPath = process.env.npm_execpath;
  const [command, prefix] = execPath && /npm-cli\.js$/.test(execPath) ? [process.execPath, [execPath]] : ['npm', []];
  return spawnSync(command, [...prefix, ...args, '--cache', cache, '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_yes: 'true' },
    timeout: 240_000,
  });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.status, 0, `${what} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function emptyDir(t: { after: (fn: () => void) => void }): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'adci-install-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.ok(!dir.startsWith(repoRoot), 'the install directory must be outside the repository');
  return dir;
}

/** `adci --help` and `adci gate` on a JUnit fixture with one planted failure, from an installed bin. */
function checkInstalledCli(bin: string, cwd: string): void {
  const help = spawnSync(process.execPath, [bin, '--help'], { cwd, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  assert.equal(help.status, 0, help.stderr);
  for (const verb of ['gate', 'smoke', 'deploy', 'notify']) assert.match(help.stdout, new RegExp(`^  ${verb} `, 'm'));
  copyFileSync(FIXTURE, join(cwd, 'junit.xml'));
  const gate = spawnSync(process.execPath, [bin, 'gate', '--reports', 'junit.xml', '--thresholds', 'tests.failed: 0'], {
    cwd,
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin' },
  });
  assert.equal(gate.status, 1, `a gate with a failed test exits 1:\n${gate.stdout}\n${gate.stderr}`);
  assert.match(gate.stdout, /Quality gate: FAILED/);
  assert.match(gate.stdout, /FAIL\s+tests\.failed\s+<= 0\s+1/);
}

test(
  'the npm pack tarball holds only the command, installs with no dependencies and runs',
  { timeout: 300_000 },
  (t) => {
    const dir = emptyDir(t);
    const cache = join(dir, '.npm-cache');
    const packed = JSON.parse(ok(npm(['pack', repoRoot, '--json'], dir, cache), 'npm pack')) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed[0]!.files.map((f) => f.path).sort();
    assert.deepEqual(
      files.filter((f) => !f.startsWith('dist/cli/')),
      ['LICENSE', 'README.md', 'bin/adci.js', 'package.json'],
    );
    assert.ok(files.includes('dist/cli/index.js'));
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(manifest.private, undefined, 'the package can be published');
    assert.equal(manifest.dependencies, undefined, 'dist/cli is self-contained: the package needs no dependencies');

    const app = join(dir, 'app');
    execFileSync('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), '{ "name": "ci-job", "private": true }\n');
    const install = ok(npm(['install', join(dir, packed[0]!.filename)], app, cache), 'npm install <tarball>');
    assert.match(install, /added 1 package/);
    checkInstalledCli(join(app, 'node_modules', '.bin', 'adci'), app);
  },
);

/** Node binaries on PATH older than the minimum in `engines` (the system Node 20 here). */
function oldNodes(): string[] {
  const found = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  return found.filter((bin) => {
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
    return major < 22 || (major === 22 && minor < 19);
  });
}

const old = oldNodes();
test(
  'on a Node older than engines, bin/adci.js refuses with the minimum and exit code 2',
  { skip: old.length === 0 ? 'no Node older than 22.19 on PATH' : false },
  () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
    assert.equal(manifest.engines.node, '>=22.19');
    for (const bin of old) {
      const result = spawnSync(bin, [join(repoRoot, 'bin', 'adci.js'), 'gate', '--help'], { encoding: 'utf8' });
      assert.equal(result.status, 2, `${bin}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /^adci needs Node\.js 22\.19 or newer \(24 recommended\); this is Node\.js v\d+\.\d+\.\d+\.\n$/,
      );
      assert.equal(result.stdout, '');
    }
  },
);

// The GitLab and Jenkins examples install adci exactly as their files say, from a real registry:
// this checkout's `npm pack` tarball published to Verdaccio on loopback (what release.yml publishes),
// then the GitLab pipeline's `default.before_script` (bash, as GitLab's shell runs it) and the
// Jenkinsfile's first Quality step (`sh -xe`) in empty directories, with the registry given the way a
// mirror is (NPM_CONFIG_REGISTRY) and a fresh npm cache. The install is the package alone (no
// development packages), takes seconds, and runs `adci --version`; with ADCI_INTEGRITY pinned to
// another value it refuses before installing anything.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { publishToLocalRegistry, type Registry } from '../registry/verdaccio.ts';
import { node24Dir } from '../act/act.ts';
import { repoRoot } from '../runner/index.ts';

const example = join(repoRoot, 'examples', 'ad-platform');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };

function gitlabInstall(): { script: string; version: string } {
  const doc = parse(readFileSync(join(example, '.gitlab-ci.yml'), 'utf8')) as {
    variables: Record<string, string>;
    default: { before_script: string[] };
  };
  return { script: doc.default.before_script.join('\n'), version: doc.variables.ADCI_VERSION ?? '' };
}

function jenkinsInstall(): { script: string; version: string } {
  const text = readFileSync(join(example, 'Jenkinsfile'), 'utf8');
  const quality = text.slice(text.indexOf("stage('Quality')"));
  const script = /\bsh\s+'''([\s\S]*?)'''/.exec(quality)?.[1] ?? '';
  const version = /ADCI_VERSION = "\$\{env\.ADCI_VERSION \?: '([^']*)'\}"/.exec(text)?.[1] ?? '';
  return { script, version };
}

describe('the examples install adci from a registry', { timeout: 600_000 }, () => {
  let registry: Registry;
  let packDir = '';
  let integrity = '';

  before(async () => {
    ({ registry, integrity, packDir } = await publishToLocalRegistry());
  });

  after(async () => {
    await registry?.close();
    rmSync(packDir, { recursive: true, force: true });
  });

  test("the README's install commands name this version and run as written", (t) => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## The `adci` command outside GitHub Actions'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    assert.match(
      block,
      new RegExp(`^npm install .* ${manifest.name}@${manifest.version.replaceAll('.', '\\.')}$`, 'm'),
    );
    const tarball = `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`;
    assert.ok(section.includes(`/releases/download/v${manifest.version}/${tarball}`), 'the release tarball link');
    const dir = mkdtempSync(join(tmpdir(), 'adci-readme-install-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const install = block.split('\n').filter((line) => /^npm install |^npx adci --version$/.test(line));
    assert.equal(install.length, 2, block);
    const result = spawnSync('bash', ['-eo', 'pipefail', '-c', install.join('\n')], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        PATH: [node24Dir(), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter),
        HOME: dir,
        NPM_CONFIG_REGISTRY: registry.url,
        NPM_CONFIG_CACHE: join(dir, '.npm-cache'),
        NPM_CONFIG_UPDATE_NOTIFIER: 'false',
      },
    });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.equal(result.stdout.trim().split('\n').at(-1), manifest.version);
  });

  test('both examples pin this exact version', () => {
    assert.equal(gitlabInstall().version, manifest.version);
    assert.equal(jenkinsInstall().version, manifest.version);
  });

  for (const [name, read, shell] of [
    ['GitLab before_script', gitlabInstall, ['bash', '-eo', 'pipefail', '-c']],
    ['Jenkins Quality step', jenkinsInstall, ['sh', '-xec']],
  ] as const) {
    const run = (pin: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'adci-install-job-'));
      writeFileSync(join(dir, '.keep'), '');
      const started = Date.now();
      const result = spawnSync(shell[0], [...shell.slice(1), read().script], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
        env: {
          PATH: [node24Dir(), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter),
          HOME: dir,
          ADCI_VERSION: manifest.version,
          ADCI_INTEGRITY: pin,
          NPM_CONFIG_REGISTRY: registry.url,
          NPM_CONFIG_CACHE: join(dir, '.npm-cache'),
          NPM_CONFIG_UPDATE_NOTIFIER: 'false',
        },
      });
      return { dir, result, seconds: (Date.now() - started) / 1000 };
    };

    test(`${name}: the package alone, in seconds, with the integrity pinned`, (t) => {
      const { dir, result, seconds } = run(integrity);
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, new RegExp(`^${manifest.version.replaceAll('.', '\\.')}$`, 'm'));
      const installed = readdirSync(join(dir, 'node_modules')).filter((n) => !n.startsWith('.'));
      assert.deepEqual(installed, ['@adci-dev']);
      assert.deepEqual(readdirSync(join(dir, 'node_modules', '@adci-dev')), ['adci']);
      process.stdout.write(`# ${name}: install from Verdaccio in ${seconds.toFixed(1)} s\n`);
      assert.ok(seconds < 10, `the install took ${seconds.toFixed(1)} s`);
    });

    test(`${name}: another integrity is refused before anything is installed`, (t) => {
      const wrong = `sha512-${Buffer.alloc(64, 1).toString('base64')}`;
      const { dir, result } = run(wrong);
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      assert.notEqual(result.status, 0, result.stdout);
      assert.match(result.stderr, /the registry serves sha512-\S+, not ADCI_INTEGRITY sha512-/);
      assert.ok(!existsSync(join(dir, 'node_modules')), 'something was installed');
    });
  }
});

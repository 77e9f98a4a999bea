// .github/workflows/release.yml run by nektos/act on a v1.0.0 tag pushed to a local bare repository
// (standing in for github.com/org/adci: git's url.<base>.insteadOf sends the job's `git push origin`
// there): the verify job (typecheck, validation, a fresh build equal to the committed dist/, the
// built command's --version), then the publish job: `npm pack`, `npm publish` to a real registry
// (Verdaccio on loopback, vars.NPM_REGISTRY), the GitHub release with the tarball and its checksum
// through the fake GitHub API (every call checked against GitHub's OpenAPI description), and the
// major tag v1 moved from an older release to this one. act has no OIDC token, so the publish runs
// without provenance and says so; the test checks that the workflow asks for it on GitHub. Then the
// published package installs from the registry into an empty directory as the release notes say:
// one package, no development dependencies, in seconds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createActRepository, type ActRepository } from '../act/repo.ts';
import { ensureAct, runAct, type ActResult } from '../act/act.ts';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.ts';
import { startVerdaccio, type Registry } from '../registry/verdaccio.ts';
import { repoRoot } from '../runner/index.ts';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
const TAG = `v${manifest.version}`;
const MAJOR = TAG.split('.')[0] ?? 'v1';

interface WorkflowStep {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Workflow {
  on: { push: { tags: string[] } };
  jobs: Record<string, { needs?: string; permissions?: Record<string, string>; steps: WorkflowStep[] }>;
}
const workflow = parse(readFileSync(join(repoRoot, '.github', 'workflows', 'release.yml'), 'utf8')) as Workflow;

/** `actions/setup-node@<sha>` as release.yml pins it. */
function setupNode(): string {
  const uses = Object.values(workflow.jobs)
    .flatMap((job) => job.steps)
    .map((step) => (step as { uses?: string }).uses ?? '')
    .find((u) => u.startsWith('actions/setup-node@'));
  assert.ok(uses, 'release.yml uses no actions/setup-node');
  return uses;
}

function log(result: ActResult): string {
  return result.output.length > 60_000 ? `…${result.output.slice(-60_000)}` : result.output;
}

test('release.yml asks for provenance on GitHub: id-token write, --provenance unless under act', () => {
  assert.deepEqual(workflow.on.push.tags, ['v*.*.*']);
  const publish = workflow.jobs.publish;
  assert.ok(publish, 'no publish job');
  assert.equal(publish.needs, 'verify');
  assert.equal(publish.permissions?.['id-token'], 'write');
  const step = publish.steps.find((s) => /npm publish/.test(s.run ?? ''));
  assert.ok(step?.run, 'no npm publish step');
  assert.match(step.run, /provenance=\(--provenance\)/);
  assert.match(step.run, /if \[ "\$\{ACT:-\}" = true \]; then\s+provenance=\(\)/);
  assert.match(step.run, /npm publish .*"\$\{provenance\[@\]\}"/);
  // The job with the publishing credentials installs no development package.
  assert.ok(!publish.steps.some((s) => /npm (ci|install)/.test(s.run ?? '')), 'npm ci in the publish job');
});

describe(`release.yml under act: ${TAG} to Verdaccio, the GitHub release and ${MAJOR}`, { timeout: 2_400_000 }, () => {
  let repo: ActRepository;
  let github: FakeGitHub;
  let registry: Registry;
  let server = '';
  let bare = '';
  let releaseSha = '';
  let olderSha = '';
  let standIn = '';

  before(async () => {
    await ensureAct();
    registry = await startVerdaccio();
    github = await startFakeGitHub({ owner: 'org', repo: 'adci' });
    repo = createActRepository();
    server = mkdtempSync(join(tmpdir(), 'adci-release-server-'));
    bare = join(server, 'org', 'adci.git');
    mkdirSync(bare, { recursive: true });
    execFileSync('git', ['init', '--quiet', '--bare', bare]);
    // An older release that v1 points at, then the release commit.
    olderSha = repo.head();
    releaseSha = repo.commit(`Release ${TAG}`);
    repo.git('tag', 'v1', olderSha);
    repo.git('tag', TAG, releaseSha);
    repo.git('push', '--quiet', bare, 'main', 'v1', TAG);
    // actions/setup-node is skipped under act (act puts the pinned Node 24 first on PATH), but act
    // resolves it all the same: a stand-in that fails loudly if it ever ran.
    standIn = join(server, 'setup-node');
    mkdirSync(standIn);
    writeFileSync(
      join(standIn, 'action.yml'),
      'name: setup-node stand-in\ndescription: must never run\nruns:\n  using: node24\n  main: index.js\n',
    );
    writeFileSync(join(standIn, 'index.js'), "console.log('::error::SETUP-NODE STAND-IN RAN'); process.exit(1);\n");
  });

  after(async () => {
    await registry?.close();
    await github?.close();
    repo?.remove();
    if (server) rmSync(server, { recursive: true, force: true });
  });

  test('verify, publish without provenance (act), release with tarball and checksum, v1 moved', async () => {
    const result = await runAct({
      cwd: repo.dir,
      workflow: '.github/workflows/release.yml',
      event: 'push',
      payload: {
        ref: `refs/tags/${TAG}`,
        before: '0'.repeat(40),
        after: releaseSha,
        created: true,
        base_ref: 'refs/heads/main',
        head_commit: { id: releaseSha, message: `Release ${TAG}`, author: { name: 'Ada', username: 'ada' } },
        repository: { full_name: 'org/adci', name: 'adci', owner: { login: 'org' }, default_branch: 'main' },
        pusher: { name: 'ada' },
        sender: { login: 'ada' },
      },
      secrets: { GITHUB_TOKEN: github.token, NPM_TOKEN: registry.token },
      vars: { NPM_REGISTRY: registry.url },
      localRepositories: { [setupNode()]: standIn },
      env: {
        GITHUB_API_URL: github.url,
        // The job's git (push of the major tag) reaches the local bare repository for github.com.
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: `url.file://${server}/.insteadOf`,
        GIT_CONFIG_VALUE_0: 'https://github.com/',
      },
      timeoutMs: 2_000_000,
    });
    assert.equal(result.code, 0, log(result));
    assert.deepEqual(
      result.jobs.map((j) => [j.job.trim(), j.result]),
      [
        ['release/checks, and dist/ matches the sources', 'success'],
        ['release/npm, GitHub release, major tag', 'success'],
      ],
      log(result),
    );
    assert.match(result.output, /act has no OIDC token: publishing without provenance/);
    assert.doesNotMatch(result.output, /SETUP-NODE STAND-IN RAN/);
    assert.ok(!result.output.includes(registry.token), 'the npm token reached the log');
    assert.ok(!result.output.includes(github.token), 'the GitHub token reached the log');

    // The registry has the version, and its tarball is the one attached to the release.
    const packument = await registry.packument(manifest.name);
    const published = packument?.versions[manifest.version];
    assert.ok(published, `${manifest.name}@${manifest.version} is not on the registry:\n${registry.log()}`);
    const releases = github.releases();
    assert.equal(releases.length, 1, JSON.stringify(github.requests.map((r) => `${r.method} ${r.path} ${r.status}`)));
    const [release] = releases;
    assert.equal(release?.tag_name, TAG);
    assert.equal(release?.name, `adci ${manifest.version}`);
    assert.equal(release?.target_commitish, releaseSha);
    const names = (release?.assets ?? []).map((a) => a.name).sort();
    const tarballName = `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`;
    assert.deepEqual(names, [tarballName, `${tarballName}.sha256`]);
    const tarball = release?.assets.find((a) => a.name === tarballName)?.content ?? Buffer.alloc(0);
    const checksum = release?.assets.find((a) => a.name.endsWith('.sha256'))?.content.toString('utf8') ?? '';
    const sha256 = createHash('sha256').update(tarball).digest('hex');
    assert.equal(checksum, `${sha256}  ${tarballName}\n`);
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    assert.equal(published.dist.integrity, integrity, 'the registry and the release hold different tarballs');
    assert.ok(release?.body.includes(integrity), release?.body);
    assert.ok(release?.body.includes(sha256), release?.body);
    assert.deepEqual(github.violations, []);

    // v1 moved from the older release to this one on the "GitHub" repository.
    const tags = execFileSync('git', ['ls-remote', '--tags', bare], { encoding: 'utf8' });
    assert.match(tags, new RegExp(`^${releaseSha}\\s+refs/tags/${MAJOR}$`, 'm'), tags);
    assert.match(tags, new RegExp(`^${releaseSha}\\s+refs/tags/${TAG.replaceAll('.', '\\.')}$`, 'm'), tags);
  });

  test('the published package installs from the registry alone, in seconds, and runs', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'adci-release-install-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'package.json'), '{ "name": "ci-job", "private": true }\n');
    const started = Date.now();
    const install = spawnSync(
      'npm',
      [
        'install',
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--no-update-notifier',
        '--registry',
        registry.url,
        '--cache',
        join(dir, '.npm-cache'),
        `${manifest.name}@${manifest.version}`,
      ],
      { cwd: dir, encoding: 'utf8', timeout: 120_000 },
    );
    const seconds = (Date.now() - started) / 1000;
    assert.equal(install.status, 0, `${install.stdout}\n${install.stderr}`);
    assert.match(install.stdout, /added 1 package/);
    process.stdout.write(
      `# npm install ${manifest.name}@${manifest.version} from Verdaccio: ${seconds.toFixed(1)} s\n`,
    );
    const version = spawnSync(process.execPath, [join(dir, 'node_modules', '.bin', 'adci'), '--version'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(version.stdout, `${manifest.version}\n`, version.stderr);
  });
});

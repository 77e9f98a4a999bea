// examples/ad-platform/.gitlab-ci.yml run for real by gitlab-ci-local (GitLab's pipeline semantics:
// workflow rules, rules, stages, needs, resource_group, .post jobs on_success/on_failure) with the
// shell executor (--force-shell-executor and --shell-executor-no-image: no Docker here, so the
// jobs' `image:` is not used and the machine's tools run them, Node 24 first on PATH). The example
// is its own repository here (a temporary git repository with a remote named origin, on develop),
// adci comes from a registry (this checkout's `npm pack` tarball published to Verdaccio on loopback,
// NPM_CONFIG_REGISTRY, ADCI_VERSION and ADCI_INTEGRITY as the file documents), and the develop pipeline
// runs: quality (the real tools and `npx adci gate`), image skipped (IMAGE_BUILD=false: no Docker
// engine or registry, said by the image-skipped job), `npx adci deploy --kustomize` to a namespace of the local
// cluster, `npx adci smoke` through the NodePort, and `npx adci notify` to a Slack-compatible
// receiver on loopback, which must name GitLab's commit, branch and job URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';
import {
  clusterTestSkip,
  createAdPlatformNamespace,
  kubectlBinary,
  kubectlJson,
  kubectlOk,
  nodeAddress,
  nodePortOf,
  testKubeconfig,
  type TestNamespace,
} from '../cluster/testing.ts';
import { repoRoot } from '../runner/index.ts';
import { node24Dir } from '../act/act.ts';
import { publishToLocalRegistry, type Registry } from '../registry/verdaccio.ts';
import { createExampleRepository } from '../act/repo.ts';

const example = join(repoRoot, 'examples', 'ad-platform');
const adciVersion = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const gitlabCiLocal = join(repoRoot, 'node_modules', 'gitlab-ci-local', 'dist', 'index.js');

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('the GitLab pipeline under gitlab-ci-local', { skip: clusterTestSkip(), timeout: 1_500_000 }, () => {
  let dir = '';
  let packDir = '';
  let integrity = '';
  let registry: Registry;
  let slack: FakeSlack;
  let ns: TestNamespace | undefined;
  const token = `smoke-${randomBytes(12).toString('hex')}`;

  before(async () => {
    dir = createExampleRepository('develop').dir;
    ({ registry, integrity, packDir } = await publishToLocalRegistry());
    slack = await startFakeSlack();
    ns = await createAdPlatformNamespace('gitlab-staging', `smoke=${token}`);
    // The environment's entry point exists before the first deploy (its URL is STAGING_URL).
    await kubectlOk(['-n', ns.name, 'apply', '-f', join(example, 'deploy', 'service.yaml')]);
  });

  after(async () => {
    await slack?.close();
    await registry?.close();
    if (ns) {
      await ns.remove();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`/var/lib/ad-platform/${ns.name}.db${suffix}`, { force: true });
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(packDir, { recursive: true, force: true });
  });

  test('develop: quality, image skipped, adci deploy, smoke and notify against the local cluster', async () => {
    assert.ok(ns);
    const url = `http://${nodeAddress()}:${await nodePortOf(ns, 'ad-platform')}`;
    const variables: Record<string, string> = {
      ADCI_VERSION: adciVersion,
      ADCI_INTEGRITY: integrity,
      NPM_CONFIG_REGISTRY: registry.url,
      IMAGE_BUILD: 'false',
      IMAGE_REPOSITORY: 'ad-platform',
      PIP_AUDIT_ALLOW_UNAUDITED: 'true', // no vulnerability service answers here (examples/ad-platform/README.md)
      STAGING_KUBECONFIG: testKubeconfig() ?? '',
      STAGING_NAMESPACE: ns.name,
      STAGING_URL: url,
      STAGING_SMOKE_TOKEN: token,
      SLACK_WEBHOOK_URL: slack.webhookUrl,
      POST_PROMOTION_WINDOW: '10s',
      SCALE_DOWN_DELAY: '2s',
      // Latency thresholds for a shared 2-core machine (the checks file's are the service's SLO); errors stay strict.
      SMOKE_LOAD_THRESHOLDS: 'p(95)<500ms\np(99)<1s\nerror_rate<0.01\ndropped_rate<0.01',
    };
    const args = [
      gitlabCiLocal,
      '--force-shell-executor',
      '--shell-executor-no-image',
      '--no-color',
      '--timestamps',
      '--home',
      join(dir, '.gitlab-ci-local-home'),
      ...Object.entries(variables).flatMap(([name, value]) => ['--variable', `${name}=${value}`]),
    ];
    // The cluster's kubectl on PATH: deploy-staging renders its Kustomize overlay with `kubectl kustomize`.
    const kubectl = kubectlBinary();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: [node24Dir(), ...(isAbsolute(kubectl) ? [dirname(kubectl)] : []), process.env.PATH ?? ''].join(delimiter),
    };
    delete env.KUBECONFIG;
    delete env.CI;
    delete env.GITHUB_ACTIONS;
    const result = await run(process.execPath, args, { cwd: dir, env, timeoutMs: 1_200_000 });
    const output = result.output.length > 60_000 ? `…${result.output.slice(-60_000)}` : result.output;
    assert.equal(result.code, 0, output);
    for (const job of ['quality', 'build-image-skipped', 'deploy-staging', 'smoke-staging', 'notify-success']) {
      assert.match(result.output, new RegExp(`${job}\\s.*(finished|PASS)`, 'm'), `${job} did not pass:\n${output}`);
    }
    assert.doesNotMatch(result.output, /^build-image\s.*starting/m, 'the image job ran');
    assert.match(result.output, /image build skipped \(IMAGE_BUILD=false/);
    assert.match(result.output, /passed/);
    assert.match(result.output, /blue is live|green is live/);
    // What deployed is the staging overlay's rendering (its autoscaler ceiling), not deploy/*.yaml as such.
    const hpas = await kubectlJson<{ items: { spec: { maxReplicas: number } }[] }>(['-n', ns.name, 'get', 'hpa']);
    assert.ok(
      hpas.items.some((h) => h.spec.maxReplicas === 4),
      `the overlay's HPA (maxReplicas 4) was not deployed: ${JSON.stringify(hpas.items.map((h) => h.spec))}`,
    );
    const version = ((await (await fetch(`${url}/health`)).json()) as { version: string }).version;
    assert.match(version, /^sha-[0-9a-f]{8}$/);
    const delivered = slack.received.filter((r) => r.answeredWith === 200).map((r) => JSON.stringify(r.json));
    assert.ok(delivered.length >= 1, 'no Slack message');
    const message = delivered.at(-1) ?? '';
    assert.match(message, /develop/);
    assert.match(message, /gitlab\.example\.com\/ads\/ad-platform\/-\/commit\/[0-9a-f]{40}/);
    assert.match(message, /\/-\/jobs\//);
    assert.ok(!result.output.includes(token), 'the smoke token reached the log');
  });
});

// The reference pipeline (.github/workflows/ad-platform.yml) run by nektos/act, GitHub's workflow
// semantics as act implements them, in self-hosted mode with the pinned Node 24: the same YAML a
// user runs on GitHub, its reusable workflows and local actions included. One run per trigger, each
// from test/act/events/: a pull request (quality: the real tools and the gate, its PR comment to a
// fake GitHub API), a push to develop (staging: blue-green of the example's Helm chart on the local cluster, smoke and load,
// Slack) and a push to main (production preview, promote, smoke, Slack). Slack is a local
// Slack-compatible receiver on loopback.
//
// Skipped, by a documented condition: the image job (docker build/push needs a Docker engine and a
// registry, neither exists here). The runs set vars.IMAGE_BUILD=false, the workflow skips that job and
// says so; the deploys run ad-platform:sha-<commit>, which the local cluster's image map serves from
// the example's virtual environment. vars.PIP_AUDIT_ALLOW_UNAUDITED=true because no vulnerability
// service answers from this machine (see examples/ad-platform/README.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createActRepository, type ActRepository } from '../act/repo.ts';
import { ensureAct, runAct, type ActResult } from '../act/act.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.ts';
import { ensureHelm } from '../cluster/helm.ts';
import {
  clusterTestSkip,
  createNamespace,
  kubectlJson,
  kubectlOk,
  nodeAddress,
  nodePortOf,
  testKubeconfig,
  type TestNamespace,
} from '../cluster/testing.ts';
import { repoRoot } from '../runner/index.ts';

const WORKFLOW = '.github/workflows/ad-platform.yml';
const example = join(repoRoot, 'examples', 'ad-platform');

let repo: ActRepository;
let slack: FakeSlack;
let github: FakeGitHub;

function log(result: ActResult): string {
  return result.output.length > 60_000 ? `…${result.output.slice(-60_000)}` : result.output;
}

function jobResult(result: ActResult, name: RegExp): string | undefined {
  return result.jobs.find((j) => name.test(j.job))?.result;
}

interface SlackMessage {
  text?: string;
  attachments?: {
    color?: string;
    blocks?: { type: string; text?: { text?: string }; fields?: { text: string }[] }[];
  }[];
  blocks?: unknown[];
}

const messageText = (m: unknown): string => JSON.stringify(m);

describe('the reference pipeline under act', { timeout: 2_400_000 }, () => {
  before(async () => {
    await ensureAct();
    slack = await startFakeSlack();
    github = await startFakeGitHub({ owner: 'org', repo: 'adci' });
    repo = createActRepository();
  });
  after(async () => {
    await slack?.close();
    await github?.close();
    repo?.remove();
  });

  test('pull request: the quality job runs the tools and gates the change, one PR comment', async () => {
    const base = repo.head();
    repo.git('checkout', '--quiet', '-b', 'feature/bid-floor');
    const head = repo.commit('Document the bid floor', {
      'examples/ad-platform/docs/bid-floor.md': '# Bid floor\n\nBids under the floor are refused.\n',
    });
    const result = await runAct({
      cwd: repo.dir,
      workflow: WORKFLOW,
      event: 'pull_request',
      payload: repo.payload('pull_request', { head, base }),
      secrets: { GITHUB_TOKEN: github.token },
      vars: { PIP_AUDIT_ALLOW_UNAUDITED: 'true' },
      env: { GITHUB_API_URL: github.url },
    });
    assert.equal(result.code, 0, log(result));
    // Only the quality job runs on a pull request.
    assert.deepEqual(
      result.jobs.map((j) => [j.job, j.result]),
      [['quality/quality/quality gate', 'success']],
      log(result),
    );
    assert.match(result.output, /passed=true/);
    assert.match(result.output, /pytest/);
    const comments = github.comments(7);
    assert.equal(comments.length, 1, JSON.stringify(github.requests.map((r) => `${r.method} ${r.path} ${r.status}`)));
    assert.match(comments[0]?.body ?? '', /Quality gate \(examples\/ad-platform\)/);
    assert.deepEqual(github.violations, []);
    assert.ok(!result.output.includes(github.token), 'the token reached the log');
    repo.git('checkout', '--quiet', 'main');
  });

  describe('pushes deploy to the local cluster', { skip: clusterTestSkip() }, () => {
    const token = `smoke-${randomBytes(12).toString('hex')}`;
    const namespaces: TestNamespace[] = [];
    const urls: Record<string, string> = {};
    let kubeconfig = '';
    let helmDir = '';

    before(async () => {
      helmDir = dirname(await ensureHelm());
      kubeconfig = readFileSync(testKubeconfig() ?? '', 'utf8');
      for (const environment of ['staging', 'production']) {
        const ns = await createNamespace(`act-${environment}`);
        namespaces.push(ns);
        // What the environment's owners set up once: the app's API tokens, and its entry point (here a
        // NodePort Service; a load balancer or Ingress elsewhere), so its URL is known before any
        // deploy, as vars.STAGING_URL is. The deploy switches this Service between colours.
        await kubectlOk([
          '-n',
          ns.name,
          'create',
          'secret',
          'generic',
          'ad-platform-tokens',
          `--from-literal=api-tokens=smoke=${token}`,
        ]);
        await kubectlOk(['-n', ns.name, 'apply', '-f', join(example, 'deploy', 'service.yaml')]);
        urls[environment] = `http://${nodeAddress()}:${await nodePortOf(ns, 'ad-platform')}`;
      }
    });

    after(async () => {
      for (const ns of namespaces) {
        await ns.remove();
        for (const suffix of ['', '-wal', '-shm'])
          rmSync(`/var/lib/ad-platform/${ns.name}.db${suffix}`, { force: true });
      }
    });

    const push = (branch: 'develop' | 'main', message: string) => {
      const before = repo.head();
      repo.git('checkout', '--quiet', '-B', branch);
      const head = repo.commit(message);
      const [staging, production] = namespaces;
      return runAct({
        cwd: repo.dir,
        workflow: WORKFLOW,
        event: 'push',
        payload: repo.payload(branch === 'develop' ? 'push-develop' : 'push-main', { head, before, message }),
        secrets: {
          GITHUB_TOKEN: github.token,
          STAGING_KUBECONFIG: kubeconfig,
          PRODUCTION_KUBECONFIG: kubeconfig,
          STAGING_SMOKE_TOKEN: token,
          PRODUCTION_SMOKE_TOKEN: token,
          SLACK_WEBHOOK_URL: slack.webhookUrl,
        },
        vars: {
          IMAGE_BUILD: 'false',
          IMAGE_REPOSITORY: 'ad-platform',
          PIP_AUDIT_ALLOW_UNAUDITED: 'true',
          STAGING_NAMESPACE: staging?.name ?? '',
          PRODUCTION_NAMESPACE: production?.name ?? '',
          STAGING_URL: urls.staging ?? '',
          PRODUCTION_URL: urls.production ?? '',
          POST_PROMOTION_WINDOW: '10s',
          SCALE_DOWN_DELAY: '2s',
          // Latency thresholds for a shared 2-core machine (the checks file's are the service's SLO); errors stay strict.
          SMOKE_LOAD_THRESHOLDS: 'p(95)<500ms\np(99)<1s\nerror_rate<0.01\ndropped_rate<0.01',
        },
        env: { GITHUB_API_URL: github.url },
        // Staging renders the example chart with helm (preinstalled on GitHub's runners; built here).
        toolDirs: [helmDir],
      }).then((result) => ({ result, head }));
    };

    const version = async (environment: string) =>
      ((await (await fetch(`${urls[environment]}/health`)).json()) as { version: string }).version;

    test('develop: quality, image skipped (and said so), staging blue-green, smoke and load, Slack', async () => {
      slack.reset();
      const { result, head } = await push('develop', 'Raise the default bid');
      const sha = `sha-${head.slice(0, 12)}`;
      process.stdout.write(
        '# image job skipped: vars.IMAGE_BUILD=false (docker build/push needs a Docker engine and a registry)\n',
      );
      assert.equal(result.code, 0, log(result));
      assert.match(result.output, /image build skipped/);
      for (const [name, job] of [
        ['quality', /^quality\/quality\/quality gate$/],
        ['image reference', /^ad-platform\/image reference$/],
        ['staging deploy', /^staging\//],
        ['smoke', /^ad-platform\/smoke and load \(staging\)\s*$/],
        ['notify', /^ad-platform\/notify\s*$/],
      ] as const) {
        assert.equal(jobResult(result, job), 'success', `${name}: ${JSON.stringify(result.jobs)}\n${log(result)}`);
      }
      assert.equal(jobResult(result, /build and push/), undefined, 'the image job ran');
      assert.equal(jobResult(result, /production/), undefined, 'production ran on develop');
      assert.match(result.output, /result=promoted/);
      assert.equal(await version('staging'), sha);
      const services = await kubectlJson<{ spec: { selector: Record<string, string> } }>([
        '-n',
        namespaces[0]?.name ?? '',
        'get',
        'service',
        'ad-platform',
      ]);
      assert.match(services.spec.selector['adci.dev/color'] ?? '', /^(blue|green)$/);
      // Staging deployed the example's chart: its ConfigMap is one no plain manifest has.
      // (versioned with the colour: a copy per colour, labelled with the object it copies).
      const copies = await kubectlOk([
        '-n',
        namespaces[0]?.name ?? '',
        'get',
        'configmap',
        '-l',
        'adci.dev/copy-of=ad-platform-config',
        '-o',
        'name',
      ]);
      assert.match(copies, /configmap\/ad-platform-config-(blue|green)/);
      const messages = slack.received.filter((r) => r.answeredWith === 200).map((r) => r.json as SlackMessage);
      assert.ok(messages.length >= 2, `Slack messages: ${messages.length}`);
      assert.ok(
        messages.some((m) => /deploy staging, promoted/.test(messageText(m))),
        messageText(messages),
      );
      assert.ok(
        messages.some((m) => /ad-platform succeeded/.test(messageText(m))),
        messageText(messages),
      );
      assert.ok(!messageText(messages).includes(token), 'the smoke token reached Slack');
      assert.ok(!result.output.includes(token), 'the smoke token reached the log');
    });

    test('main: production preview (auto-promote false), promote, smoke and load, Slack', async () => {
      slack.reset();
      const { result, head } = await push('main', 'Release the default bid');
      const sha = `sha-${head.slice(0, 12)}`;
      assert.equal(result.code, 0, log(result));
      for (const [name, job] of [
        ['production preview', /^production \(preview\)\//],
        ['promote', /^promote production\//],
        ['smoke', /^ad-platform\/smoke and load \(production\)\s*$/],
        ['notify', /^ad-platform\/notify\s*$/],
      ] as const) {
        assert.equal(jobResult(result, job), 'success', `${name}: ${JSON.stringify(result.jobs)}\n${log(result)}`);
      }
      assert.match(result.output, /result=preview-ready/);
      assert.match(result.output, /result=promoted/);
      assert.equal(await version('production'), sha);
      const messages = slack.received.filter((r) => r.answeredWith === 200).map((r) => messageText(r.json));
      assert.ok(
        messages.some((m) => /deploy production, preview-ready/.test(m)),
        messages.join('\n'),
      );
      assert.ok(
        messages.some((m) => /promote production, promoted/.test(m)),
        messages.join('\n'),
      );
    });
  });
});

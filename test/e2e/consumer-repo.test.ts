// adci used from ANOTHER repository, as its users do, run by nektos/act: a workflow of `shop/web`
// calls `org/adci/blue-green-deploy@v1`, `org/adci/blue-green-deploy@<full sha>` and the reusable
// `org/adci/.github/workflows/deploy.yml@<full sha>` with `adci-ref: <full sha>`, each an
// `action: status` against a namespace of the local cluster.
//
// No --local-repository mapping: "github.com" is a local bare repository (GITHUB_SERVER_URL=file://…,
// which act uses for every remote `uses:` and the workflow's `git fetch` of adci-ref uses too), so act
// itself resolves each reference with git, as GitHub does. The repository holds two commits that
// differ: tag v1 is this checkout (adci CURRENT), and a later commit on main is the next release
// (adci NEXT: the version in the sources and in the blue-green-deploy bundle, and a marker in
// deploy.yml's job name). Every action logs `adci <version>` first, so the log proves which commit
// ran: `@v1` ran CURRENT, `@<sha>` ran NEXT, and deploy.yml at <sha> ran NEXT's workflow with
// NEXT's action fetched at adci-ref.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActRepository, type ActRepository } from '../act/repo.ts';
import { ensureAct, runAct, type ActResult } from '../act/act.ts';
import { clusterTestSkip, createNamespace, testKubeconfig, type TestNamespace } from '../cluster/testing.ts';
import { ADCI_VERSION } from '@adci/common';
import { repoRoot } from '../runner/index.ts';

const CURRENT = ADCI_VERSION;
const NEXT = CURRENT.replace(/(\d+)$/, (patch) => String(Number(patch) + 1));
const MARKER = `(adci ${NEXT} workflow)`;
const IDENTITY = ['-c', 'user.name=shop', '-c', 'user.email=shop@shop.invalid'];

/** actions/checkout as deploy.yml pins it (act skips a checkout of the repository it runs in). */
const CHECKOUT = /uses: (actions\/checkout@[0-9a-f]{40})/.exec(
  readFileSync(join(repoRoot, '.github', 'workflows', 'deploy.yml'), 'utf8'),
)?.[1];

function log(result: ActResult): string {
  return result.output.length > 60_000 ? `…${result.output.slice(-60_000)}` : result.output;
}

/** The lines act printed for jobs whose display name matches. */
function jobLines(result: ActResult, job: RegExp): string[] {
  return result.output.split('\n').filter((line) => {
    const name = /^\[([^\]]+)\]/.exec(line)?.[1]?.trim();
    return name !== undefined && job.test(name);
  });
}

/** `adci <version>` lines the actions of a job logged. */
function versionsRun(result: ActResult, job: RegExp): string[] {
  return [
    ...new Set(
      jobLines(result, job)
        .map((line) => /\|\s*adci (\d+\.\d+\.\d+\S*)\s*$/.exec(line)?.[1])
        .filter((v): v is string => v !== undefined),
    ),
  ];
}

const APP = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: shop/web:1.0.0
          ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;

function consumerWorkflow(nextSha: string, namespace: string): string {
  const status = (ref: string, id: string) => `    steps:
      - uses: ${CHECKOUT}
        with:
          persist-credentials: false
      - id: ${id}
        uses: org/adci/blue-green-deploy@${ref}
        with:
          action: status
          manifests: deploy/app.yaml
          namespace: ${namespace}
          kubeconfig: \${{ secrets.KUBECONFIG }}
      - env:
          RESULT: \${{ steps.${id}.outputs.result }}
        run: echo "status result=$RESULT"
`;
  return `name: consumer
on: push
permissions: {}
jobs:
  tag:
    name: pinned to v1
    runs-on: ubuntu-latest
    permissions: { contents: read }
${status('v1', 'bg')}
  sha:
    name: pinned to a commit
    runs-on: ubuntu-latest
    permissions: { contents: read }
${status(nextSha, 'bg')}
  reusable:
    uses: org/adci/.github/workflows/deploy.yml@${nextSha}
    permissions: { contents: read }
    with:
      environment: staging
      image: shop/web:1.0.0
      namespace: ${namespace}
      manifests: deploy/app.yaml
      action: status
      adci-ref: ${nextSha}
    secrets:
      kubeconfig: \${{ secrets.KUBECONFIG }}
  # The same workflow with adci-ref at v1: adci-ref, not the workflow's own @ref, picks the actions.
  reusable-v1-actions:
    uses: org/adci/.github/workflows/deploy.yml@${nextSha}
    permissions: { contents: read }
    with:
      environment: qa
      image: shop/web:1.0.0
      namespace: ${namespace}
      manifests: deploy/app.yaml
      action: status
      adci-ref: v1
    secrets:
      kubeconfig: \${{ secrets.KUBECONFIG }}
  after-reusable:
    name: reusable outputs
    needs: reusable
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - env:
          RESULT: \${{ needs.reusable.outputs.result }}
        run: echo "reusable result=$RESULT"
`;
}

describe(
  'another repository uses adci at @v1, @<sha> and deploy.yml with adci-ref: <sha>',
  {
    skip: clusterTestSkip(),
    timeout: 600_000,
  },
  () => {
    let adci: ActRepository;
    let dir = '';
    let consumer = '';
    let ns: TestNamespace;
    let v1Sha = '';
    let nextSha = '';

    before(async () => {
      assert.ok(CHECKOUT, 'deploy.yml pins no actions/checkout');
      await ensureAct();
      ns = await createNamespace('consumer');
      dir = mkdtempSync(join(tmpdir(), 'adci-consumer-'));
      // "github.com": org/adci as a bare repository. act clones <server>/org/adci, the workflow's own
      // fetch <server>/org/adci.git: the same repository under both names.
      const server = join(dir, 'server');
      const bare = join(server, 'org', 'adci.git');
      mkdirSync(bare, { recursive: true });
      execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
      symlinkSync('adci.git', join(server, 'org', 'adci'));

      adci = createActRepository();
      v1Sha = adci.head();
      adci.git('tag', 'v1', v1Sha);
      // The next release: its version in the sources and the built bundle (what `npm run build` makes
      // of a version bump: the one constant), and a visible change to deploy.yml.
      const read = (path: string) => readFileSync(join(adci.dir, path), 'utf8');
      const once = (path: string, from: string, to: string) => {
        const text = read(path);
        assert.equal(text.split(from).length, 2, `${path}: expected ${from} exactly once`);
        return text.replace(from, to);
      };
      nextSha = adci.commit(`Release ${NEXT}`, {
        'packages/common/src/version.ts': once('packages/common/src/version.ts', `'${CURRENT}'`, `'${NEXT}'`),
        'dist/blue-green-deploy/index.js': once('dist/blue-green-deploy/index.js', `"${CURRENT}"`, `"${NEXT}"`),
        '.github/workflows/deploy.yml': once(
          '.github/workflows/deploy.yml',
          'name: ${{ inputs.action }} ${{ inputs.environment }}\n',
          `name: \${{ inputs.action }} \${{ inputs.environment }} ${MARKER}\n`,
        ),
      });
      adci.git('push', '--quiet', bare, 'main', 'v1');

      consumer = join(dir, 'web');
      mkdirSync(join(consumer, '.github', 'workflows'), { recursive: true });
      mkdirSync(join(consumer, 'deploy'));
      writeFileSync(join(consumer, 'deploy', 'app.yaml'), APP);
      writeFileSync(join(consumer, '.github', 'workflows', 'release.yml'), consumerWorkflow(nextSha, ns.name));
      const git = (...args: string[]) =>
        execFileSync('git', [...IDENTITY, ...args], { cwd: consumer, encoding: 'utf8' }).trim();
      git('init', '--quiet', '--initial-branch=main');
      git('remote', 'add', 'origin', 'https://github.com/shop/web.git');
      git('add', '--all');
      git('commit', '--quiet', '-m', 'Use adci');
    });

    after(async () => {
      await ns?.remove();
      adci?.remove();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('each reference runs the content of its commit', async () => {
      assert.notEqual(v1Sha, nextSha);
      const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: consumer, encoding: 'utf8' }).trim();
      const result = await runAct({
        cwd: consumer,
        workflow: '.github/workflows/release.yml',
        event: 'push',
        payload: {
          ref: 'refs/heads/main',
          before: '0'.repeat(40),
          after: head,
          head_commit: { id: head, message: 'Use adci' },
          repository: { full_name: 'shop/web', name: 'web', owner: { login: 'shop' }, default_branch: 'main' },
          pusher: { name: 'ada' },
          sender: { login: 'ada' },
        },
        secrets: { KUBECONFIG: readFileSync(testKubeconfig() ?? '', 'utf8') },
        env: { GITHUB_SERVER_URL: `file://${join(dir, 'server')}` },
        actionCachePath: join(dir, 'act-cache'),
        timeoutMs: 500_000,
      });
      assert.equal(result.code, 0, log(result));
      const jobs = Object.fromEntries(result.jobs.map((j) => [j.job.trim(), j.result]));
      assert.deepEqual(
        jobs,
        {
          'consumer/pinned to v1': 'success',
          'consumer/pinned to a commit': 'success',
          [`reusable/deploy/status staging ${MARKER}`]: 'success',
          [`reusable-v1-actions/deploy/status qa ${MARKER}`]: 'success',
          'consumer/reusable outputs': 'success',
        },
        log(result),
      );
      // act fetched each reference from the "github.com" repository, with git.
      assert.match(result.output, /git clone 'file:\/\/[^']+\/org\/adci' # ref=v1\b/, log(result));
      assert.match(result.output, new RegExp(`git clone 'file://[^']+/org/adci' # ref=${nextSha}`), log(result));

      // @v1 ran v1's content, @<sha> the sha's.
      assert.deepEqual(versionsRun(result, /^consumer\/pinned to v1$/), [CURRENT], log(result));
      assert.deepEqual(versionsRun(result, /^consumer\/pinned to a commit$/), [NEXT], log(result));
      // deploy.yml is the sha's (its job name), and the action it ran is the one fetched at adci-ref.
      const reusable = /^reusable\/deploy\//;
      assert.deepEqual(versionsRun(result, reusable), [NEXT], log(result));
      // The same workflow at <sha> with adci-ref: v1 ran v1's action: adci-ref decides.
      const reusableV1 = /^reusable-v1-actions\/deploy\//;
      assert.deepEqual(versionsRun(result, reusableV1), [CURRENT], log(result));
      // Each ran a real status of the namespace (its plan phase in the log, its summary printed by act
      // after the job's prefixed line), and the outputs reached the caller.
      for (const job of [/^consumer\/pinned to v1$/, /^consumer\/pinned to a commit$/, reusable, reusableV1]) {
        assert.ok(
          jobLines(result, job).some((line) => /✔ plan \([\d.]+ s\): nothing is live \(revision 0\)/.test(line)),
          `${job}: no status\n${log(result)}`,
        );
      }
      assert.equal(result.output.split(`web in ${ns.name}: not deployed is live`).length - 1, 4, log(result));
      assert.equal(jobLines(result, /^consumer\/pinned/).filter((l) => /status result=status$/.test(l)).length, 2);
      assert.ok(
        jobLines(result, /^consumer\/reusable outputs$/).some((l) => /reusable result=status$/.test(l)),
        log(result),
      );
      assert.ok(!result.output.includes('client-key-data'), 'the kubeconfig reached the log');
    });
  },
);

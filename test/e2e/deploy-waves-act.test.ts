// The reusable workflow .github/workflows/deploy-waves.yml run by nektos/act against three local
// clusters: a caller workflow (as a team would write it) calls it with a targets file of waves [a],
// [b, c]. act runs the plan job, one job per target per wave (the blue-green-deploy action with
// `target`, its previous colour held), a bake job between waves, the finish after the last bake,
// and the global rollback job when a job failed. Target a's kubeconfig comes from the `kubeconfigs`
// secret (kubeconfig-env), b's and c's from files. The first release (v1) is made with
// `adci deploy --targets` (the same state on the clusters), so each act run is a real change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createActRepository, type ActRepository } from '../act/repo.ts';
import { ensureAct, runAct, type ActResult } from '../act/act.ts';
import {
  clusterTestSkip,
  ensureClusters,
  kubectl,
  kubectlOk,
  namedClustersSkip,
  type ClusterHandle,
  type ClusterSet,
} from '../cluster/testing.ts';
import * as waves from '../cluster/waves.ts';
import { repoRoot } from '../runner/index.ts';

const skip = clusterTestSkip() || namedClustersSkip();
const NAMES = ['dw-a', 'dw-b', 'dw-c'];
/** The same namespace in the three clusters, new for each run of this file. */
const NS = `dwaves-${Math.random().toString(36).slice(2, 8)}`;
const CALLER = '.github/workflows/waves-caller.yml';

function manifest(tag: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: bid }
spec:
  replicas: 1
  selector: { matchLabels: { app: bid } }
  template:
    metadata: { labels: { app: bid } }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: bid
          image: adci/echo:${tag}
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: bid }
spec:
  type: NodePort
  selector: { app: bid }
  ports: [{ port: 80, targetPort: 8080 }]
`;
}

/** A caller of the reusable workflow, as a team would write it. */
const caller = `name: waves-caller
on: push
permissions: {}
jobs:
  release:
    uses: ./.github/workflows/deploy-waves.yml
    permissions:
      contents: read
    with:
      targets: \${{ vars.TARGETS }}
      manifests: deploy/bid.yaml
      post-promotion-window: 1s
      scale-down-delay: 1s
    secrets:
      kubeconfigs: \${{ secrets.KUBECONFIGS }}
`;

function targetsFile(set: ClusterSet, postChecksC?: string): string {
  const [, b, c] = set.list as [ClusterHandle, ClusterHandle, ClusterHandle];
  return `targets:
  - name: a
    kubeconfig-env: KUBE_DW_A
    namespace: ${NS}
  - name: b
    kubeconfig-file: ${b.kubeconfig}
    namespace: ${NS}
  - name: c
    kubeconfig-file: ${c.kubeconfig}
    namespace: ${NS}
${postChecksC ? `    post-promotion-checks: ${postChecksC}\n` : ''}waves:
  - [a]
  - [b, c]
bake-time: 1s
max-parallel: 2
`;
}

function log(result: ActResult): string {
  return result.output.length > 60_000 ? `…${result.output.slice(-60_000)}` : result.output;
}

/** Each job's result by its name without the caller's prefix and act's matrix index, e.g. `wave 2 (c)`. */
function jobs(result: ActResult): Record<string, string> {
  return Object.fromEntries(
    result.jobs.map((j) => [
      j.job
        .replace(/^.*\//, '')
        .trim()
        .replace(/\)-\d+$/, ')'),
      j.result,
    ]),
  );
}

const liveTag = (c: ClusterHandle): Promise<string> => waves.liveTag(c, NS);
const coloursUp = (c: ClusterHandle): Promise<number> => waves.coloursUp(c, NS);
const consistent = (c: ClusterHandle, why: string): Promise<void> => waves.assertConsistent(c, NS, why);

/** The index of the first output line of `job` matching `pattern` (-1 when none). */
function lineOf(result: ActResult, job: RegExp, pattern: RegExp): number {
  return result.output.split('\n').findIndex((line) => job.test(line) && pattern.test(line));
}

describe(
  'deploy-waves.yml under act: one job per target per wave on three clusters',
  { skip, timeout: 1_800_000 },
  () => {
    let set: ClusterSet;
    let repo: ActRepository;
    let kubeconfigA = '';

    before(async () => {
      await ensureAct();
      set = await ensureClusters(NAMES);
      await Promise.all(set.list.map((c) => kubectlOk(['create', 'namespace', NS], c.options)));
      kubeconfigA = readFileSync(set.list[0]?.kubeconfig ?? '', 'utf8');
      repo = createActRepository();
      repo.commit('v1 and the caller', {
        [CALLER]: caller,
        'deploy/bid.yaml': manifest('v1'),
        'deploy/targets.yml': targetsFile(set),
        'deploy/only-v2.yml':
          'checks:\n  - name: still v2\n    path: /\n    expect: { status: 200, json: { "$.tag": "v2" } }\n',
        'deploy/targets-c-fails.yml': targetsFile(set, 'deploy/only-v2.yml'),
      });
      // v1 everywhere, in one step (the CLI shares the state on the clusters with the workflow).
      const v1 = spawnSync(
        process.execPath,
        [
          join(repoRoot, 'bin', 'adci.js'),
          'deploy',
          '--targets',
          'deploy/targets.yml',
          '--manifests',
          'deploy/bid.yaml',
          '--post-promotion-window',
          '1s',
          '--scale-down-delay',
          '1s',
        ],
        { cwd: repo.dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: repo.dir, KUBE_DW_A: kubeconfigA } },
      );
      assert.equal(v1.status, 0, `${v1.stdout}\n${v1.stderr}`);
    });

    after(async () => {
      repo?.remove();
      if (!set) return;
      await Promise.all(set.list.map((c) => kubectl(['delete', 'namespace', NS, '--wait=false'], c.options)));
      await set.stop();
    });

    const push = (message: string, files: Record<string, string>, targets: string): Promise<ActResult> => {
      const before = repo.head();
      const head = repo.commit(message, files);
      return runAct({
        cwd: repo.dir,
        workflow: CALLER,
        event: 'push',
        payload: repo.payload('push-main', { head, before, message }),
        secrets: { KUBECONFIGS: JSON.stringify({ KUBE_DW_A: kubeconfigA }) },
        vars: { TARGETS: targets },
        timeoutMs: 900_000,
      });
    };

    test('v1 -> v2: plan, wave 1 (a), bake 1, wave 2 (b) and (c), bake 2, finish; old colours down only after the last bake', async () => {
      const result = await push('v2', { 'deploy/bid.yaml': manifest('v2') }, 'deploy/targets.yml');
      assert.equal(result.code, 0, log(result));
      const outcome = jobs(result);
      for (const job of ['plan', 'wave 1 (a)', 'bake 1', 'wave 2 (b)', 'wave 2 (c)', 'bake 2', 'finish'])
        assert.equal(outcome[job], 'success', `${job}: ${JSON.stringify(outcome)}\n${log(result)}`);
      assert.ok(!Object.keys(outcome).some((j) => /rollback|wave [34]/.test(j)), JSON.stringify(outcome));
      // The old colours go down in the finish, after the last bake; no wave job scales one down.
      const bake2Done = lineOf(result, /bake 2\s*\]/, /🏁 {2}Job succeeded/u);
      const firstScaleDown = lineOf(result, /./, /✔ [abc] scale-down/);
      assert.ok(bake2Done >= 0 && firstScaleDown > bake2Done, 'the first scale-down comes after bake 2');
      assert.equal(lineOf(result, /wave [12] \([abc]\)/, /scale-down/), -1, 'a wave job scaled a colour down');
      for (const c of set.list) {
        assert.equal(await liveTag(c), 'v2', c.name);
        assert.equal(await coloursUp(c), 1, `${c.name}: the old colour is down`);
        await consistent(c, c.name);
      }
      const key = /client-key-data:\s*(\S+)/.exec(kubeconfigA)?.[1] ?? 'no-key';
      assert.ok(!result.output.includes(key), 'the kubeconfig from the secret reached the log');
    });

    test('v3 fails its post-promotion checks in c: the global rollback job runs, every target ends on v2', async () => {
      const result = await push('v3', { 'deploy/bid.yaml': manifest('v3') }, 'deploy/targets-c-fails.yml');
      assert.notEqual(result.code, 0, log(result));
      const outcome = jobs(result);
      assert.equal(outcome['wave 1 (a)'], 'success', JSON.stringify(outcome));
      assert.equal(outcome['bake 1'], 'success', JSON.stringify(outcome));
      assert.equal(outcome['wave 2 (c)'], 'failure', JSON.stringify(outcome));
      assert.equal(outcome['global rollback'], 'success', `${JSON.stringify(outcome)}\n${log(result)}`);
      assert.ok(!('finish' in outcome), 'finish ran after a failure');
      assert.match(result.output, /post-promotion checks failed/);
      assert.match(result.output, /global rollback: rolled back .*a/);
      for (const c of set.list) {
        assert.equal(await liveTag(c), 'v2', `${c.name} is back on v2`);
        assert.equal(await coloursUp(c), 1, `${c.name}: one colour up`);
        await consistent(c, c.name);
      }
    });
  },
);

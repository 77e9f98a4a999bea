// A release to three local clusters in waves, end to end through `adci deploy --targets` (the built
// CLI) and the action bundle: waves [a], [b, c] under open-model load in every cluster, a failure in
// the last wave rolled back everywhere, a missing permission refused before any change, and a cancel
// in the second wave followed by a re-run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runActionBundle } from '../runner/index.ts';
import {
  clusterTestSkip,
  ensureClusters,
  kubectl,
  kubectlJson,
  kubectlOk,
  nodePortOf,
  type ClusterHandle,
  type ClusterSet,
} from '../cluster/testing.ts';
import * as waves from '../cluster/waves.ts';
import { failedRequests, trafficDuring } from '../cluster/traffic.ts';

const skip = clusterTestSkip();
const work = mkdtempSync(join(tmpdir(), 'adci-waves-'));
const repo = join(import.meta.dirname, '..', '..');
const NAMES = ['wave-a', 'wave-b', 'wave-c'];
/** The same namespace name in the three clusters, new for each run of this file. */
const NS = `waves-${Math.random().toString(36).slice(2, 8)}`;

function manifest(tag: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: bid }
spec:
  replicas: 2
  selector: { matchLabels: { app: bid } }
  template:
    metadata: { labels: { app: bid } }
    spec:
      terminationGracePeriodSeconds: 10
      containers:
        - name: bid
          image: adci/echo:${tag}
          env: [{ name: SHUTDOWN_DELAY_MS, value: "3000" }]
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

let n = 0;
function write(text: string, name = `f${++n}.yaml`): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

/** A check that passes only while the answer's tag is `tag` (a release that must not stay in c). */
const onlyTag = (tag: string): string =>
  write(`checks:\n  - name: still ${tag}\n    path: /\n    expect: { status: 200, json: { "$.tag": "${tag}" } }\n`);

interface TargetOptions {
  /** Target a's kubeconfig comes from this environment variable (the others from files). */
  env?: boolean;
  /** Target b uses a kubeconfig whose user may not deploy here. */
  restrictedB?: boolean;
  postChecksC?: string;
}

function targetsFile(set: ClusterSet, options: TargetOptions = {}): string {
  const [a, b, c] = set.list as [ClusterHandle, ClusterHandle, ClusterHandle];
  return write(`targets:
  - name: a
    ${options.env ? 'kubeconfig-env: KUBE_WAVE_A' : `kubeconfig-file: ${a.kubeconfig}`}
    namespace: ${NS}
  - name: b
    kubeconfig-file: ${options.restrictedB ? b.restrictedKubeconfig : b.kubeconfig}
    namespace: ${NS}
  - name: c
    kubeconfig-file: ${c.kubeconfig}
    namespace: ${NS}
${options.postChecksC ? `    post-promotion-checks: ${options.postChecksC}\n` : ''}waves:
  - [a]
  - [b, c]
bake-time: 3s
max-parallel: 2
`);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `adci deploy --targets …` (the built CLI); `cancelOn` sends SIGINT at the first stderr line matching it. */
function adci(args: string[], options: { env?: Record<string, string>; cancelOn?: RegExp } = {}): Promise<Run> {
  const child = spawn(process.execPath, [join(repo, 'bin', 'adci.js'), 'deploy', ...args], {
    env: { PATH: process.env.PATH, HOME: work, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let cancelled = false;
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (options.cancelOn && !cancelled && options.cancelOn.test(stderr)) {
      cancelled = true;
      child.kill('SIGINT');
    }
  });
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

const release = (set: ClusterSet, tag: string, options: TargetOptions = {}, cancelOn?: RegExp): Promise<Run> =>
  adci(
    [
      '--targets',
      targetsFile(set, options),
      '--manifests',
      write(manifest(tag)),
      '--post-promotion-window',
      '1s',
      '--scale-down-delay',
      '1s',
      '--json',
    ],
    { env: { KUBE_WAVE_A: readFileSync(set.list[0]?.kubeconfig ?? '', 'utf8') }, cancelOn },
  );

interface WavesJson {
  result: string;
  error?: string;
  failedTarget?: string;
  targets: {
    name: string;
    wave: number;
    state: string;
    stage?: { result: string };
    release?: { recovered?: string; phases: { name: string; startedAt: number; endedAt?: number }[] };
    finish?: { phases: { name: string; startedAt: number; endedAt?: number }[] };
  }[];
}

const liveTag = (c: ClusterHandle): Promise<string> => waves.liveTag(c, NS);
const coloursUp = (c: ClusterHandle): Promise<number> => waves.coloursUp(c, NS);
const consistent = (c: ClusterHandle, why: string): Promise<void> => waves.assertConsistent(c, NS, why);

describe('blue-green-deploy in waves across three clusters', { skip, concurrency: false, timeout: 1_200_000 }, () => {
  let set: ClusterSet;
  before(async () => {
    set = await ensureClusters(NAMES);
    await Promise.all(set.list.map((c) => kubectlOk(['create', 'namespace', NS], c.options)));
  });
  after(async () => {
    if (!set) return;
    await Promise.all(set.list.map((c) => kubectl(['delete', 'namespace', NS, '--wait=false'], c.options)));
    await set.stop();
  });

  test('waves [a], [b, c]: v1 -> v2 under load in every cluster, zero failed; old colours down only after the last bake', async () => {
    const v1 = await release(set, 'v1', { env: true });
    assert.equal(v1.code, 0, v1.stderr.slice(-3000));
    const ports = await Promise.all(set.list.map((c) => nodePortOf(NS, 'bid', undefined, c.options)));
    const loads = set.list.map((c, i) => trafficDuring(ports[i] ?? 0, 100, 40_000, c.nodeAddress));
    const v2 = await release(set, 'v2', { env: true });
    assert.equal(v2.code, 0, v2.stderr.slice(-3000));
    const result = JSON.parse(v2.stdout) as WavesJson;
    assert.equal(result.result, 'promoted');
    for (const [i, load] of loads.entries()) {
      const stats = await load;
      assert.ok(stats.sent > 1000, `${NAMES[i]}: load sent ${stats.sent}`);
      assert.equal(
        failedRequests(stats),
        0,
        `${NAMES[i]}: ${JSON.stringify(stats.statusCounts)} ${stats.errors} errors`,
      );
    }
    for (const c of set.list) {
      assert.equal(await liveTag(c), 'v2', c.name);
      assert.equal(await coloursUp(c), 1, `${c.name}: the old colour is down`);
      await consistent(c, c.name);
    }
    for (const t of result.targets.slice(1))
      assert.equal(t.stage?.result, 'preview-ready', `${t.name}: brought up ahead of wave 2 (stage-ahead)`);
    const holds = result.targets.map((t) => t.release?.phases.find((p) => p.name === 'hold')?.endedAt ?? Infinity);
    const scaleDowns = result.targets.map((t) => t.finish?.phases.find((p) => p.name === 'scale-down')?.startedAt ?? 0);
    assert.ok(Math.min(...scaleDowns) >= Math.max(...holds), 'no old colour goes down before the last wave has baked');
  });

  test('v3 fails its post-promotion checks in c only: a, b and c end on v2, and the result says where and why', async () => {
    const v3 = await release(set, 'v3', { postChecksC: onlyTag('v2') });
    assert.equal(v3.code, 1);
    const result = JSON.parse(v3.stdout) as WavesJson;
    assert.equal(result.result, 'rolled-back');
    assert.equal(result.failedTarget, 'c');
    assert.match(result.error ?? '', /target c \(wave 2\) failed: .*post-promotion checks failed/);
    for (const c of set.list) {
      assert.equal(await liveTag(c), 'v2', `${c.name} is back on v2`);
      assert.equal(await coloursUp(c), 1, `${c.name}: one colour up`);
      await consistent(c, c.name);
    }
  });

  test('a target whose user lacks a permission: nothing changes in any cluster; the message names both', async () => {
    const before = await Promise.all(
      set.list.map((c) => kubectlJson<waves.Obj>(['-n', NS, 'get', 'service', 'bid'], c.options)),
    );
    const refused = await release(set, 'v4', { restrictedB: true });
    assert.equal(refused.code, 1);
    const result = JSON.parse(refused.stdout) as WavesJson;
    assert.equal(result.failedTarget, 'b');
    assert.match(
      result.error ?? '',
      new RegExp(`target b: the Kubernetes user may not .* in namespace ${NS}; nothing was changed`),
    );
    assert.match(result.error ?? '', /nothing was changed in any cluster/);
    const afterwards = await Promise.all(
      set.list.map((c) => kubectlJson<waves.Obj>(['-n', NS, 'get', 'service', 'bid'], c.options)),
    );
    assert.deepEqual(afterwards, before);
  });

  test('SIGINT during the second wave: every cluster consistent; a re-run says what it found and finishes', async () => {
    const cancelled = await release(set, 'v5', {}, /wave 2: b, c/);
    assert.notEqual(cancelled.code, 0);
    for (const c of set.list) await consistent(c, `${c.name} after the cancel`);
    assert.equal(await liveTag(set.list[0] as ClusterHandle), 'v5', 'a (wave 1) is on v5');
    const rerun = await release(set, 'v5');
    assert.equal(rerun.code, 0, rerun.stderr.slice(-3000));
    const result = JSON.parse(rerun.stdout) as WavesJson;
    assert.match(result.targets[0]?.release?.recovered ?? '', /already live and baked/);
    for (const c of set.list) {
      assert.equal(await liveTag(c), 'v5', c.name);
      assert.equal(await coloursUp(c), 1, `${c.name}: the old colour is down`);
      await consistent(c, c.name);
    }
  });

  test('the action bundle: a targets file with a kubeconfig from a secret variable; the summary tables every target', async () => {
    const result = await runActionBundle('blue-green-deploy', {
      with: {
        targets: targetsFile(set, { env: true }),
        manifests: write(manifest('v6')),
        'post-promotion-window': '1s',
        'scale-down-delay': '1s',
      },
      env: { KUBE_WAVE_A: readFileSync(set.list[0]?.kubeconfig ?? '', 'utf8') },
      timeoutMs: 300_000,
    });
    assert.equal(result.exitCode, 0, result.annotations.map((a) => a.message).join('\n'));
    assert.equal(result.outputs.result, 'promoted');
    assert.match(result.summary, /\| Target \| Wave \| Outcome \|/);
    assert.match(result.summary, /\| c \| 2 \| finished \|/);
    assert.match(result.summary, /section wave|section a/);
    const kubeconfig = readFileSync(set.list[0]?.kubeconfig ?? '', 'utf8');
    const key = /client-key-data:\s*(\S+)/.exec(kubeconfig)?.[1] ?? 'no-key';
    assert.ok(!result.log.includes(key) && !result.summary.includes(key), 'the kubeconfig never reaches the log');
  });
});

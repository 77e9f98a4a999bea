// Unit tests of a release in waves, on three in-memory clusters (MemoryKube) in virtual time:
// promotion wave by wave with the old colours held until the last bake, a failure in the last wave
// rolled back everywhere, a missing permission refused before any change, a cancel and a re-run.
// And the targets file: every mistake named with file and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, silentLogger } from '@adci/common';
import type { SmokeResult } from '@adci/probe';
import { findApp, parseManifestText } from './manifests.ts';
import { MemoryKube, VirtualClock } from './memory.ts';
import type { BlueGreenSettings, CheckRunner } from './model.ts';
import type { ServiceObject } from './traffic.ts';
import type { DeploymentObject } from './readiness.ts';
import { parseTargetsFile } from './targets.ts';
import { runWaves, wavesSelection, type WavesResult } from './waves.ts';

const NS = 'ads';

const TARGETS = `
targets:
  - name: a
    kubeconfig-env: KUBE_A
    analysis-vars: { region: a }
  - name: b
    kubeconfig-env: KUBE_B
  - name: c
    kubeconfig-file: c.kubeconfig
waves:
  - [a]
  - [b, c]
bake-time: 5s
max-parallel: 2
`;

function app(image: string) {
  return findApp(
    parseManifestText(
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: bid }
spec:
  replicas: 2
  selector: { matchLabels: { app: bid } }
  template:
    metadata: { labels: { app: bid } }
    spec: { containers: [{ name: bid, image: ${image} }] }
---
apiVersion: v1
kind: Service
metadata: { name: bid }
spec: { selector: { app: bid }, ports: [{ port: 80 }] }
`,
      'app.yaml',
    ),
  );
}

function settings(image: string): BlueGreenSettings {
  return {
    action: 'deploy',
    app: app(image),
    namespace: NS,
    autoPromote: true,
    postPromotionWindowMs: 1000,
    scaleDownDelayMs: 1000,
    abortScaleDownDelayMs: 0,
    historyLimit: 10,
    timeoutMs: 600_000,
    lockTimeoutMs: 60_000,
    dryRun: false,
    run: { commit: 'c0ffee' },
    postChecks: { checks: [] },
  };
}

const smoke = (passed: boolean): SmokeResult => ({
  passed,
  baseUrl: 'http://x',
  startedAt: new Date(0).toISOString(),
  durationMs: 1,
  checks: [],
  counts: { passed: passed ? 1 : 0, failed: passed ? 0 : 1, skipped: 0 },
});

interface Fleet {
  clock: VirtualClock;
  kubes: Record<string, MemoryKube>;
  /** Targets whose post-promotion checks fail. */
  failing: Set<string>;
  phases: { target: string; phase: string; at: number }[];
}

function fleet(): Fleet {
  const clock = new VirtualClock({ start: 5_000_000 });
  const kubes = Object.fromEntries(['a', 'b', 'c'].map((n) => [n, new MemoryKube({ clock, podReadyMs: 300 })]));
  return { clock, kubes, failing: new Set(), phases: [] };
}

async function release(
  f: Fleet,
  image: string,
  signal?: AbortSignal,
  targets = TARGETS,
  onPhase?: (target: string, phase: string) => void,
): Promise<WavesResult> {
  const file = parseTargetsFile(targets, 'targets.yaml');
  return runWaves(file, {
    settingsFor: (target) => ({ ...settings(image), analysisVars: target.analysisVars }),
    connect: (target, s) => {
      const kube = f.kubes[target.name] as MemoryKube;
      const runChecks: CheckRunner = (phase) =>
        Promise.resolve(smoke(!(phase === 'post' && f.failing.has(target.name))));
      return { kube, settings: s, runChecks };
    },
    logger: silentLogger,
    clock: f.clock,
    signal,
    onPhase: (target, phase) => {
      if (phase.endedAt !== undefined) return;
      f.phases.push({ target, phase: phase.name, at: f.clock.now() });
      onPhase?.(target, phase.name);
    },
  });
}

async function liveImage(kube: MemoryKube): Promise<string | undefined> {
  const svc = await kube.get<ServiceObject>('Service', NS, 'bid');
  const color = svc?.spec?.selector?.['adci.dev/color'];
  const deployment = await kube.get<DeploymentObject>('Deployment', NS, `bid-${color}`);
  return deployment?.metadata.annotations?.['adci.dev/image'];
}

async function upColours(kube: MemoryKube): Promise<number> {
  const list = await kube.list<DeploymentObject>('Deployment', NS);
  return list.items.filter((d) => (d.spec?.replicas ?? 0) > 0).length;
}

test('waves [a], [b, c]: wave by wave; every old colour is scaled down only after the last bake', async () => {
  const f = fleet();
  const v1 = await release(f, 'bid:1');
  assert.equal(v1.result, 'promoted', v1.error);
  f.phases.length = 0;
  const v2 = await release(f, 'bid:2');
  assert.equal(v2.result, 'promoted', v2.error);
  for (const [name, kube] of Object.entries(f.kubes)) {
    assert.equal(await liveImage(kube), 'bid:2', name);
    assert.equal(await upColours(kube), 1, `${name}: the old colour is down`);
  }
  const firstOfWave2 = (phase: string): number =>
    Math.min(...f.phases.filter((p) => p.phase === phase && p.target !== 'a').map((p) => p.at));
  const holdOfA = f.phases.find((p) => p.target === 'a' && p.phase === 'hold')?.at ?? Infinity;
  assert.ok(holdOfA <= firstOfWave2('switch'), 'wave 2 switches after wave 1 has baked');
  assert.ok(firstOfWave2('apply') < holdOfA, 'wave 2 was brought up ahead (stage-ahead), no traffic moved');
  for (const t of v2.targets.slice(1)) {
    assert.equal(t.stage?.result, 'preview-ready', `${t.name} staged`);
    assert.equal(t.release?.action, 'promote', `${t.name}: its turn is the switch`);
  }
  const lastHold = Math.max(...f.phases.filter((p) => p.phase === 'hold').map((p) => p.at));
  const firstScaleDown = Math.min(...f.phases.filter((p) => p.phase === 'scale-down').map((p) => p.at));
  assert.ok(firstScaleDown >= lastHold, 'no old colour goes down before the last wave has baked');
  assert.deepEqual(
    v2.targets.map((t) => [t.name, t.wave, t.state]),
    [
      ['a', 1, 'finished'],
      ['b', 2, 'finished'],
      ['c', 2, 'finished'],
    ],
  );
});

test('stage-ahead: false: a wave is brought up only when its turn comes', async () => {
  const f = fleet();
  const targets = `${TARGETS}stage-ahead: false\n`;
  assert.equal((await release(f, 'bid:1', undefined, targets)).result, 'promoted');
  f.phases.length = 0;
  const v2 = await release(f, 'bid:2', undefined, targets);
  assert.equal(v2.result, 'promoted', v2.error);
  const holdOfA = f.phases.find((p) => p.target === 'a' && p.phase === 'hold')?.at ?? Infinity;
  const firstApply = Math.min(...f.phases.filter((p) => p.phase === 'apply' && p.target !== 'a').map((p) => p.at));
  assert.ok(holdOfA <= firstApply, 'wave 2 starts after wave 1 has baked');
  assert.ok(v2.targets.every((t) => t.stage === undefined && t.release?.action === 'deploy'));
});

test('a target of a later wave cannot come up: the release stops before that wave switches; the previews brought up ahead are removed', async () => {
  const f = fleet();
  assert.equal((await release(f, 'bid:1')).result, 'promoted');
  assert.equal((await release(f, 'bid:2')).result, 'promoted');
  f.kubes.c?.script('bid:3', { pullError: { message: 'manifest unknown' } });
  f.phases.length = 0;
  const v3 = await release(f, 'bid:3');
  assert.equal(v3.result, 'rolled-back');
  assert.equal(v3.failedTarget, 'c');
  assert.match(
    v3.error ?? '',
    /target c \(wave 2\) failed: bringing the release up ahead of its wave: .*manifest unknown/,
  );
  assert.ok(!f.phases.some((p) => p.phase === 'switch' && p.target !== 'a'), 'no wave-2 target switched');
  const b = v3.targets.find((t) => t.name === 'b');
  assert.equal(b?.state, 'skipped');
  assert.match(b?.found ?? '', /its preview, brought up ahead of its wave, was removed/);
  for (const [name, kube] of Object.entries(f.kubes)) {
    assert.equal(await liveImage(kube), 'bid:2', `${name} is on v2`);
    assert.equal(await upColours(kube), 1, `${name}: one colour up`);
    const svc = await kube.get<ServiceObject>('Service', NS, 'bid');
    assert.equal(svc?.metadata.annotations?.['adci.dev/preview-color'], undefined, `${name}: no preview left`);
  }
});

test('wave 1 fails: the previews brought up ahead in wave 2 are removed, nothing switched there', async () => {
  const f = fleet();
  assert.equal((await release(f, 'bid:1')).result, 'promoted');
  f.failing.add('a');
  const v2 = await release(f, 'bid:2');
  assert.equal(v2.result, 'rolled-back');
  assert.equal(v2.failedTarget, 'a');
  assert.match(v2.error ?? '', /no other target had been reached/);
  for (const [name, kube] of Object.entries(f.kubes)) {
    assert.equal(await liveImage(kube), 'bid:1', `${name} is on v1`);
    assert.equal(await upColours(kube), 1, `${name}: one colour up`);
  }
  for (const t of v2.targets.slice(1)) assert.match(t.found ?? '', /was removed/, t.name);
});

test('v3 fails its post-promotion checks in c only: a, b and c end on v2; the result says where and why', async () => {
  const f = fleet();
  assert.equal((await release(f, 'bid:1')).result, 'promoted');
  assert.equal((await release(f, 'bid:2')).result, 'promoted');
  f.failing.add('c');
  const v3 = await release(f, 'bid:3');
  assert.equal(v3.result, 'rolled-back');
  assert.equal(v3.failedTarget, 'c');
  assert.match(v3.error ?? '', /target c \(wave 2\) failed: .*post-promotion checks failed/);
  assert.match(v3.error ?? '', /rolled back (b, a|a, b)/);
  for (const [name, kube] of Object.entries(f.kubes)) {
    assert.equal(await liveImage(kube), 'bid:2', `${name} is back on v2`);
    assert.equal(await upColours(kube), 1, `${name}: one colour up`);
  }
  const order = f.phases
    .filter((p) => p.phase === 'rollback' || p.phase === 'switch')
    .map((p) => `${p.target}:${p.phase}`);
  assert.ok(order.lastIndexOf('a:switch') > order.lastIndexOf('b:switch'), `newest wave first: ${order.join(' ')}`);
});

test('a target lacking a permission: nothing changes in any cluster; the message names the target and the permission', async () => {
  const f = fleet();
  assert.equal((await release(f, 'bid:1')).result, 'promoted');
  for (const kube of Object.values(f.kubes)) kube.calls.length = 0;
  f.kubes.b?.deny('create', 'apps', 'controllerrevisions');
  const refused = await release(f, 'bid:2');
  assert.equal(refused.result, 'failed');
  assert.equal(refused.failedTarget, 'b');
  assert.match(refused.error ?? '', /target b: the Kubernetes user may not create controllerrevisions\.apps/);
  assert.match(refused.error ?? '', /nothing was changed in any cluster/);
  for (const [name, kube] of Object.entries(f.kubes)) assert.deepEqual(kube.writes(), [], `${name}: no write`);
});

test('a cancel during the second wave leaves every cluster consistent; a re-run says what it found and finishes', async () => {
  const f = fleet();
  assert.equal((await release(f, 'bid:1')).result, 'promoted');
  const controller = new AbortController();
  // SIGINT as c's turn in the second wave begins (its colour was brought up ahead).
  let plans = 0;
  const cancelled = await release(f, 'bid:2', controller.signal, TARGETS, (target, phase) => {
    if (target === 'c' && phase === 'plan' && ++plans === 2) controller.abort(new Error('SIGINT'));
  });
  assert.ok(cancelled.failed);
  for (const [name, kube] of Object.entries(f.kubes)) {
    const svc = await kube.get<ServiceObject>('Service', NS, 'bid');
    const color = svc?.spec?.selector?.['adci.dev/color'];
    assert.equal(svc?.metadata.annotations?.['adci.dev/active-color'], color, `${name}: state and selector agree`);
    assert.equal(await kube.get('Lease', NS, 'adci-lock-bid'), undefined, `${name}: lock released`);
  }
  assert.equal(await liveImage(f.kubes.a as MemoryKube), 'bid:2', 'a (wave 1) is on v2, its old colour held');
  assert.equal(await upColours(f.kubes.a as MemoryKube), 2);
  const rerun = await release(f, 'bid:2');
  assert.equal(rerun.result, 'promoted', rerun.error);
  assert.match(rerun.targets[0]?.release?.recovered ?? '', /already live and baked/);
  for (const [name, kube] of Object.entries(f.kubes)) {
    assert.equal(await liveImage(kube), 'bid:2', name);
    assert.equal(await upColours(kube), 1, `${name}: the old colour is down`);
  }
});

test('the targets file: unknown targets, a target in two waves, kubeconfig sources, bad keys: file and line', () => {
  const bad = (text: string, message: RegExp): void =>
    assert.throws(
      () => parseTargetsFile(text, 't.yaml'),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      message.source,
    );
  bad(TARGETS.replace('- [b, c]', '- [b, c, d]'), /t\.yaml:\d+: wave 2 names 'd', which is not a target/);
  bad(TARGETS.replace('- [b, c]', '- [b, c, a]'), /target 'a' is in wave 1 and wave 2/);
  bad(TARGETS.replace('- [b, c]', '- [b]'), /t\.yaml:8: target 'c' is in no wave/);
  bad(
    TARGETS.replace('kubeconfig-env: KUBE_B', 'kubeconfig-env: KUBE_B\n    kubeconfig-file: b.yaml'),
    /exactly one of kubeconfig-env/,
  );
  bad(
    TARGETS.replace('kubeconfig-env: KUBE_A', 'kubeconfig-env: "apiVersion: v1"'),
    /is not an environment variable name/,
  );
  bad(TARGETS.replace('bake-time: 5s', 'bake-tme: 5s'), /t\.yaml:13: unknown key 'bake-tme'/);
  bad(TARGETS.replace('max-parallel: 2', 'max-parallel: 0'), /max-parallel must be a whole number/);
  bad(TARGETS.replace('  - name: b', '  - name: a'), /target 'a' is named twice/);
  const ok = parseTargetsFile(TARGETS, 't.yaml');
  assert.deepEqual(ok.waves, [['a'], ['b', 'c']]);
  assert.equal(ok.bakeTimeMs, 5000);
  assert.equal(ok.onFailure, 'rollback-all');
  assert.deepEqual(ok.targets[0]?.analysisVars, { region: 'a' });
});

// ── the parts a workflow runs (deploy-waves.yml): release per target, status, finish, rollback ──

async function part(f: Fleet, image: string, action: string, target?: string): Promise<WavesResult> {
  const file = parseTargetsFile(TARGETS, 'targets.yaml');
  return runWaves(
    file,
    {
      settingsFor: (t) => ({ ...settings(image), analysisVars: t.analysisVars }),
      connect: (t, s) => {
        const kube = f.kubes[t.name] as MemoryKube;
        const runChecks: CheckRunner = (phase) => Promise.resolve(smoke(!(phase === 'post' && f.failing.has(t.name))));
        return { kube, settings: s, runChecks };
      },
      logger: silentLogger,
      clock: f.clock,
      onPhase: (t, phase) => {
        if (phase.endedAt === undefined) f.phases.push({ target: t, phase: phase.name, at: f.clock.now() });
      },
    },
    wavesSelection(action, target, file),
  );
}

test('the workflow parts: one target per job, a status gate per wave, then finish drains everywhere', async () => {
  const f = fleet();
  assert.equal((await release(f, 'bid:1')).result, 'promoted');
  const a = await part(f, 'bid:2', 'deploy', 'a');
  assert.equal(a.result, 'held', a.error);
  assert.deepEqual(
    a.targets.map((t) => [t.name, t.state]),
    [['a', 'promoted']],
  );
  assert.equal(await liveImage(f.kubes.a as MemoryKube), 'bid:2');
  assert.equal(await upColours(f.kubes.a as MemoryKube), 2, 'a holds its previous colour');
  assert.equal(await liveImage(f.kubes.b as MemoryKube), 'bid:1', 'b is not touched by a job for a');
  const gate1 = await part(f, 'bid:2', 'status', 'a');
  assert.equal(gate1.failed, false, gate1.error);
  assert.match(gate1.targets[0]?.found ?? '', /revision 2 \(bid:2\) is live on bid-\w+, baked, with bid-\w+ held up/);
  const early = await part(f, 'bid:2', 'status', 'a,b');
  assert.ok(early.failed, 'b does not hold v2 yet');
  assert.match(early.error ?? '', /target b: \w+ serves revision 1 \(bid:1\), not this release/);
  for (const t of ['b', 'c']) assert.equal((await part(f, 'bid:2', 'deploy', t)).result, 'held');
  assert.equal((await part(f, 'bid:2', 'status', 'b c')).failed, false);
  f.phases.length = 0;
  const finish = await part(f, 'bid:2', 'finish');
  assert.equal(finish.result, 'promoted', finish.error);
  assert.ok(!finish.failed);
  for (const [name, kube] of Object.entries(f.kubes)) {
    assert.equal(await liveImage(kube), 'bid:2', name);
    assert.equal(await upColours(kube), 1, `${name}: the old colour is down after the finish`);
  }
  assert.ok(!f.phases.some((p) => p.phase === 'switch' || p.phase === 'apply'), 'finish never brings a release up');
  const again = await part(f, 'bid:2', 'finish');
  assert.equal(again.failed, false, 'a second finish is a no-op');
  assert.ok(again.targets.every((t) => /finished \(the old colour is down\)/.test(t.found ?? '')));
});

test('finish is guarded: a target that does not hold this release stops it before any change, naming it', async () => {
  const f = fleet();
  assert.equal((await release(f, 'bid:1')).result, 'promoted');
  assert.equal((await part(f, 'bid:2', 'deploy', 'a')).result, 'held');
  for (const kube of Object.values(f.kubes)) kube.calls.length = 0;
  const finish = await part(f, 'bid:2', 'finish');
  assert.ok(finish.failed);
  assert.match(finish.error ?? '', /target b: \w+ serves revision 1 \(bid:1\), not this release/);
  assert.match(finish.error ?? '', /target c: .*not this release/);
  assert.match(finish.error ?? '', /nothing was changed in any cluster/);
  for (const [name, kube] of Object.entries(f.kubes)) assert.deepEqual(kube.writes(), [], `${name}: no write`);
  assert.equal(await upColours(f.kubes.a as MemoryKube), 2, 'a still holds its previous colour');
});

test('a target of the second wave fails: the global rollback takes back every target holding it, newest wave first; a re-run finds nothing to do', async () => {
  const f = fleet();
  assert.equal((await release(f, 'bid:1')).result, 'promoted');
  assert.equal((await release(f, 'bid:2')).result, 'promoted');
  assert.equal((await part(f, 'bid:3', 'deploy', 'a')).result, 'held');
  assert.equal((await part(f, 'bid:3', 'deploy', 'b')).result, 'held');
  f.failing.add('c');
  const c = await part(f, 'bid:3', 'deploy', 'c');
  assert.ok(c.failed);
  assert.equal(c.failedTarget, 'c');
  assert.match(c.error ?? '', /target c failed: .*post-promotion checks failed.*action rollback takes it back/);
  assert.equal(await liveImage(f.kubes.c as MemoryKube), 'bid:2', 'c reverted itself');
  f.phases.length = 0;
  const back = await part(f, 'bid:3', 'rollback');
  assert.equal(back.failed, false, back.error);
  assert.equal(back.result, 'rolled-back');
  assert.deepEqual(
    back.targets.map((t) => [t.name, t.state]),
    [
      ['a', 'rolled-back'],
      ['b', 'rolled-back'],
      ['c', 'skipped'],
    ],
  );
  assert.match(back.targets[2]?.found ?? '', /serves revision \d+ \(bid:2\), not this release/);
  assert.match(back.error ?? '', /rolled back b, a \(newest wave first\)/);
  const order = f.phases.filter((p) => p.phase === 'switch').map((p) => p.target);
  assert.deepEqual(order, ['b', 'a'], 'newest wave first');
  for (const [name, kube] of Object.entries(f.kubes)) {
    assert.equal(await liveImage(kube), 'bid:2', `${name} is back on v2`);
    assert.equal(await upColours(kube), 1, `${name}: one colour up`);
  }
  for (const kube of Object.values(f.kubes)) kube.calls.length = 0;
  const again = await part(f, 'bid:3', 'rollback');
  assert.equal(again.failed, false);
  assert.match(again.error ?? '', /no target holds this release; nothing to roll back/);
  assert.ok(again.targets.every((t) => t.state === 'skipped' && /not this release/.test(t.found ?? '')));
  for (const [name, kube] of Object.entries(f.kubes)) assert.deepEqual(kube.writes(), [], `${name}: no write`);
});

test('action and target with a targets file: checked before any contact, naming the input', () => {
  const file = parseTargetsFile(TARGETS, 't.yaml');
  const bad = (action: string | undefined, target: string | undefined, message: RegExp, name?: (i: string) => string) =>
    assert.throws(
      () => wavesSelection(action, target, file, name),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      message.source,
    );
  bad('promote', undefined, /Input 'action': 'promote' does not apply to a release in waves \(targets\)/);
  bad('deploy', 'a,d', /Input 'target': 'd' is not a target of t\.yaml \(targets: a, b, c\)/);
  bad('finish', 'a', /Input 'target': applies to action deploy or status only: finish acts on every target/);
  bad('rollback', 'b', /Input '--target': applies to action deploy or status only/, (i) => `--${i}`);
  assert.deepEqual(wavesSelection(undefined, undefined, file), { mode: 'waves' });
  assert.deepEqual(wavesSelection('deploy', ' b, c ', file), { mode: 'release', targets: ['b', 'c'] });
  assert.deepEqual(wavesSelection('Rollback', '', file), { mode: 'rollback' });
  assert.deepEqual(wavesSelection('status', undefined, file), { mode: 'status', targets: undefined });
});

test('plan: every target reachable with every permission, what each holds; nothing changes', async () => {
  const f = fleet();
  assert.equal((await release(f, 'bid:1')).result, 'promoted');
  for (const kube of Object.values(f.kubes)) kube.calls.length = 0;
  const plan = await part(f, 'bid:2', 'plan');
  assert.equal(plan.result, 'planned', plan.error);
  assert.ok(plan.targets.every((t) => /serves revision 1 \(bid:1\), not this release/.test(t.found ?? '')));
  for (const [name, kube] of Object.entries(f.kubes)) assert.deepEqual(kube.writes(), [], `${name}: no write`);
  f.kubes.c?.deny('patch', 'apps', 'deployments');
  const refused = await part(f, 'bid:2', 'plan');
  assert.ok(refused.failed);
  assert.match(refused.error ?? '', /target c: the Kubernetes user may not patch deployments\.apps/);
});

test('the finish drains every target at once: max-parallel limits the releases inside a wave, not the scale-down', async () => {
  const f = fleet();
  assert.equal((await release(f, 'bid:1')).result, 'promoted');
  f.phases.length = 0;
  assert.equal((await release(f, 'bid:2')).result, 'promoted');
  const drains = f.phases.filter((p) => p.phase === 'drain');
  assert.deepEqual(drains.map((p) => p.target).sort(), ['a', 'b', 'c']);
  assert.equal(new Set(drains.map((p) => p.at)).size, 1, JSON.stringify(drains));
});

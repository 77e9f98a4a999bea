// Unit tests of the blue-green state machine through its port: every step of every action with
// success, a failure, a cancellation and an API error, on MemoryKube in virtual time (no cluster,
// no root, seconds). After each, the cluster must be consistent: traffic on one available colour,
// the Services and their state agreeing, the lock released, the live colour's configuration
// untouched, and a plain re-run ends the release.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@adci/common';
import type { ChecksDocument, SmokeResult } from '@adci/probe';
import { runBlueGreen } from './deploy.ts';
import { leaseName } from './lock.ts';
import { findApp, parseManifestText } from './manifests.ts';
import { kubeError, MemoryKube, VirtualClock } from './memory.ts';
import type { BlueGreenResult, BlueGreenSettings, CheckRunner, DeployAction } from './model.ts';
import type { KubeObject } from './port.ts';
import type { DeploymentObject } from './readiness.ts';
import { PLANS } from './steps.ts';
import type { Phase } from './state.ts';
import type { ServiceObject } from './traffic.ts';

const NS = 'shop';

function manifests(image: string, greeting: string, options: { replicas?: number; secret?: string } = {}): string {
  return `
apiVersion: v1
kind: ConfigMap
metadata: { name: web-config }
data: { GREETING: "${greeting}" }
---
apiVersion: v1
kind: Secret
metadata: { name: web-secret }
stringData: { TOKEN: "${options.secret ?? 's3cr3t-token-value'}" }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web }
spec: { minAvailable: 1, selector: { matchLabels: { app: web } } }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: unrelated }
data: { a: "1" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: ${options.replicas ?? 2}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: ${image}
          envFrom: [{ configMapRef: { name: web-config } }]
          env: [{ name: TOKEN, valueFrom: { secretKeyRef: { name: web-secret, key: TOKEN } } }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
`;
}

const CHECKS: ChecksDocument = { checks: [{ name: 'health', path: '/healthz' }] } as unknown as ChecksDocument;

function smoke(passed: boolean): SmokeResult {
  return {
    passed,
    baseUrl: 'http://x',
    startedAt: new Date(0).toISOString(),
    durationMs: 1,
    checks: [],
    counts: { passed: passed ? 1 : 0, failed: passed ? 0 : 1, skipped: 0 },
  };
}

function settings(
  action: DeployAction,
  image = 'web:2',
  greeting = 'hello',
  extra: Partial<BlueGreenSettings> = {},
): BlueGreenSettings {
  return {
    action,
    app: findApp(parseManifestText(manifests(image, greeting), 'app.yaml')),
    namespace: NS,
    autoPromote: true,
    postPromotionWindowMs: 4000,
    scaleDownDelayMs: 2000,
    abortScaleDownDelayMs: 0,
    historyLimit: 10,
    timeoutMs: 600_000,
    lockTimeoutMs: 60_000,
    dryRun: false,
    run: { commit: 'abc123', runUrl: 'https://ci.example/run/1' },
    preChecks: CHECKS,
    postChecks: CHECKS,
    ...extra,
  };
}

interface World {
  kube: MemoryKube;
  clock: VirtualClock;
  checks: { pre: boolean; post: boolean };
}

function world(): World {
  const clock = new VirtualClock({ start: 1_000_000 });
  const kube = new MemoryKube({ clock, podReadyMs: 500 });
  return { kube, clock, checks: { pre: true, post: true } };
}

async function deploy(
  w: World,
  s: BlueGreenSettings,
  hooks: { signal?: AbortSignal; onPhase?: (name: Phase, ended: boolean) => void } = {},
): Promise<BlueGreenResult> {
  const runChecks: CheckRunner = (phase) => Promise.resolve(smoke(phase === 'pre' ? w.checks.pre : w.checks.post));
  return runBlueGreen(s, {
    kube: w.kube,
    clock: w.clock,
    logger: silentLogger,
    signal: hooks.signal,
    runChecks,
    onPhase: (p) => hooks.onPhase?.(p.name, p.endedAt !== undefined),
  });
}

/** The cluster is consistent: every Service on one available colour that its state names, no lock left. */
async function assertConsistent(w: World, why: string): Promise<'blue' | 'green'> {
  const svc = await w.kube.get<ServiceObject>('Service', NS, 'web');
  assert.ok(svc, `${why}: the Service exists`);
  const color = svc.spec?.selector?.['adci.dev/color'];
  assert.ok(color === 'blue' || color === 'green', `${why}: the selector names one colour (${color})`);
  assert.equal(
    svc.metadata.annotations?.['adci.dev/active-color'],
    color,
    `${why}: the state agrees with the selector`,
  );
  const live = await w.kube.get<DeploymentObject>('Deployment', NS, `web-${color}`);
  assert.ok((live?.spec?.replicas ?? 0) >= 1, `${why}: the live colour is up`);
  assert.equal(await w.kube.get('Lease', NS, leaseName('web')), undefined, `${why}: the lock is released`);
  return color;
}

async function liveConfig(w: World, color: string): Promise<string> {
  const [cm, secret] = await Promise.all([
    w.kube.get<KubeObject>('ConfigMap', NS, `web-config-${color}`),
    w.kube.get<KubeObject>('Secret', NS, `web-secret-${color}`),
  ]);
  return JSON.stringify([cm?.data, cm?.metadata.resourceVersion, secret?.data, secret?.metadata.resourceVersion]);
}

/** A world with v1 live on blue (revision 1). */
async function withV1(): Promise<World> {
  const w = world();
  const first = await deploy(w, settings('deploy', 'web:1', 'hello'));
  assert.equal(first.result, 'promoted', first.error);
  return w;
}

test('a deploy goes through every step in the declared order; configuration is versioned with the colour', async () => {
  const w = await withV1();
  const seen: Phase[] = [];
  const result = await deploy(w, settings('deploy', 'web:2', 'hi'), {
    onPhase: (name, ended) => {
      if (!ended) seen.push(name);
    },
  });
  assert.equal(result.result, 'promoted', result.error);
  assert.deepEqual(seen, [
    'permissions',
    'lock',
    'plan',
    'validate',
    'apply',
    'wait-ready',
    'preview-check',
    'switch',
    'verify-endpoints',
    'post-check',
    'drain',
    'scale-down',
    'unlock',
  ]);
  assert.equal(await assertConsistent(w, 'after v2'), 'green');
  const green = await w.kube.get<DeploymentObject>('Deployment', NS, 'web-green');
  const spec = JSON.stringify(green?.spec);
  assert.match(spec, /web-config-green/);
  assert.match(spec, /web-secret-green/);
  const cm = await w.kube.get<KubeObject>('ConfigMap', NS, 'web-config-green');
  assert.deepEqual(cm?.data, { GREETING: 'hi' });
  const blueCm = await w.kube.get<KubeObject>('ConfigMap', NS, 'web-config-blue');
  assert.deepEqual(blueCm?.data, { GREETING: 'hello' }, 'the old colour keeps its own configuration');
  assert.equal(await w.kube.get('ConfigMap', NS, 'web-config'), undefined, 'the original is never applied in place');
  assert.ok(await w.kube.get('ConfigMap', NS, 'unrelated'), 'an object the template does not read is applied as is');
  assert.ok(await w.kube.get('PodDisruptionBudget', NS, 'web-green'));
  assert.ok(await w.kube.get('PodDisruptionBudget', NS, 'web-blue'));
  assert.equal(await w.kube.get('PodDisruptionBudget', NS, 'web'), undefined);
  assert.ok(result.plan?.some((l) => l.includes('version ConfigMap/web-config as web-config-green')));
  assert.ok(result.plan?.some((l) => l.includes('apply ConfigMap/unrelated in place')));
  assert.ok(!JSON.stringify(result).includes('s3cr3t-token-value'), 'no secret value in the result');
});

test('a config-only change is a new release; the same release again is unchanged', async () => {
  const w = await withV1();
  const same = await deploy(w, settings('deploy', 'web:1', 'hello'));
  assert.equal(same.result, 'unchanged');
  const changed = await deploy(w, settings('deploy', 'web:1', 'bonjour'));
  assert.equal(changed.result, 'promoted', changed.error);
  assert.equal(changed.activeColor, 'green');
  assert.equal(changed.revision, 2);
  const secretOnly = await deploy(w, {
    ...settings('deploy', 'web:1', 'bonjour'),
    app: findApp(parseManifestText(manifests('web:1', 'bonjour', { secret: 'another-secret-value' }), 'app.yaml')),
  });
  assert.equal(secretOnly.result, 'promoted', secretOnly.error);
  assert.equal(secretOnly.activeColor, 'blue');
});

test('preview-replicas: the checks run against the preview size, the switch waits for the full size', async () => {
  const w = await withV1();
  let podsAtCheck = -1;
  const runChecks: CheckRunner = async (phase) => {
    if (phase === 'pre')
      podsAtCheck = (await w.kube.list('Pod', NS, { labelSelector: 'adci.dev/color=green' })).items.length;
    return smoke(true);
  };
  const s = {
    ...settings('deploy', 'web:2', 'x'),
    app: findApp(parseManifestText(manifests('web:2', 'x', { replicas: 3 }), 'app.yaml')),
    previewReplicas: 1,
  };
  const seen: Phase[] = [];
  const result = await runBlueGreen(s, {
    kube: w.kube,
    clock: w.clock,
    runChecks,
    onPhase: (p) => {
      if (p.endedAt === undefined) seen.push(p.name);
    },
  });
  assert.equal(result.result, 'promoted', result.error);
  assert.equal(podsAtCheck, 1);
  assert.ok(
    seen.indexOf('scale-up') > seen.indexOf('preview-check') && seen.indexOf('scale-up') < seen.indexOf('switch'),
  );
  const green = await w.kube.get<DeploymentObject>('Deployment', NS, 'web-green');
  assert.equal(green?.status?.availableReplicas, 3);
});

test('history: the last N releases with image, commit and outcome; rollback --to-revision deploys one again', async () => {
  const w = world();
  for (let i = 1; i <= 12; i++) {
    const r = await deploy(w, { ...settings('deploy', `web:${i}`, `v${i}`), historyLimit: 10 });
    assert.equal(r.result, 'promoted', r.error);
  }
  const status = await deploy(w, settings('status'));
  assert.equal(status.history?.length, 10);
  assert.deepEqual(
    status.history?.map((h) => h.revision),
    [12, 11, 10, 9, 8, 7, 6, 5, 4, 3],
  );
  assert.ok(status.history?.every((h) => h.outcome === 'promoted' && h.commit === 'abc123'));
  assert.equal(status.history?.[2]?.image, 'web:10');
  const back = await deploy(w, { ...settings('rollback'), toRevision: 10 });
  assert.equal(back.result, 'rolled-back', back.error);
  assert.equal(back.image, 'web:10');
  const color = await assertConsistent(w, 'after rollback');
  const cm = await w.kube.get<KubeObject>('ConfigMap', NS, `web-config-${color}`);
  assert.deepEqual(cm?.data, { GREETING: 'v10' });
  const missing = await deploy(w, { ...settings('rollback'), toRevision: 1 });
  assert.ok(missing.failed);
  assert.match(missing.error ?? '', /to-revision 1 is not in the history/);
  assert.ok(!missing.phases.some((p) => p.name === 'lock'), 'refused before the lock');
});

test('a failed container: its last log lines and termination reason, with the secret masked', async () => {
  const w = await withV1();
  w.kube.script('web:bad', {
    crash: { exitCode: 3, reason: 'Error', afterMs: 200 },
    logs: ['starting', 'token is s3cr3t-token-value', 'fatal: bad config'],
  });
  const before = await liveConfig(w, 'blue');
  const result = await deploy(w, settings('deploy', 'web:bad', 'broken'));
  assert.equal(result.result, 'failed');
  assert.match(result.error ?? '', /fatal: bad config/);
  assert.match(result.error ?? '', /exit code 3/);
  assert.equal(result.diagnosis?.exitCode, 3);
  assert.ok(result.diagnosis?.logs.includes('token is ***'), JSON.stringify(result.diagnosis));
  assert.ok(!JSON.stringify(result).includes('s3cr3t-token-value'));
  assert.equal(await assertConsistent(w, 'after the failure'), 'blue');
  assert.equal(await liveConfig(w, 'blue'), before, 'the live colour reads byte-identical configuration');
  const green = await w.kube.get<DeploymentObject>('Deployment', NS, 'web-green');
  assert.equal(green?.spec?.replicas, 0);
  const status = await deploy(w, settings('status'));
  assert.equal(status.history?.[0]?.outcome, 'failed');
  // A plain rollback now goes back to revision 1's release, not to the failed one the idle colour holds.
  const back = await deploy(w, settings('rollback'));
  assert.ok(back.failed, 'blue is live and green holds a failed release: nothing earlier was promoted');
});

test('abort-scale-down-delay: a failed colour stays up that long for debugging, then goes down', async () => {
  const w = await withV1();
  w.checks.pre = false;
  const started = w.clock.now();
  const r = await deploy(w, { ...settings('deploy', 'web:2', 'x'), abortScaleDownDelayMs: 120_000 });
  assert.equal(r.result, 'failed');
  const scaledDown = w.kube.calls.find(
    (c) => c.verb === 'mergePatch' && c.name === 'web-green' && JSON.stringify(c.body).includes('"replicas":0'),
  );
  assert.ok(scaledDown, 'the failed colour is scaled down');
  assert.ok(scaledDown.at - started >= 120_000, `it stayed up for the delay (${scaledDown.at - started} ms)`);
  assert.equal(await assertConsistent(w, 'after the delay'), 'blue');
});

test('rollback returns to the previous colour with its own configuration', async () => {
  const w = await withV1();
  const v2 = await deploy(w, settings('deploy', 'web:2', 'changed'));
  assert.equal(v2.result, 'promoted', v2.error);
  const back = await deploy(w, settings('rollback'));
  assert.equal(back.result, 'rolled-back', back.error);
  assert.equal(await assertConsistent(w, 'rollback'), 'blue');
  const cm = await w.kube.get<KubeObject>('ConfigMap', NS, 'web-config-blue');
  assert.deepEqual(cm?.data, { GREETING: 'hello' });
});

test('auto-promote false stops at preview-ready; promote finishes; abort drops a preview', async () => {
  const w = await withV1();
  const preview = await deploy(w, { ...settings('deploy', 'web:2', 'p'), autoPromote: false });
  assert.equal(preview.result, 'preview-ready', preview.error);
  const promoted = await deploy(w, settings('promote', 'web:2', 'p'));
  assert.equal(promoted.result, 'promoted', promoted.error);
  const again = await deploy(w, { ...settings('deploy', 'web:3', 'q'), autoPromote: false });
  assert.equal(again.result, 'preview-ready');
  const aborted = await deploy(w, settings('abort'));
  assert.equal(aborted.result, 'aborted', aborted.error);
  assert.equal(await assertConsistent(w, 'abort'), 'green');
});

test('a held promote (waves) switches only a preview that holds this release, and keeps the old colour up', async () => {
  const w = await withV1();
  const preview = await deploy(w, { ...settings('deploy', 'web:2', 'p'), autoPromote: false });
  assert.equal(preview.result, 'preview-ready', preview.error);
  for (const kube of [w.kube]) kube.calls.length = 0;
  const other = await deploy(w, settings('promote', 'web:3', 'p', { holdPrevious: true }));
  assert.equal(other.result, 'failed');
  assert.match(
    other.error ?? '',
    /the preview web-green holds web:2 \(revision 2\), not this release; nothing was switched/,
  );
  assert.equal(await assertConsistent(w, 'refused promote'), 'blue');
  const held = await deploy(w, settings('promote', 'web:2', 'p', { holdPrevious: true }));
  assert.equal(held.result, 'promoted', held.error);
  assert.ok(held.phases.some((p) => p.name === 'hold'));
  assert.ok(!held.phases.some((p) => p.name === 'scale-down'));
  assert.equal(await assertConsistent(w, 'held promote'), 'green');
  const blue = await w.kube.get<DeploymentObject>('Deployment', NS, 'web-blue');
  assert.ok((blue?.spec?.replicas ?? 0) > 0, 'the previous colour stays up');
});

// ── the matrix: every step of every action × cancellation and API error ──────────────────────

const PRE_SWITCH = new Set<Phase>([
  'plan',
  'validate',
  'apply',
  'wait-ready',
  'preview-check',
  'scale-up',
  'preview-ready',
  'permissions',
  'lock',
]);

interface Case {
  action: DeployAction;
  step: Phase;
  prepare: (w: World) => Promise<World>;
  settings: () => BlueGreenSettings;
}

async function withPreview(): Promise<World> {
  const w = await withV1();
  const r = await deploy(w, { ...settings('deploy', 'web:2', 'p'), autoPromote: false, previewReplicas: 1 });
  assert.equal(r.result, 'preview-ready', r.error);
  return w;
}

async function withV2(): Promise<World> {
  const w = await withV1();
  const r = await deploy(w, settings('deploy', 'web:2', 'two'));
  assert.equal(r.result, 'promoted', r.error);
  return w;
}

function cases(): Case[] {
  const out: Case[] = [];
  const steps = (action: DeployAction): Phase[] => ['permissions', 'lock', ...PLANS[action].map((s) => s.name)];
  for (const step of steps('deploy').filter((s) => s !== 'preview-ready' && s !== 'hold'))
    out.push({
      action: 'deploy',
      step,
      prepare: withV1,
      settings: () => ({ ...settings('deploy', 'web:2', 'new'), previewReplicas: 1 }),
    });
  // A release in waves holds the previous colour up after the window (phase baked).
  for (const step of steps('deploy').filter((s) => s !== 'drain' && s !== 'scale-down' && s !== 'preview-ready'))
    out.push({
      action: 'deploy',
      step,
      prepare: withV1,
      settings: () => ({ ...settings('deploy', 'web:2', 'new'), holdPrevious: true, previewReplicas: 1 }),
    });
  for (const step of steps('deploy').filter((s) => s === 'preview-ready'))
    out.push({
      action: 'deploy',
      step,
      prepare: withV1,
      settings: () => ({ ...settings('deploy', 'web:2', 'new'), autoPromote: false }),
    });
  for (const step of steps('promote').filter((s) => s !== 'hold'))
    out.push({ action: 'promote', step, prepare: withPreview, settings: () => settings('promote', 'web:2', 'p') });
  // A release in waves promotes the colour it brought up ahead, and holds the previous one up.
  for (const step of steps('promote').filter((s) => s !== 'drain' && s !== 'scale-down'))
    out.push({
      action: 'promote',
      step,
      prepare: withPreview,
      settings: () => ({ ...settings('promote', 'web:2', 'p'), holdPrevious: true }),
    });
  // A plain rollback goes back to the idle colour: nothing to validate, no preview of a new release.
  for (const step of steps('rollback').filter((s) => !['validate', 'preview-check', 'scale-up'].includes(s)))
    out.push({ action: 'rollback', step, prepare: withV2, settings: () => settings('rollback') });
  for (const step of steps('rollback'))
    out.push({
      action: 'rollback',
      step,
      prepare: withV2,
      settings: () => ({ ...settings('rollback'), toRevision: 1, previewReplicas: 1 }),
    });
  for (const step of steps('abort'))
    out.push({ action: 'abort', step, prepare: withPreview, settings: () => settings('abort') });
  for (const step of steps('status'))
    out.push({ action: 'status', step, prepare: withV1, settings: () => settings('status') });
  return out;
}

const label = (c: Case): string =>
  `${c.action}${c.settings().toRevision ? ' --to-revision' : ''}${c.settings().holdPrevious ? ' (held)' : ''} at ${c.step}`;

test('every step of every action: a success passes through it', async () => {
  // One successful run per configuration passes through every step of its cases.
  const configurations = new Map<string, Case[]>();
  for (const c of cases()) {
    const key = `${c.action}|${JSON.stringify(c.settings().toRevision)}|${c.settings().holdPrevious}|${c.settings().autoPromote}`;
    configurations.set(key, [...(configurations.get(key) ?? []), c]);
  }
  for (const group of configurations.values()) {
    const first = group[0] as Case;
    const w = await first.prepare(world());
    const seen = new Set<Phase>();
    const r = await deploy(w, first.settings(), { onPhase: (name) => seen.add(name) });
    assert.ok(!r.failed, `${label(first)}: ${r.error}`);
    for (const c of group)
      if (c.action !== 'status' || !['permissions', 'lock'].includes(c.step))
        assert.ok(seen.has(c.step), `${label(c)}: the step ran (${[...seen].join(', ')})`);
    await assertConsistent(w, label(first));
  }
});

test('every step of every action: cancelled as it starts, the cluster stays consistent and a re-run ends it', async () => {
  for (const c of cases()) {
    const w = await c.prepare(world());
    const before = await w.kube.get<ServiceObject>('Service', NS, 'web');
    const beforeColor = before?.spec?.selector?.['adci.dev/color'];
    const beforeConfig = await liveConfig(w, beforeColor ?? 'blue');
    const controller = new AbortController();
    const r = await deploy(w, c.settings(), {
      signal: controller.signal,
      onPhase: (name, ended) => {
        if (name === c.step && !ended) controller.abort(new Error('cancelled'));
      },
    });
    // The last step, once started, finishes: there is nothing left to cancel.
    if (c.action !== 'status' && !['scale-down', 'preview-ready', 'hold'].includes(c.step))
      assert.ok(r.failed || r.result === 'aborted', `${label(c)}: ${r.result}`);
    const color = await assertConsistent(w, `${label(c)} cancelled`);
    if (PRE_SWITCH.has(c.step)) {
      assert.equal(color, beforeColor, `${label(c)}: traffic untouched`);
      assert.equal(await liveConfig(w, color), beforeConfig, `${label(c)}: the live configuration is untouched`);
    }
    if (c.action === 'deploy') {
      const again = await deploy(w, c.settings());
      assert.ok(
        ['promoted', 'unchanged', 'preview-ready'].includes(again.result),
        `${label(c)} re-run: ${again.result} ${again.error}`,
      );
      await assertConsistent(w, `${label(c)} re-run`);
      if (!PRE_SWITCH.has(c.step) && again.result !== 'unchanged')
        assert.ok(again.recovered, `${label(c)} re-run says what it found`);
      const status = await deploy(w, settings('status'));
      if (c.settings().holdPrevious) assert.match(status.recovered ?? '', /held/, `${label(c)}: held for the waves`);
      else assert.equal(status.recovered, undefined, `${label(c)}: nothing is left unfinished (${status.recovered})`);
    }
  }
});

test('every step of every action: an API error in it leaves the cluster consistent', async () => {
  for (const c of cases()) {
    const w = await c.prepare(world());
    const before = await w.kube.get<ServiceObject>('Service', NS, 'web');
    const beforeColor = before?.spec?.selector?.['adci.dev/color'];
    let armed = false;
    let disarm: (() => void) | undefined;
    const r = await deploy(w, c.settings(), {
      onPhase: (name, ended) => {
        if (name === c.step && !ended && !armed) {
          armed = true;
          // The step's first call is refused by the API server (a non-retryable error).
          disarm = w.kube.failNext({}, kubeError(403, 'Forbidden', 'injected'));
        }
        if (name === c.step && ended) disarm?.();
      },
    });
    disarm?.();
    // A step that makes no call of its own (a check runs over HTTP) or only records state (best
    // effort) may pass; whatever happened, the cluster is consistent.
    if (r.failed) assert.ok(r.error, `${label(c)}: a failure says why`);
    const color = await assertConsistent(w, `${label(c)} API error (${r.result}: ${r.error})`);
    if (PRE_SWITCH.has(c.step) && r.failed) assert.equal(color, beforeColor, `${label(c)}: traffic untouched`);
    if (c.action === 'deploy') {
      const again = await deploy(w, c.settings());
      assert.ok(
        ['promoted', 'unchanged', 'preview-ready'].includes(again.result),
        `${label(c)} re-run: ${again.result} ${again.error}`,
      );
    }
  }
});

test('failures of the steps that can fail on their own: traffic ends on a healthy version', async () => {
  // wait-ready: a crash loop; preview-check and post-check: failing checks; verify: pods gone unready.
  {
    const w = await withV1();
    w.kube.script('web:crash', { crash: { exitCode: 1 } });
    const r = await deploy(w, settings('deploy', 'web:crash', 'x'));
    assert.equal(r.result, 'failed');
    assert.equal(await assertConsistent(w, 'crash'), 'blue');
  }
  {
    const w = await withV1();
    w.checks.pre = false;
    const r = await deploy(w, settings('deploy', 'web:2', 'x'));
    assert.equal(r.result, 'failed');
    assert.match(r.error ?? '', /pre-promotion checks failed/);
    assert.equal(await assertConsistent(w, 'pre'), 'blue');
  }
  {
    const w = await withV1();
    w.checks.post = false;
    const r = await deploy(w, settings('deploy', 'web:2', 'x'));
    assert.equal(r.result, 'rolled-back');
    assert.equal(await assertConsistent(w, 'post'), 'blue');
    const cm = await w.kube.get<KubeObject>('ConfigMap', NS, 'web-config-blue');
    assert.deepEqual(cm?.data, { GREETING: 'hello' });
  }
  {
    const w = await withV1();
    w.kube.script('web:flaky', { unreadyAfterMs: 1500 });
    const r = await deploy(w, settings('deploy', 'web:flaky', 'x'));
    assert.equal(r.result, 'rolled-back', r.error);
    assert.equal(await assertConsistent(w, 'unready after the switch'), 'blue');
  }
});

test('a lock whose holder on this machine is gone is taken over at once', async () => {
  const w = await withV1();
  await w.kube.create(
    {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: leaseName('web') },
      spec: {
        holderIdentity: `killed run (${(await import('node:os')).hostname()} pid 999999)`,
        leaseDurationSeconds: 30,
        renewTime: new Date().toISOString().replace('Z', '000Z'),
      },
    },
    NS,
  );
  const r = await deploy(w, { ...settings('deploy', 'web:2', 'x'), lockTimeoutMs: 1000 });
  assert.equal(r.result, 'promoted', r.error);
});

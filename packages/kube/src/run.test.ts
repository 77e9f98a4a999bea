// The run's own machinery, through its port (MemoryKube, virtual time): the phase recorder (order,
// detail, a failure's message masked, cancellation before a step and finishing one that must), the
// ordered, best-effort queue of state records on the active Service, and the secrets a release
// teaches the redactor. The steps that use it are driven through every action in deploy.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@adci/common';
import type { SmokeResult } from '@adci/probe';
import { Cancelled } from './machine.ts';
import { findApp, parseManifestText } from './manifests.ts';
import { kubeError, MemoryKube, VirtualClock } from './memory.ts';
import type { BlueGreenSettings } from './model.ts';
import type { Release } from './release.ts';
import { failedSummary, Run } from './run.ts';
import type { ServiceObject } from './traffic.ts';

const NS = 'shop';
const MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: web:1
          env: [{ name: API_TOKEN, value: plain-env-token-value }, { name: GREETING, value: hello }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
`;

function settings(): BlueGreenSettings {
  return {
    action: 'deploy',
    app: findApp(parseManifestText(MANIFESTS, 'app.yaml')),
    namespace: NS,
    autoPromote: true,
    postPromotionWindowMs: 0,
    scaleDownDelayMs: 0,
    abortScaleDownDelayMs: 0,
    historyLimit: 10,
    timeoutMs: 60_000,
    lockTimeoutMs: 60_000,
    dryRun: false,
    run: { commit: 'abc123', runUrl: 'https://ci.example/run/1' },
  };
}

async function newRun(signal?: AbortSignal): Promise<{ run: Run; kube: MemoryKube; phases: string[] }> {
  const clock = new VirtualClock({ start: 1_000_000 });
  const kube = new MemoryKube({ clock });
  const service = await kube.create<ServiceObject>(
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    },
    NS,
  );
  const phases: string[] = [];
  const run = new Run(settings(), {
    kube,
    clock,
    logger: silentLogger,
    signal,
    runChecks: () => Promise.reject(new Error('no checks here')),
    onPhase: (p) => phases.push(`${p.name}:${p.endedAt === undefined ? 'start' : (p.outcome ?? '?')}`),
  });
  run.live = {
    active: service,
    services: ['web'],
    revision: 0,
    newestRevision: 0,
    deployments: {},
    state: {},
  };
  return { run, kube, phases };
}

test('phases are recorded in order with their detail; a failure is recorded with its message masked', async () => {
  const { run, phases } = await newRun();
  run.redactor.add('hunter2-secret');
  assert.equal(await run.phase('plan', () => Promise.resolve('release 1 on blue')), 'release 1 on blue');
  await assert.rejects(
    run.phase('apply', () => Promise.reject(new Error('denied with hunter2-secret'))),
    /denied with hunter2-secret/,
  );
  assert.deepEqual(
    run.result.phases.map((p) => [p.name, p.outcome, p.detail]),
    [
      ['plan', 'ok', 'release 1 on blue'],
      ['apply', 'failed', 'denied with ***'],
    ],
  );
  assert.deepEqual(phases, ['plan:start', 'plan:ok', 'apply:start', 'apply:failed']);
});

test('a cancelled run starts no further step, except one that must finish once begun', async () => {
  const controller = new AbortController();
  const { run } = await newRun(controller.signal);
  controller.abort(new Error('SIGINT'));
  let ran = false;
  await assert.rejects(
    run.phase('apply', () => {
      ran = true;
      return Promise.resolve(undefined);
    }),
    Cancelled,
  );
  assert.equal(ran, false, 'the step did not start');
  assert.equal(await run.phase('switch', () => Promise.resolve('switched'), { finishOnCancel: true }), 'switched');
  assert.deepEqual(
    run.result.phases.map((p) => [p.name, p.outcome]),
    [['switch', 'ok']],
  );
});

test('a step whose work fails because the run was cancelled is recorded as cancelled', async () => {
  const controller = new AbortController();
  const { run } = await newRun(controller.signal);
  await assert.rejects(
    run.phase('wait-ready', () => {
      controller.abort(new Error('SIGINT'));
      return Promise.reject(new Error('watch aborted'));
    }),
    Cancelled,
  );
  assert.deepEqual(
    run.result.phases.map((p) => [p.name, p.outcome, p.detail]),
    [['wait-ready', 'cancelled', 'the run was cancelled']],
  );
});

test('state records reach the active Service in call order, and a failed one never fails the run', async () => {
  const { run, kube } = await newRun();
  kube.failNext({ verb: 'mergePatch', kind: 'Service', name: 'web' }, kubeError(500, 'etcd timeout'));
  void run.record({ 'adci.dev/phase': 'apply' });
  void run.record({ 'adci.dev/phase': 'wait-ready' });
  void run.record({ 'adci.dev/phase': 'switch', 'adci.dev/pending-revision': null });
  await run.flushRecords();
  const written = kube
    .writesTo('Service', 'web')
    .filter((c) => c.verb === 'mergePatch')
    .map(
      (c) => (c.body as { metadata: { annotations: Record<string, string> } }).metadata.annotations['adci.dev/phase'],
    );
  assert.deepEqual(written, ['wait-ready', 'switch'], 'the failed first record is skipped, the rest keep their order');
  const svc = await kube.get<ServiceObject>('Service', NS, 'web');
  assert.equal(svc?.metadata.annotations?.['adci.dev/phase'], 'switch');
});

test('with no active Service there is nothing to record on', async () => {
  const { run, kube } = await newRun();
  run.live = { ...run.live, active: undefined };
  await run.record({ 'adci.dev/phase': 'apply' });
  assert.deepEqual(
    kube.writesTo('Service', 'web').filter((c) => c.verb !== 'create'),
    [],
  );
});

test("a release teaches the redactor its Secrets' values and its secret-named env values", async () => {
  const { run } = await newRun();
  const release = {
    deployment: settings().app.deployment.object,
    image: 'web:1',
    configs: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        data: { a: Buffer.from('b64-secret-value').toString('base64') },
      },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 't' }, stringData: { b: 'string-data-secret' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { c: 'not-a-secret' } },
    ],
    external: [],
  } as unknown as Release;
  run.learnSecrets(release);
  assert.equal(
    run.redact('b64-secret-value string-data-secret plain-env-token-value not-a-secret hello'),
    '*** *** *** not-a-secret hello',
  );
});

test('failedSummary names the failed checks and the breached thresholds', async () => {
  const result = {
    passed: false,
    checks: [
      { name: 'health', outcome: 'passed' },
      { name: 'bid', outcome: 'failed', status: 500, failures: ['status: expected 2xx, got 500'] },
    ],
    load: {
      thresholds: [
        { threshold: 'p(95)<300ms', passed: false, actual: 412 },
        { threshold: 'error_rate<0.01', passed: true, actual: 0 },
      ],
    },
  } as unknown as SmokeResult;
  assert.match(await failedSummary(result), /^bid: .+; threshold p\(95\)<300ms \(actual 412\)$/);
  assert.equal(await failedSummary({ passed: false, checks: [] } as unknown as SmokeResult), 'failed');
});

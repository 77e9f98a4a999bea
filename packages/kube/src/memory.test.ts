// Unit tests of MemoryKube, the in-memory KubePort: it must answer like an API server and its
// controllers closely enough that the engine's own modules (readiness, traffic, lock, permissions)
// cannot tell, in virtual time, so every test here runs in milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@adci/common';
import { isStatus, isTransient, KubeApiError } from './client.ts';
import { acquireLock, leaseName, LockTimeoutError, releaseLock, type LeaseObject } from './lock.ts';
import { kubeError, MemoryKube, networkError, VirtualClock } from './memory.ts';
import { checkPermissions, PermissionError } from './permissions.ts';
import type { KubeObject, WatchEvent } from './port.ts';
import {
  podFailure,
  PodStartError,
  summarisePod,
  waitForAvailable,
  type DeploymentObject,
  type PodObject,
} from './readiness.ts';
import { switchServices, verifyEndpoints } from './traffic.ts';

const NS = 'shop';

function deployment(name: string, image: string, replicas = 2, labels: Record<string, string> = { app: 'web' }) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}

const service = (selector: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web' },
  spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});

/** Waits (in virtual time) until the Deployment satisfies `done`. */
async function until(
  kube: MemoryKube,
  name: string,
  done: (d: DeploymentObject) => boolean,
): Promise<DeploymentObject> {
  return kube.watchUntil<DeploymentObject, DeploymentObject>(
    'Deployment',
    NS,
    { fieldSelector: `metadata.name=${name}` },
    (objects) => {
      const d = objects.get(name);
      return d && done(d) ? d : undefined;
    },
    AbortSignal.timeout(2000),
  );
}

const available = (replicas: number) => (d: DeploymentObject) =>
  d.status?.observedGeneration === d.metadata.generation &&
  d.status?.availableReplicas === replicas &&
  d.status?.updatedReplicas === replicas &&
  (d.status?.replicas ?? 0) === replicas;

const waitOptions = (kube: MemoryKube, name: string, selector: string, replicas = 2) => ({
  namespace: NS,
  deployment: name,
  podSelector: selector,
  replicas,
  timeoutMs: 5000,
  clock: kube.clock,
  pullGraceMs: 30_000,
  unschedulableGraceMs: 30_000,
});

test('a Deployment rolls out through a ReplicaSet into ready pods; a watch sees every step', async () => {
  const kube = new MemoryKube({ podReadyMs: 2000 });

  const events: WatchEvent<PodObject>[] = [];
  const watching = kube.watchUntil<PodObject, true>(
    'Pod',
    NS,
    { labelSelector: 'app=web' },
    (pods, event) => {
      if (event) events.push(event);
      return pods.size === 2 && [...pods.values()].every((p) => summarisePod(p).ready) ? true : undefined;
    },
    AbortSignal.timeout(2000),
  );
  const applied = await kube.apply<DeploymentObject>(deployment('web-blue', 'web:1'), NS);
  assert.equal(applied.kind, 'Deployment');
  assert.equal(applied.apiVersion, 'apps/v1');
  assert.equal(applied.metadata.generation, 1);
  assert.ok(applied.metadata.uid && applied.metadata.resourceVersion && applied.metadata.creationTimestamp);
  assert.equal(applied.status, undefined, 'the controller has not run yet when apply answers');
  const done = await until(kube, 'web-blue', available(2));
  await watching;
  assert.equal(kube.clock.now(), 2000, 'virtual time moved exactly to the pods becoming ready');
  assert.equal(done.status?.readyReplicas, 2);
  assert.equal(done.status?.unavailableReplicas, undefined);
  assert.deepEqual(
    done.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
    [
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ],
  );
  assert.ok(events.some((e) => e.type === 'ADDED') && events.some((e) => e.type === 'MODIFIED'));

  const [rs] = kube.objects('ReplicaSet', NS);
  assert.ok(rs);
  const hash = rs.metadata.labels?.['pod-template-hash'];
  assert.equal(rs.metadata.ownerReferences?.[0]?.uid, applied.metadata.uid);
  const pods = (await kube.list<PodObject>('Pod', NS, { labelSelector: 'app=web' })).items;
  assert.deepEqual(
    pods.map((p) => p.metadata.name),
    [`web-blue-${hash}-0`, `web-blue-${hash}-1`],
  );
  assert.equal(pods[0]?.kind, 'Pod');
  assert.equal(pods[0]?.metadata.labels?.['pod-template-hash'], hash);
  assert.equal(pods[0]?.metadata.ownerReferences?.[0]?.name, rs.metadata.name);
  assert.equal(pods[0]?.status?.phase, 'Running');
  assert.ok(pods[0]?.status?.podIP);
});

test('scale to 0 (merge patch or the scale subresource) removes every pod; deleting the Deployment cascades', async () => {
  const kube = new MemoryKube();
  await kube.apply(deployment('web-blue', 'web:1', 3), NS);
  await until(kube, 'web-blue', available(3));
  const patched = await kube.mergePatch<DeploymentObject>('Deployment', NS, 'web-blue', { spec: { replicas: 0 } });
  assert.equal(patched.metadata.generation, 2);
  const zero = await until(kube, 'web-blue', (d) => d.status?.observedGeneration === 2 && !d.status.replicas);
  assert.equal(zero.status?.availableReplicas, undefined);
  assert.equal(kube.objects('Pod', NS).length, 0);

  const scale = await kube.mergePatch(
    'Deployment',
    NS,
    'web-blue',
    { spec: { replicas: 1 } },
    { subresource: 'scale' },
  );
  assert.equal(scale.kind, 'Scale');
  await until(kube, 'web-blue', available(1));
  assert.equal(kube.objects('Pod', NS).length, 1);

  const seen: string[] = [];
  const gone = kube.watchUntil<PodObject, true>(
    'Pod',
    NS,
    {},
    (pods, event) => {
      if (event) seen.push(event.type);
      return pods.size === 0 ? true : undefined;
    },
    AbortSignal.timeout(2000),
  );
  assert.equal(await kube.delete('Deployment', NS, 'web-blue'), true);
  await gone;
  assert.deepEqual(seen, ['DELETED']);
  assert.equal(kube.objects('ReplicaSet', NS).length, 0);
  assert.equal(await kube.delete('Deployment', NS, 'web-blue'), false, 'a second delete finds nothing (404)');
});

test('a template change rolls the pods over to a new ReplicaSet; observedGeneration follows', async () => {
  const kube = new MemoryKube();
  await kube.apply(deployment('web-blue', 'web:1', 4), NS);
  await until(kube, 'web-blue', available(4));
  const oldNames = kube.objects('Pod', NS).map((p) => p.metadata.name);
  const applied = await kube.apply<DeploymentObject>(deployment('web-blue', 'web:2', 4), NS);
  assert.equal(applied.metadata.generation, 2);
  let mixed = false;
  const done = await until(kube, 'web-blue', (d) => {
    if ((d.status?.replicas ?? 0) > 4) mixed = true;
    return available(4)(d);
  });
  assert.ok(mixed, 'the rolling update surged above the desired count on the way');
  assert.equal(done.status?.observedGeneration, 2);
  const pods = kube.objects<PodObject>('Pod', NS);
  assert.equal(pods.length, 4);
  assert.ok(pods.every((p) => !oldNames.includes(p.metadata.name)));
  assert.ok(pods.every((p) => (p.spec as { containers: { image: string }[] }).containers[0]?.image === 'web:2'));
  assert.equal(kube.objects('ReplicaSet', NS).length, 2, 'the old ReplicaSet is kept, scaled to 0');
  assert.equal(done.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');

  // The same apply again changes nothing: no new resourceVersion, no new generation.
  const again = await kube.apply<DeploymentObject>(deployment('web-blue', 'web:2', 4), NS);
  assert.equal(again.metadata.resourceVersion, kube.snapshot('Deployment', NS, 'web-blue')?.metadata.resourceVersion);
  assert.equal(again.metadata.generation, 2);
});

test('a crash-looping image: CrashLoopBackOff that podFailure names, its logs, and waitForAvailable fails fast', async () => {
  const kube = new MemoryKube();
  kube.script('web:bad', {
    crash: { exitCode: 3, reason: 'Error', message: 'missing DATABASE_URL' },
    logs: ['booting', 'config: DATABASE_URL is required', 'exiting'],
    previousLogs: ['booting', 'previous run died'],
  });
  await kube.apply(deployment('web-green', 'web:bad'), NS);
  const started = performance.now();
  await assert.rejects(
    waitForAvailable(kube, waitOptions(kube, 'web-green', 'app=web')),
    (error: unknown) =>
      error instanceof PodStartError &&
      error.reason === 'CrashLoopBackOff' &&
      /exited with code 3 \(Error\): missing DATABASE_URL; restarted 1 times/.test(error.message),
  );
  assert.ok(performance.now() - started < 500, 'no real waiting');

  const pods = kube.objects<PodObject>('Pod', NS);
  assert.equal(pods.length, 2);
  const failure = podFailure(pods, kube.clock.now(), new Map(), { pullGraceMs: 0, unschedulableGraceMs: 0 });
  assert.equal(failure?.container, 'web');
  assert.equal(summarisePod(pods[0] as PodObject).reason, 'CrashLoopBackOff');
  assert.equal(pods[0]?.status?.phase, 'Running');

  const pod = pods[0]?.metadata.name ?? '';
  assert.equal(await kube.podLogs(NS, pod, 'web', { tailLines: 2 }), 'config: DATABASE_URL is required\nexiting\n');
  assert.equal(await kube.podLogs(NS, pod, 'web', { tailLines: 20, previous: true }), 'booting\nprevious run died\n');
  await assert.rejects(kube.podLogs(NS, pod, 'sidecar', { tailLines: 5 }), (e) => isStatus(e, 400));
  await assert.rejects(kube.podLogs(NS, 'nope', 'web', { tailLines: 5 }), (e) => isStatus(e, 404));

  // Restarts go on with back-off while time passes.
  await kube.advance(60_000);
  const later = kube.objects<PodObject>('Pod', NS)[0];
  assert.ok((later?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 3);
});

test('waitForAvailable resolves on a healthy Deployment; pull and config errors are recognised', async () => {
  const kube = new MemoryKube();
  await kube.apply(deployment('web-blue', 'web:1'), NS);
  const result = await waitForAvailable(kube, waitOptions(kube, 'web-blue', 'app=web'));
  assert.equal(result.pods.length, 2);
  assert.ok(result.pods.every((p) => p.ready));

  kube.script(/^ghcr\.io\/x\/missing:/, {});
  kube.script('ghcr.io/x/missing:1', { pullError: {} });
  await kube.apply(deployment('api-blue', 'ghcr.io/x/missing:1', 1, { app: 'api' }), NS);
  await assert.rejects(
    waitForAvailable(kube, waitOptions(kube, 'api-blue', 'app=api', 1)),
    (e: unknown) => e instanceof PodStartError && e.reason === 'ErrImagePull' && /not found/.test(e.message),
  );
  await assert.rejects(
    kube.podLogs(NS, kube.objects('Pod', NS, 'app=api')[0]?.metadata.name ?? '', 'web', { tailLines: 5 }),
    /waiting to start: ErrImagePull/,
  );

  // A pod that reads a ConfigMap that does not exist cannot start; it does once the ConfigMap is there.
  const withConfig = deployment('cfg-blue', 'web:1', 1, { app: 'cfg' });
  (withConfig.spec.template.spec.containers[0] as Record<string, unknown>).envFrom = [
    { configMapRef: { name: 'cfg-v1' } },
  ];
  await kube.apply(withConfig, NS);
  await kube.settle();
  const waiting = kube.objects<PodObject>('Pod', NS, 'app=cfg')[0];
  assert.deepEqual(waiting?.status?.containerStatuses?.[0]?.state?.waiting, {
    reason: 'CreateContainerConfigError',
    message: 'configmap "cfg-v1" not found',
  });
  await kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg-v1' }, data: { A: '1' } }, NS);
  await until(kube, 'cfg-blue', available(1));
});

test('a pod that turns unready at a given time; never-ready and unschedulable pods', async () => {
  const kube = new MemoryKube({ podReadyMs: 500 });
  kube.script('web:flaky', { unreadyAt: 10_000 });
  kube.script('web:stuck', { neverReady: true });
  kube.script('web:huge', { unschedulable: '0/1 nodes are available: 1 Insufficient memory.' });
  await kube.apply(deployment('web-blue', 'web:flaky', 1), NS);
  await until(kube, 'web-blue', available(1));
  assert.equal(kube.clock.now(), 500);
  const d = await until(kube, 'web-blue', (x) => !x.status?.availableReplicas);
  assert.equal(kube.clock.now(), 10_000);
  assert.equal(d.status?.unavailableReplicas, 1);

  await kube.apply(deployment('stuck', 'web:stuck', 1, { app: 'stuck' }), NS);
  await kube.apply({ ...deployment('huge', 'web:huge', 1, { app: 'huge' }) }, NS);
  const exceeded = await until(
    kube,
    'stuck',
    (x) => x.status?.conditions?.some((c) => c.reason === 'ProgressDeadlineExceeded') ?? false,
  );
  assert.equal(exceeded.status?.availableReplicas, undefined);
  const huge = kube.objects<PodObject>('Pod', NS, 'app=huge')[0];
  assert.equal(huge?.status?.phase, 'Pending');
  const failure = podFailure([huge], 0, new Map(), { pullGraceMs: 0, unschedulableGraceMs: 0 });
  assert.equal(failure?.reason, 'Unschedulable');
});

test('a Service selector switch moves the EndpointSlice; verifyEndpoints proves it', async () => {
  const kube = new MemoryKube();
  const colored = (color: string) =>
    deployment(`web-${color}`, `web:${color}`, 2, { app: 'web', 'adci.dev/color': color });
  await kube.apply(colored('blue'), NS);
  await kube.apply(colored('green'), NS);
  await kube.apply(service({ app: 'web', 'adci.dev/color': 'blue' }), NS);
  await until(kube, 'web-green', available(2));
  const [slice] = kube.objects('EndpointSlice', NS, 'kubernetes.io/service-name=web');
  assert.ok(slice);
  assert.equal(slice.metadata.ownerReferences?.[0]?.kind, 'Service');
  const endpoints = slice.endpoints as { targetRef: { name: string }; conditions: Record<string, boolean> }[];
  assert.equal(endpoints.length, 2);
  assert.ok(endpoints.every((e) => e.targetRef.name.startsWith('web-blue-') && e.conditions.ready));
  assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);

  await switchServices(kube, NS, ['web'], 'green', { 'adci.dev/active-color': 'green' });
  const reports = await verifyEndpoints(kube, NS, ['web'], (pod) => pod.startsWith('web-green-'), 2, 1000);
  assert.deepEqual(reports, [{ service: 'web', ready: 2, readyNew: 2, readyOther: [] }]);
  assert.equal(kube.snapshot('Service', NS, 'web')?.metadata.annotations?.['adci.dev/active-color'], 'green');

  // Deleting the Service takes its slice with it (garbage collection by owner).
  await kube.delete('Service', NS, 'web');
  await kube.settle();
  assert.equal(kube.objects('EndpointSlice', NS).length, 0);
});

test('terminating pods are listed as terminating endpoints until they go', async () => {
  const kube = new MemoryKube({ podTerminationMs: 5000 });
  await kube.apply(deployment('web-blue', 'web:1', 1), NS);
  await kube.apply(service({ app: 'web' }), NS);
  await until(kube, 'web-blue', available(1));
  const pod = kube.objects('Pod', NS)[0]?.metadata.name ?? '';
  await kube.delete('Pod', NS, pod);
  await kube.settle();
  const terminating = kube.snapshot<PodObject>('Pod', NS, pod);
  assert.ok(terminating?.metadata.deletionTimestamp);
  const slice = kube.objects('EndpointSlice', NS)[0];
  const conditions = (slice?.endpoints as { targetRef: { name: string }; conditions: object }[]).find(
    (e) => e.targetRef.name === pod,
  )?.conditions;
  assert.deepEqual(conditions, { ready: false, serving: false, terminating: true });
  await kube.advance(5000);
  assert.equal(kube.snapshot('Pod', NS, pod), undefined);
  await until(kube, 'web-blue', available(1));
});

test('acquireLock and releaseLock on the Lease: create, wait, time out, take over, release', async () => {
  const kube = new MemoryKube();
  const options = { namespace: NS, app: 'web', timeoutMs: 5000, logger: silentLogger, clock: kube.clock };
  const lock = await acquireLock(kube, { ...options, holder: 'run-1' });
  const lease = kube.snapshot<LeaseObject>('Lease', NS, leaseName('web'));
  assert.equal(lease?.spec?.holderIdentity, 'run-1');

  const started = performance.now();
  await assert.rejects(acquireLock(kube, { ...options, holder: 'run-2' }), LockTimeoutError);
  assert.ok(performance.now() - started < 500, 'the 5 s lock-timeout passed in virtual time');
  assert.ok(kube.clock.now() >= 5000);

  assert.equal(await releaseLock(kube, NS, lock.name, 'run-2'), false, 'only the holder releases');
  await lock.release();
  assert.equal(kube.snapshot('Lease', NS, lock.name), undefined);

  // A lease whose holder stopped renewing long ago is taken over.
  await kube.create(
    {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: lock.name },
      spec: { holderIdentity: 'dead-run', leaseDurationSeconds: 30, renewTime: '2020-01-01T00:00:00.000000Z' },
    },
    NS,
  );
  const taken = await acquireLock(kube, { ...options, holder: 'run-3' });
  assert.equal(kube.snapshot<LeaseObject>('Lease', NS, lock.name)?.spec?.leaseTransitions, 1);
  await taken.release();
});

test('API semantics: AlreadyExists, Conflict, preconditions, 404 on patch, dry-run, validation, pruning apply', async () => {
  const kube = new MemoryKube();
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', annotations: { a: '1', b: '2' } },
    data: { x: '1' },
  };
  const created = await kube.create(cm, NS);
  await assert.rejects(
    kube.create(cm, NS),
    (e) => e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists',
  );
  const stale = { ...created, data: { x: '2' } };
  await kube.replace({ ...created, data: { x: '3' } }, NS);
  await assert.rejects(
    kube.replace(stale, NS),
    (e) => isStatus(e, 409) && /has been modified/.test((e as Error).message),
  );
  await assert.rejects(
    kube.delete('ConfigMap', NS, 'c', { preconditions: { resourceVersion: created.metadata.resourceVersion } }),
    (e) => isStatus(e, 409) && /Precondition failed/.test((e as Error).message),
  );
  await assert.rejects(kube.mergePatch('ConfigMap', NS, 'nope', { data: {} }), (e) => isStatus(e, 404));
  assert.equal(await kube.get('ConfigMap', NS, 'nope'), undefined);

  // Merge patch: null deletes.
  const patched = await kube.mergePatch<KubeObject>('ConfigMap', NS, 'c', { metadata: { annotations: { a: null } } });
  assert.deepEqual(patched.metadata.annotations, { b: '2' });

  // Apply: a key the previous apply set and this one does not is removed; others' keys stay.
  await kube.apply(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'd', labels: { k: 'v', old: 'x' } },
      data: { a: '1', b: '2' },
    },
    NS,
  );
  await kube.mergePatch('ConfigMap', NS, 'd', { metadata: { annotations: { someone: 'else' } } });
  const reapplied = await kube.apply<KubeObject>(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd', labels: { k: 'v' } }, data: { a: '1' } },
    NS,
  );
  assert.deepEqual(reapplied.metadata.labels, { k: 'v' });
  assert.deepEqual(reapplied.data, { a: '1' });
  assert.deepEqual(reapplied.metadata.annotations, { someone: 'else' });

  // Dry-run validates like the server and stores nothing.
  const bad = deployment('web-blue', 'web:1');
  bad.spec.template.metadata.labels = { app: 'other' };
  await assert.rejects(
    kube.apply(bad, NS, { dryRun: true }),
    (e) => isStatus(e, 422) && /does not match template/.test((e as Error).message),
  );
  await kube.apply(deployment('web-blue', 'web:1'), NS, { dryRun: true });
  assert.equal(kube.snapshot('Deployment', NS, 'web-blue'), undefined);
  await kube.apply(deployment('web-blue', 'web:1'), NS);
  await kube.settle();
  const plain = deployment('web-blue', 'web:1');
  const annotated = { ...plain, metadata: { ...plain.metadata, annotations: { 'adci.dev/image': 'web:1' } } };
  await kube.apply(annotated, NS);
  const reset = await kube.apply<KubeObject>(plain, NS);
  assert.deepEqual(
    reset.metadata.annotations,
    { 'deployment.kubernetes.io/revision': '1' },
    "the apply's own annotation goes, the controller's stays",
  );
  const moved = deployment('web-blue', 'web:1', 2, { app: 'web', tier: 'x' });
  await assert.rejects(
    kube.apply(moved, NS, { dryRun: true }),
    (e) => isStatus(e, 422) && /field is immutable/.test((e as Error).message),
  );
  await assert.rejects(
    kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'l', labels: { x: 'a b' } } }, NS),
    (e) => isStatus(e, 422),
  );

  // An immutable ConfigMap keeps its data; ControllerRevision data is immutable too.
  await kube.apply(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'frozen' }, immutable: true, data: { a: '1' } },
    NS,
  );
  await assert.rejects(kube.mergePatch('ConfigMap', NS, 'frozen', { data: { a: '2' } }), (e) => isStatus(e, 422));
  await kube.create(
    {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: { name: 'web-1' },
      revision: 1,
      data: { image: 'a' },
    },
    NS,
  );
  await assert.rejects(kube.mergePatch('ControllerRevision', NS, 'web-1', { data: { image: 'b' } }), (e) =>
    isStatus(e, 422),
  );
  const secret = await kube.apply<KubeObject>(
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { token: 'abc' } },
    NS,
  );
  assert.deepEqual(secret.data, { token: Buffer.from('abc').toString('base64') });
  assert.equal(secret.stringData, undefined);

  // Selectors: equality, inequality, existence, set-based; unsupported fields are a 400.
  await kube.create(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'e', labels: { k: 'w', only: 'here' } } },
    NS,
  );
  const names = async (labelSelector: string) =>
    (await kube.list('ConfigMap', NS, { labelSelector })).items.map((i) => i.metadata.name);
  assert.deepEqual(await names('k=v'), ['d']);
  assert.deepEqual(await names('k!=v'), ['c', 'e', 'frozen']);
  assert.deepEqual(await names('only'), ['e']);
  assert.deepEqual(await names('k in (v,w),!only'), ['d']);
  assert.deepEqual(
    (await kube.list('ConfigMap', NS, { fieldSelector: 'metadata.name=e' })).items.map((i) => i.metadata.name),
    ['e'],
  );
  await assert.rejects(kube.list('ConfigMap', NS, { fieldSelector: 'data.a=1' }), (e) => isStatus(e, 400));
  await assert.rejects(kube.get('CronJob', NS, 'x'), /kind CronJob is not supported/);
  const { resourceVersion } = await kube.list('ConfigMap', NS);
  assert.ok(Number(resourceVersion) > Number(created.metadata.resourceVersion));
});

test('fault injection: next, always, after serving, dry-run only, network errors; hooks; the call log', async () => {
  const kube = new MemoryKube();
  kube.load([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'seeded' }, data: { a: '1' } }], NS);
  assert.equal(kube.calls.length, 0, 'load seeds the store without calls');
  assert.deepEqual(kube.snapshot('ConfigMap', NS, 'seeded')?.data, { a: '1' });
  await kube.apply(service({ app: 'web' }), NS);

  kube.failNext({ verb: 'get', kind: 'Service' }, kubeError(500));
  await assert.rejects(kube.get('Service', NS, 'web'), (e) => isStatus(e, 500) && isTransient(e));
  assert.ok(await kube.get('Service', NS, 'web'), 'failNext fails once');

  const stop = kube.failAlways({ verb: 'apply', dryRun: true }, kubeError(403, undefined, 'no dry-run for you'));
  await assert.rejects(kube.apply(service({ app: 'x' }), NS, { dryRun: true }), /no dry-run for you/);
  await assert.rejects(kube.apply(service({ app: 'x' }), NS, { dryRun: true }), (e) => isStatus(e, 403));
  await kube.apply(service({ app: 'web', v: '2' }), NS);
  stop();
  await kube.apply(service({ app: 'x' }), NS, { dryRun: true });

  kube.failNext({ verb: 'mergePatch', name: 'web' }, networkError());
  await assert.rejects(
    kube.mergePatch('Service', NS, 'web', { spec: { selector: { v: '3' } } }),
    (e) => isTransient(e) && (e as { code?: string }).code === 'ECONNREFUSED',
  );
  assert.deepEqual((kube.snapshot<KubeObject>('Service', NS, 'web')?.spec as { selector: object }).selector, {
    app: 'web',
    v: '2',
  });

  // A lost response: the write happened, the caller saw an error.
  kube.failNext({ verb: 'mergePatch', kind: 'Service' }, kubeError(504), { afterServe: true });
  await assert.rejects(kube.mergePatch('Service', NS, 'web', { spec: { selector: { v: '4' } } }), (e) =>
    isStatus(e, 504),
  );
  assert.equal(
    (kube.snapshot<KubeObject>('Service', NS, 'web')?.spec as { selector: Record<string, string> }).selector.v,
    '4',
  );

  // A hook cancels the run at the moment the switch is attempted (before it is served).
  const run = new AbortController();
  kube.onCall({ verb: 'mergePatch', kind: 'Service' }, () => run.abort(new Error('cancelled')), { once: true });
  await kube.mergePatch('Service', NS, 'web', { spec: { selector: { v: '5' } } });
  assert.equal(run.signal.aborted, true);

  // Watches honour faults and end with the signal's reason.
  kube.failNext({ verb: 'watch', kind: 'Pod' }, kubeError(503));
  await assert.rejects(
    kube.watchUntil('Pod', NS, {}, () => undefined, AbortSignal.timeout(1000)),
    (e) => isStatus(e, 503),
  );
  const watch = new AbortController();
  const pending = kube.watchUntil('Pod', NS, {}, () => undefined, watch.signal);
  watch.abort(new Error('stop watching'));
  await assert.rejects(pending, /stop watching/);

  const writes = kube.writesTo('Service', 'web').map((c) => `${c.verb}${c.error ? ' (error)' : ''}`);
  assert.deepEqual(writes, ['apply', 'apply', 'mergePatch (error)', 'mergePatch']);
  assert.ok(kube.calls.some((c) => c.verb === 'apply' && c.dryRun && c.error !== undefined));
  const firstWrite = kube.calls.find((c) => c.written);
  assert.equal(firstWrite?.seq, 1);
});

test('permissions: allowed by default; deny takes one away from the rules review, canI and the calls', async () => {
  const kube = new MemoryKube();
  const needs = [
    { verb: 'patch', group: 'apps', resource: 'deployments' },
    { verb: 'get', group: '', resource: 'pods', subresource: 'log' },
  ];
  await checkPermissions(kube, NS, needs);
  kube.deny('patch', 'apps', 'deployments');
  await assert.rejects(
    checkPermissions(kube, NS, needs),
    (e: unknown) => e instanceof PermissionError && /patch deployments.apps/.test(e.message),
  );
  assert.equal(await kube.canI('patch', 'apps', 'deployments', NS), false);
  assert.equal(await kube.canI('get', 'apps', 'deployments', NS), true);
  await kube.apply(deployment('web-blue', 'web:1'), NS).catch(() => undefined);
  await assert.rejects(kube.mergePatch('Deployment', NS, 'web-blue', { spec: { replicas: 1 } }), (e) =>
    isStatus(e, 403),
  );
  kube.rulesReviewSupported = false;
  await assert.rejects(
    checkPermissions(kube, NS, needs),
    PermissionError,
    'answered by SelfSubjectAccessReviews alone',
  );
  kube.allow('patch', 'apps', 'deployments');
  await checkPermissions(kube, NS, needs);
});

test('owned objects go with their owner; PDB status and evictions follow the ready pods', async () => {
  const kube = new MemoryKube();
  const owner = await kube.apply<DeploymentObject>(deployment('web-blue', 'web:1', 2), NS);
  await kube.apply(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'web-config-blue',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-blue', uid: owner.metadata.uid ?? '' },
        ],
      },
      data: { a: '1' },
    },
    NS,
  );
  await kube.apply(
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web-blue' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
    },
    NS,
  );
  await until(kube, 'web-blue', available(2));
  await kube.settle();
  const pdb = kube.snapshot('PodDisruptionBudget', NS, 'web-blue');
  assert.deepEqual(
    { ...(pdb?.status as object), conditions: undefined },
    {
      observedGeneration: 1,
      expectedPods: 2,
      currentHealthy: 2,
      desiredHealthy: 2,
      disruptionsAllowed: 0,
      conditions: undefined,
    },
  );
  const pod = kube.objects('Pod', NS)[0]?.metadata.name ?? '';
  assert.throws(
    () => kube.evict(NS, pod),
    (e) => isStatus(e, 429),
  );
  await kube.mergePatch('PodDisruptionBudget', NS, 'web-blue', { spec: { minAvailable: 1 } });
  await kube.settle();
  kube.evict(NS, pod);
  await kube.settle();
  assert.equal(kube.snapshot('Pod', NS, pod), undefined);

  await kube.delete('Deployment', NS, 'web-blue');
  await kube.settle();
  assert.equal(kube.snapshot('ConfigMap', NS, 'web-config-blue'), undefined);
  assert.equal(kube.objects('Pod', NS).length, 0);
});

test('auto-advancing time moves only while someone waits on the clock or a watch', async () => {
  const kube = new MemoryKube();
  await kube.apply(deployment('web-blue', 'web:1', 1), NS);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(kube.clock.now(), 0, 'pods are due at 1000, but nobody waits: time stands still');
  await kube.clock.sleep(250);
  assert.equal(kube.clock.now(), 250);
  await until(kube, 'web-blue', available(1));
  assert.equal(kube.clock.now(), 1000);
});

test('a manual VirtualClock: nothing moves until the test advances it', async () => {
  const clock = new VirtualClock({ autoAdvance: false });
  const kube = new MemoryKube({ clock, podReadyMs: 3000 });
  await kube.apply(deployment('web-blue', 'web:1', 1), NS);
  await kube.settle();
  assert.equal(kube.snapshot<DeploymentObject>('Deployment', NS, 'web-blue')?.status?.readyReplicas, undefined);
  await kube.advance(2999);
  assert.equal(kube.snapshot<DeploymentObject>('Deployment', NS, 'web-blue')?.status?.readyReplicas, undefined);
  await kube.advance(1);
  assert.equal(kube.snapshot<DeploymentObject>('Deployment', NS, 'web-blue')?.status?.availableReplicas, 1);
  let slept = false;
  const sleeping = clock.sleep(100).then(() => (slept = true));
  await kube.settle();
  assert.equal(slept, false);
  await clock.advance(100);
  await sleeping;
  assert.equal(slept, true);
});

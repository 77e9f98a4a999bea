// The Kubernetes client against the real local cluster (test/cluster; skipped outside CI without
// one): every verb the engine uses, errors classified by status (404 as "absent", 409 on a stale
// write, a field the schema does not know refused for good), dry runs that persist nothing, access reviews, and a
// watch that sees a change. Paths and kinds are checked without a cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { clusterTestSkip, testKubeconfig, useNamespace } from '../../../test/cluster/testing.ts';
import {
  collectionPath,
  isStatus,
  isTransient,
  KubeApiError,
  KubeClient,
  objectPath,
  resourceOf,
  supportedKind,
} from './client.ts';
import type { KubeObject } from './port.ts';

const skip = clusterTestSkip();
// One client for the file (KubeClient.create reads the kubeconfig); none without a cluster.
const shared = skip ? undefined : await KubeClient.create({ kubeconfig: readFileSync(testKubeconfig() ?? '', 'utf8') });
const client = (): KubeClient => shared as KubeClient;

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

test('REST paths of core, grouped and cluster-wide kinds; unsupported kinds are named', () => {
  assert.equal(collectionPath('ConfigMap', 'ads'), '/api/v1/namespaces/ads/configmaps');
  assert.equal(objectPath('Deployment', 'ads', 'bid'), '/apis/apps/v1/namespaces/ads/deployments/bid');
  assert.equal(collectionPath('Namespace', 'ignored'), '/api/v1/namespaces');
  assert.equal(objectPath('Lease', 'a b', 'x/y'), '/apis/coordination.k8s.io/v1/namespaces/a%20b/leases/x%2Fy');
  assert.deepEqual(resourceOf('EndpointSlice'), {
    group: 'discovery.k8s.io/v1',
    plural: 'endpointslices',
    apiGroup: 'discovery.k8s.io',
  });
  assert.equal(resourceOf('Pod').apiGroup, '');
  assert.equal(supportedKind('StatefulSet'), false);
  assert.throws(() => resourceOf('StatefulSet'), /kind StatefulSet is not supported \(supported: Deployment, /);
});

test('what is worth another try: 429, 5xx and transport errors; not 4xx, aborts or a typed-patch 500', () => {
  assert.equal(isTransient(new KubeApiError(429, 'TooManyRequests', 'slow down')), true);
  assert.equal(isTransient(new KubeApiError(503, 'ServiceUnavailable', 'etcd')), true);
  assert.equal(
    isTransient(new KubeApiError(500, '500', 'failed to create typed patch object (x): .spec.y: field not declared')),
    false,
  );
  assert.equal(isTransient(new KubeApiError(409, 'Conflict', 'stale')), false);
  assert.equal(isTransient(Object.assign(new Error('connect'), { code: 'ECONNRESET' })), true);
  assert.equal(isTransient(new TypeError('fetch failed')), true);
  assert.equal(isTransient(new DOMException('gone', 'AbortError')), false);
  assert.equal(isStatus(new KubeApiError(404, 'NotFound', 'x'), 404), true);
  assert.equal(isStatus(new Error('404'), 404), false);
});

test('a context not in the kubeconfig is refused, naming those it has', { skip }, async () => {
  await assert.rejects(
    KubeClient.create({ kubeconfig: readFileSync(testKubeconfig() ?? '', 'utf8'), context: 'prod-eu' }),
    /context 'prod-eu' is not in the kubeconfig \(it has: .+\)/,
  );
});

test(
  'create, get, list, apply, merge patch, replace and delete on the cluster; errors by status',
  { skip },
  async (t) => {
    const ns = await useNamespace(t, 'kube-client');
    const kube = client();
    const cm = (name: string, data: Record<string, string>): ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, labels: { app: 'client-test' } },
      data,
    });
    assert.equal(await kube.get('ConfigMap', ns.name, 'absent'), undefined, 'absent is undefined, not an error');
    const created = await kube.create<ConfigMap>(cm('a', { k: '1' }), ns.name);
    assert.equal(created.metadata.namespace, ns.name);
    await assert.rejects(kube.create(cm('a', { k: '1' }), ns.name), (e: unknown) => isStatus(e, 409));

    const applied = await kube.apply<ConfigMap>(cm('b', { k: '2' }), ns.name);
    assert.equal(applied.data?.k, '2');
    const managers = (applied.metadata as { managedFields?: { manager?: string }[] }).managedFields ?? [];
    assert.ok(
      managers.some((f) => f.manager === 'adci'),
      'applied with the adci field manager',
    );
    const dry = await kube.apply<ConfigMap>(cm('c', { k: '3' }), ns.name, { dryRun: true });
    assert.equal(dry.data?.k, '3');
    assert.equal(await kube.get('ConfigMap', ns.name, 'c'), undefined, 'a dry run persists nothing');
    // Server-side apply answers 500 for a field the schema does not know: final, not retried.
    await assert.rejects(
      kube.apply({ ...cm('d', {}), spec: { unknown: true } }, ns.name),
      (e: unknown) =>
        e instanceof KubeApiError && /\.spec: field not declared in schema/.test(e.message) && !isTransient(e),
    );

    const patched = await kube.mergePatch<ConfigMap>('ConfigMap', ns.name, 'a', { data: { extra: 'x' } });
    assert.deepEqual(patched.data, { k: '1', extra: 'x' });
    await assert.rejects(
      kube.replace({ ...created, data: { k: 'stale' } }, ns.name),
      (e: unknown) => isStatus(e, 409),
      'a write from a stale resourceVersion is a conflict',
    );
    const replaced = await kube.replace<ConfigMap>({ ...patched, data: { k: 'new' } }, ns.name);
    assert.deepEqual(replaced.data, { k: 'new' });

    const list = await kube.list<ConfigMap>('ConfigMap', ns.name, { labelSelector: 'app=client-test' });
    assert.deepEqual(list.items.map((i) => i.metadata.name).sort(), ['a', 'b']);
    assert.ok(
      list.items.every((i) => i.kind === 'ConfigMap' && i.apiVersion === 'v1'),
      'kind filled in on list items',
    );
    assert.match(list.resourceVersion, /^\d+$/);

    assert.equal(await kube.delete('ConfigMap', ns.name, 'a'), true);
    assert.equal(await kube.delete('ConfigMap', ns.name, 'a'), false, 'already gone');
    await assert.rejects(kube.mergePatch('ConfigMap', ns.name, 'a', { data: {} }), (e: unknown) => isStatus(e, 404));
  },
);

test('access reviews and a watch that ends when a change is seen', { skip }, async (t) => {
  const ns = await useNamespace(t, 'kube-watch');
  const kube = client();
  assert.equal(await kube.canI('patch', 'apps', 'deployments', ns.name), true);
  const rules = await kube.rulesReview(ns.name);
  assert.ok(rules.some((r) => r.verbs.includes('*') || r.verbs.includes('get')));
  const signal = AbortSignal.timeout(30_000);
  const seen = kube.watchUntil<ConfigMap, string>(
    'ConfigMap',
    ns.name,
    { labelSelector: 'watched=yes' },
    (objects) => (objects.get('w')?.data?.step === 'two' ? 'two' : undefined),
    signal,
  );
  await kube.apply(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'w', labels: { watched: 'yes' } },
      data: { step: 'one' },
    },
    ns.name,
  );
  await kube.mergePatch('ConfigMap', ns.name, 'w', { data: { step: 'two' } });
  assert.equal(await seen, 'two');
});

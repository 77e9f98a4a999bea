// The release history on the real local cluster (skipped outside CI without one): each release a
// ControllerRevision with its ConfigMaps, its Secrets in a Secret beside it (never in the revision),
// outcomes as annotations, a release read back exactly (or refused when it no longer matches),
// and pruning to the newest few with their Secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { clusterTestSkip, testKubeconfig, useNamespace } from '../../../test/cluster/testing.ts';
import { KubeClient } from './client.ts';
import { listHistory, pruneHistory, readRelease, recordRelease, revisionName, setOutcome } from './history.ts';
import { findApp, parseManifestText } from './manifests.ts';
import type { KubeObject } from './port.ts';
import { releaseFromManifests, type Release } from './release.ts';

const skip = clusterTestSkip();
// One client for the file (KubeClient.create reads the kubeconfig); none without a cluster.
const shared = skip ? undefined : await KubeClient.create({ kubeconfig: readFileSync(testKubeconfig() ?? '', 'utf8') });
const client = (): KubeClient => shared as KubeClient;

const MANIFESTS = `
apiVersion: v1
kind: ConfigMap
metadata: { name: web-config }
data: { GREETING: hello }
---
apiVersion: v1
kind: Secret
metadata: { name: web-secret }
stringData: { TOKEN: s3cr3t-token }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [ { port: 80, targetPort: 8080 } ] }
---
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
          envFrom: [ { configMapRef: { name: web-config } }, { secretRef: { name: web-secret } } ]
          env: [ { name: DB, valueFrom: { secretKeyRef: { name: db-password, key: pw } } } ]
`;

const release = (image: string): Release =>
  releaseFromManifests(findApp(parseManifestText(MANIFESTS, 'web.yaml')), image, undefined);

test('revision names are <app>-adci-<n>', () => {
  assert.equal(revisionName('web', 12), 'web-adci-12');
  assert.equal(revisionName('x'.repeat(300), 1).length, 253);
});

test('record, list, set the outcome, read back, prune: on real ControllerRevisions', { skip }, async (t) => {
  const ns = await useNamespace(t, 'kube-history');
  const kube = client();
  const run = { commit: '0123456789abcdef', runUrl: 'https://ci.example.com/runs/7' };
  for (const n of [1, 2, 3]) {
    await recordRelease(kube, ns.name, 'web', release(`web:${n}`), {
      revision: n,
      color: n % 2 ? 'blue' : 'green',
      time: `2026-12-07T10:0${n}:00Z`,
      run,
      ...(n === 3 ? { rollbackOf: 1 } : {}),
    });
  }
  await setOutcome(kube, ns.name, 'web', 1, 'promoted');
  await setOutcome(kube, ns.name, 'web', 2, 'rolled-back');

  const history = await listHistory(kube, ns.name, 'web');
  assert.deepEqual(
    history.map((e) => [e.revision, e.image, e.outcome, e.color, e.rollbackOf]),
    [
      [3, 'web:3', 'pending', 'blue', 1],
      [2, 'web:2', 'rolled-back', 'green', undefined],
      [1, 'web:1', 'promoted', 'blue', undefined],
    ],
  );
  assert.deepEqual(
    [history[0]?.commit, history[0]?.runUrl, history[0]?.time],
    [run.commit, run.runUrl, '2026-12-07T10:03:00Z'],
  );
  assert.equal(history[2]?.hash, release('web:1').hash);

  // The revision is readable by anyone who may read apps: no Secret data in it.
  const revision = await kube.get<KubeObject>('ControllerRevision', ns.name, 'web-adci-1');
  assert.doesNotMatch(JSON.stringify(revision), /s3cr3t-token/);
  assert.ok(await kube.get('Secret', ns.name, 'web-adci-1'), 'the Secrets are kept in a Secret of the same name');

  const read = await readRelease(kube, ns.name, 'web', 1);
  assert.ok(read);
  assert.equal(read.release.hash, release('web:1').hash, 'the release read back is the one recorded');
  assert.equal(read.release.image, 'web:1');
  assert.deepEqual(read.release.configs.map((c) => `${c.kind}/${c.metadata.name}`).sort(), [
    'ConfigMap/web-config',
    'Secret/web-secret',
  ]);
  assert.deepEqual(read.release.external, [{ kind: 'Secret', name: 'db-password' }]);
  assert.equal(await readRelease(kube, ns.name, 'web', 9), undefined);
  await kube.mergePatch('ControllerRevision', ns.name, 'web-adci-1', {
    metadata: { annotations: { 'adci.dev/spec-hash': '0000000000000000' } },
  });
  await assert.rejects(
    readRelease(kube, ns.name, 'web', 1),
    /revision 1 does not match its recorded hash; it cannot be deployed again/,
  );

  // A revision recorded again by a run that never finished replaces the old one.
  await recordRelease(kube, ns.name, 'web', release('web:3b'), { revision: 3, color: 'blue', time: 't', run: {} });
  assert.equal((await listHistory(kube, ns.name, 'web'))[0]?.image, 'web:3b');

  await kube.delete('Secret', ns.name, 'web-adci-2');
  await assert.rejects(
    readRelease(kube, ns.name, 'web', 2),
    /revision 2's Secrets \(web-secret\) are no longer stored; it cannot be deployed again/,
  );

  assert.equal(await pruneHistory(kube, ns.name, 'web', 2), 1);
  assert.deepEqual(
    (await listHistory(kube, ns.name, 'web')).map((e) => e.revision),
    [3, 2],
  );
  assert.equal(await kube.get('Secret', ns.name, 'web-adci-1'), undefined, "the pruned revision's Secret goes too");
  assert.equal(await pruneHistory(kube, ns.name, 'web', 0), 1, 'the newest is always kept');
});

// What a release is, from manifests: the Deployment with its image, the ConfigMaps and Secrets its
// pod template reads (versioned per colour as <name>-<colour> copies), a PDB per colour, what is
// applied in place, and a hash that changes with the configuration but not with replicas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findApp, parseManifestText } from './manifests.ts';
import {
  colorConfig,
  colorPdb,
  configReferences,
  copyName,
  describeConfiguration,
  podSpecOf,
  readCopies,
  releaseFromManifests,
  releaseHash,
} from './release.ts';

const MANIFESTS = `
apiVersion: v1
kind: ConfigMap
metadata: { name: web-config }
data: { GREETING: hello }
---
apiVersion: v1
kind: Secret
metadata: { name: web-secret }
stringData: { TOKEN: s3cr3t }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: shared }
data: { LEVEL: info }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: unread }
data: { X: "1" }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web }
spec: { minAvailable: 1, selector: { matchLabels: { app: web } } }
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
      initContainers:
        - name: migrate
          image: web:1
          envFrom: [ { secretRef: { name: web-secret } } ]
      containers:
        - name: web
          image: web:1
          env:
            - { name: GREETING, valueFrom: { configMapKeyRef: { name: web-config, key: GREETING } } }
            - { name: DB, valueFrom: { secretKeyRef: { name: db-password, key: pw } } }
            - { name: PLAIN, value: x }
          envFrom: [ { configMapRef: { name: shared } } ]
      volumes:
        - { name: cfg, configMap: { name: web-config } }
        - name: all
          projected:
            sources: [ { configMap: { name: shared } }, { secret: { name: tls } } ]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: report }
spec:
  selector: { matchLabels: { app: report } }
  template:
    metadata: { labels: { app: report } }
    spec:
      containers: [ { name: r, image: report:1, envFrom: [ { configMapRef: { name: shared } } ] } ]
`;

const app = () => findApp(parseManifestText(MANIFESTS, 'web.yaml'), { deployment: 'web' });

test('configReferences finds env, envFrom, volumes and projected sources, of init containers too, once each', () => {
  const refs = configReferences(podSpecOf(app().deployment.object));
  assert.deepEqual(
    refs.map((r) => `${r.kind}/${r.name}`),
    ['ConfigMap/web-config', 'Secret/db-password', 'ConfigMap/shared', 'Secret/web-secret', 'Secret/tls'],
  );
});

test('releaseFromManifests: the image set, configs versioned, external ones named, shared ones also in place', () => {
  const release = releaseFromManifests(app(), 'web:2', undefined);
  assert.equal(release.image, 'web:2');
  assert.deepEqual(
    release.configs.map((c) => c.metadata.name),
    ['web-config', 'shared', 'web-secret'],
  );
  assert.deepEqual(
    release.external.map((r) => `${r.kind}/${r.name}`),
    ['Secret/db-password', 'Secret/tls'],
  );
  assert.equal(release.pdb?.metadata.name, 'web');
  assert.deepEqual(
    release.others.map((o) => `${o.kind}/${o.metadata.name}`),
    ['ConfigMap/shared', 'ConfigMap/unread', 'Deployment/report'],
    'the other Deployment reads shared in place; unread is not read by the app',
  );
  assert.deepEqual(describeConfiguration(release, 'green'), [
    'version ConfigMap/web-config as web-config-green (read by the pod template)',
    'version ConfigMap/shared as shared-green (read by the pod template)',
    'version Secret/web-secret as web-secret-green (read by the pod template)',
    'Secret/db-password is read by the pod template but not in the manifests: used as it is on the cluster',
    'Secret/tls is read by the pod template but not in the manifests: used as it is on the cluster',
    'PodDisruptionBudget/web -> one per colour',
    'apply ConfigMap/shared in place (not read by the pod template)',
    'apply ConfigMap/unread in place (not read by the pod template)',
    'apply Deployment/report in place (not read by the pod template)',
  ]);
});

test('the hash: a new image or config content is a new release; replicas and config order are not', () => {
  const base = releaseFromManifests(app(), 'web:2', undefined);
  assert.match(base.hash, /^[0-9a-f]{16}$/);
  assert.equal(releaseFromManifests(app(), 'web:2', undefined).hash, base.hash, 'stable');
  assert.notEqual(releaseFromManifests(app(), 'web:3', undefined).hash, base.hash);
  const changed = findApp(parseManifestText(MANIFESTS.replace('GREETING: hello', 'GREETING: hi'), 'web.yaml'), {
    deployment: 'web',
  });
  assert.notEqual(releaseFromManifests(changed, 'web:2', undefined).hash, base.hash, 'a config-only change');
  const scaled = findApp(parseManifestText(MANIFESTS.replace('replicas: 2', 'replicas: 5'), 'web.yaml'), {
    deployment: 'web',
  });
  assert.equal(releaseFromManifests(scaled, 'web:2', undefined).hash, base.hash);
  assert.equal(releaseHash(base.deployment, [...base.configs].reverse()), base.hash);
});

test("a colour's copies: configs renamed and labelled, the template reading them, the PDB selecting one colour", () => {
  const release = releaseFromManifests(app(), 'web:2', undefined);
  const secret = release.configs.find((c) => c.kind === 'Secret');
  assert.ok(secret);
  const copy = colorConfig(secret, 'web', 'blue', 7, release.hash);
  assert.equal(copy.metadata.name, 'web-secret-blue');
  assert.deepEqual(copy.metadata.labels, {
    'adci.dev/app': 'web',
    'adci.dev/color': 'blue',
    'adci.dev/copy-of': 'web-secret',
  });
  assert.deepEqual(copy.metadata.annotations, { 'adci.dev/revision': '7', 'adci.dev/spec-hash': release.hash });
  assert.equal((copy as { stringData?: unknown }).stringData !== undefined, true, 'the content is kept');
  assert.equal(secret.metadata.name, 'web-secret', 'the original is untouched');

  const reading = readCopies(release.deployment, release.configs, 'blue');
  assert.deepEqual(
    configReferences(podSpecOf(reading)).map((r) => r.name),
    ['web-config-blue', 'db-password', 'shared-blue', 'web-secret-blue', 'tls'],
    'external references are left as they are',
  );
  assert.deepEqual(
    configReferences(podSpecOf(release.deployment)).map((r) => r.name)[0],
    'web-config',
    'the release itself is not rewritten',
  );
  assert.ok(release.pdb);
  const pdb = colorPdb(release.pdb, 'green');
  assert.equal(pdb.metadata.name, 'web-green');
  assert.deepEqual((pdb.spec as { selector: unknown }).selector, {
    matchLabels: { app: 'web', 'adci.dev/color': 'green' },
  });
  assert.equal(copyName('x'.repeat(300), 'green').length, 253);
});

test("the example app's Deployment reads its API tokens from a Secret the manifests do not hold", () => {
  const dir = join(import.meta.dirname, '../../../examples/ad-platform/deploy');
  const objects = ['deployment.yaml', 'pdb.yaml', 'service.yaml'].flatMap((f) =>
    parseManifestText(readFileSync(join(dir, f), 'utf8'), f),
  );
  const release = releaseFromManifests(findApp(objects), undefined, undefined);
  assert.deepEqual(
    release.external.map((r) => `${r.kind}/${r.name}`),
    ['Secret/ad-platform-tokens'],
  );
  assert.ok(release.pdb, 'its PodDisruptionBudget becomes one per colour');
});

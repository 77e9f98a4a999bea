// Unit tests of manifests.ts: the manifest text parsed into objects, and findApp (the one Deployment,
// the Services that select it, the rest alongside), refusing what cannot be deployed with file and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findApp, parseManifestText } from './manifests.ts';

const app = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, labels: { app: web } }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: front } }
    spec:
      containers:
        - { name: web, image: web:1 }
        - { name: sidecar, image: proxy:1 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80 }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: web-config }
data: { a: b }
`;

test('findApp: one Deployment, the Services that select it, the rest alongside', () => {
  const found = findApp(parseManifestText(app, 'app.yaml'));
  assert.equal(found.deployment.object.metadata.name, 'web');
  assert.deepEqual(
    found.services.map((s) => s.object.metadata.name),
    ['web'],
  );
  assert.deepEqual(
    found.others.map((s) => s.object.kind),
    ['ConfigMap'],
  );
  assert.deepEqual(found.podLabels, { app: 'web', tier: 'front' });
  assert.equal(found.services[0]?.line, 14);
});
test('findApp rejects what cannot be deployed, naming file and line', () => {
  const [deployment, service] = app.split('---\n');
  assert.throws(() => findApp(parseManifestText(service ?? '', 'svc.yaml')), /no Deployment/);
  assert.throws(
    () =>
      findApp(
        parseManifestText(`${deployment}---\n${(deployment ?? '').replace('name: web,', 'name: api,')}`, 'two.yaml'),
      ),
    /more than one Deployment \(web at two.yaml:1, api at two.yaml:\d+\)/,
  );
  assert.throws(
    () =>
      findApp(
        parseManifestText(app.replace('selector: { app: web }\n  ports', 'selector: { app: api }\n  ports'), 'x.yaml'),
      ),
    /x.yaml:14: Service web selects nothing/,
  );
  assert.throws(() => parseManifestText('a: [1', 'bad.yaml'), /bad.yaml:1:\d+: invalid YAML/);
  assert.throws(
    () => parseManifestText('kind: Deployment\nmetadata: { name: x }\n', 'noversion.yaml'),
    /noversion.yaml:1: the document has no apiVersion/,
  );
  assert.throws(
    () => parseManifestText('apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: x }\n', 'cron.yaml'),
    /cron.yaml:1: kind CronJob \(x\) is not one blue-green-deploy applies/,
  );
});

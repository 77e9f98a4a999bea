// Unit tests of colors.ts: the colour's objects (Deployment, HPA, Service) made from the app's
// manifests, the image set on the named container, and the release hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorDeployment, colorHpa, serviceFor, specHash, withImage } from './colors.ts';
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

test('colour objects: the colour in selector and template from creation; the image on the named container', () => {
  const found = findApp(parseManifestText(app, 'app.yaml'));
  const manifest = withImage(found.deployment.object, 'web:2', 'sidecar');
  const green = colorDeployment(manifest, { color: 'green', replicas: 3, revision: 7, image: 'web:2', hash: 'h' });
  const spec = green.spec as {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { containers: { image: string }[] } };
  };
  assert.equal(green.metadata.name, 'web-green');
  assert.equal(spec.replicas, 3);
  assert.deepEqual(spec.selector.matchLabels, { app: 'web', 'adci.dev/color': 'green' });
  assert.equal(spec.template.metadata.labels['adci.dev/revision'], '7');
  assert.deepEqual(
    spec.template.spec.containers.map((c) => c.image),
    ['web:1', 'web:2'],
  );
  assert.throws(() => withImage(found.deployment.object, 'x', 'nope'), /no container 'nope' .*web, sidecar/);
  // The manifest object itself is never changed.
  assert.equal((found.deployment.object.spec as { replicas: number }).replicas, 2);
  const svc = serviceFor(found.services[0]!.object, 'blue', { a: 'b' });
  assert.deepEqual((svc.spec as { selector: Record<string, string> }).selector, {
    app: 'web',
    'adci.dev/color': 'blue',
  });
  const hpa = colorHpa(
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' } },
    },
    'web',
    'blue',
  );
  assert.equal(hpa.metadata.name, 'web-blue');
  assert.equal((hpa.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name, 'web-blue');
});
test('specHash: changes with the image or spec, not with replicas or key order', () => {
  const found = findApp(parseManifestText(app, 'app.yaml'));
  const a = withImage(found.deployment.object, 'web:2', undefined);
  const b = structuredClone(a);
  (b.spec as { replicas: number }).replicas = 9;
  assert.equal(specHash(a), specHash(b));
  assert.notEqual(specHash(a), specHash(withImage(found.deployment.object, 'web:3', undefined)));
  const reordered = { ...a, spec: Object.fromEntries(Object.entries(a.spec as object).reverse()) };
  assert.equal(specHash(a), specHash(reordered));
});

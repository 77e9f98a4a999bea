// helm.ts's pure parts: who owns the live objects, the keep marks in a stored manifest, and helm's
// storage encoding (the real helm's records are read and written by the end-to-end adoption test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { decodeHelmRelease, encodeHelmRelease, helmOwnership, markKeptInManifest, retireAdvice } from './helm.ts';
import type { KubeObject } from './port.ts';

const owned = (kind: string, name: string, release = 'shop'): KubeObject => ({
  kind,
  metadata: {
    name,
    namespace: 'prod',
    labels: { 'app.kubernetes.io/managed-by': 'Helm' },
    annotations: { 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': 'prod' },
  },
});

test('helmOwnership: the release named by the live objects that Helm manages', () => {
  assert.equal(helmOwnership([undefined, { kind: 'Service', metadata: { name: 'web' } }]), undefined);
  // helm template renders the label too; only helm install/upgrade writes the release annotations.
  assert.equal(
    helmOwnership([{ kind: 'Service', metadata: { name: 'web', labels: { 'app.kubernetes.io/managed-by': 'Helm' } } }]),
    undefined,
  );
  assert.deepEqual(helmOwnership([owned('Deployment', 'web'), undefined, owned('Service', 'web')]), {
    release: 'shop',
    namespace: 'prod',
    objects: ['Deployment/web', 'Service/web'],
  });
});

const manifest = `---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    team: ads
spec:
  replicas: 2
---
# Source: web/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  annotations:
    helm.sh/resource-policy: keep
data: { A: "1" }
`;

test('markKeptInManifest marks only the listed objects, keeps the Source lines, and is idempotent', () => {
  const { manifest: out, marked } = markKeptInManifest(manifest, ['Service/web', 'ConfigMap/web-config']);
  assert.deepEqual(marked, ['Service/web']);
  const docs = parseAllDocuments(out)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((d): d is KubeObject => d !== null);
  assert.deepEqual(
    docs.map((d) => [d.kind, d.metadata.annotations?.['helm.sh/resource-policy']]),
    [
      ['Service', 'keep'],
      ['Deployment', undefined],
      ['ConfigMap', 'keep'],
    ],
  );
  assert.match(out, /# Source: web\/templates\/service\.yaml\n/);
  assert.match(out, /# Source: web\/templates\/deployment\.yaml\n/);
  assert.equal(markKeptInManifest(out, ['Service/web', 'ConfigMap/web-config']).marked.length, 0);
});

test("helm's record encoding round-trips, including records stored before compression", () => {
  const release = { name: 'shop', version: 3, manifest, info: { status: 'deployed' } };
  const encoded = encodeHelmRelease(release);
  assert.ok(
    Buffer.from(encoded, 'base64')
      .subarray(0, 2)
      .equals(Buffer.from([0x1f, 0x8b])),
  );
  assert.deepEqual(decodeHelmRelease(encoded), release);
  assert.deepEqual(decodeHelmRelease(Buffer.from(JSON.stringify(release)).toString('base64')), release);
  assert.deepEqual(decodeHelmRelease(gzipSync(JSON.stringify(release)).toString('base64')), release);
});

test('retireAdvice names the command and what it removes', () => {
  const ownership = { release: 'shop', namespace: 'prod', objects: ['Deployment/web', 'Service/web'] };
  assert.match(retireAdvice(ownership, 'web', true), /`helm uninstall shop -n prod`.*only the old Deployment web/);
  assert.match(
    retireAdvice(ownership, 'web', false),
    /would delete the Service.*`kubectl -n prod delete secret,configmap -l owner=helm,name=shop`/,
  );
});

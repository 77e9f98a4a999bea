// Unit tests of the blue-green engine's pure parts: manifests, colour objects, pod failure
// classification, endpoint judgement and permission rules. The sequence itself is tested end to
// end on the local cluster (test/e2e/blue-green-deploy.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorDeployment, colorHpa, serviceFor, specHash, withImage } from './colors.ts';
import { findApp, parseManifestText } from './manifests.ts';
import { allowedByRules } from './permissions.ts';
import { isAvailable, podFailure, type PodObject } from './readiness.ts';
import { judgeSlices, serviceProxyUrl } from './traffic.ts';

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

function pod(name: string, status: PodObject['status']): PodObject {
  return { metadata: { name }, status };
}

test('podFailure: fatal reasons at once, pull errors after their grace unless the registry said not found', () => {
  const options = { pullGraceMs: 20_000, unschedulableGraceMs: 10_000 };
  const crash = pod('p1', {
    containerStatuses: [
      {
        name: 'web',
        restartCount: 2,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } },
        lastState: { terminated: { exitCode: 3, reason: 'Error' } },
      },
    ],
  });
  assert.match(
    podFailure([crash], 0, new Map(), options)?.message ?? '',
    /pod p1, container web: CrashLoopBackOff: exited with code 3 \(Error\); restarted 2 times/,
  );
  const seen = new Map<string, number>();
  const transient = pod('p2', {
    containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ErrImagePull', message: 'i/o timeout' } } }],
  });
  assert.equal(podFailure([transient], 1000, seen, options), undefined);
  assert.match(podFailure([transient], 21_000, seen, options)?.message ?? '', /ErrImagePull: i\/o timeout/);
  const missing = pod('p3', {
    containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } } }],
  });
  assert.ok(podFailure([missing], 0, new Map(), options));
  const config = pod('p4', {
    initContainerStatuses: [
      { name: 'init', state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' } } },
    ],
  });
  assert.match(
    podFailure([config], 0, new Map(), options)?.message ?? '',
    /container init: CreateContainerConfigError/,
  );
  const syncing = pod('p5', {
    containerStatuses: [
      {
        name: 'web',
        state: { waiting: { reason: 'CreateContainerConfigError', message: 'failed to sync configmap cache' } },
      },
    ],
  });
  assert.equal(podFailure([syncing], 0, new Map(), options), undefined);
  // The Node authorizer may lag the pod's binding: the kubelet is refused the Secret for a moment and
  // retries. Seen for real (pipeline-jenkins test); transient, so it gets the grace, then is fatal.
  const lagging = pod('p7', {
    containerStatuses: [
      {
        name: 'web',
        state: {
          waiting: {
            reason: 'CreateContainerConfigError',
            message:
              'env API_TOKENS: secrets "ad-platform-tokens" is forbidden: User "system:node:adci-node" cannot get resource "secrets" in API group "" in the namespace "x": no relationship found between node \'adci-node\' and this object',
          },
        },
      },
    ],
  });
  const l = new Map<string, number>();
  assert.equal(podFailure([lagging], 0, l, options), undefined);
  assert.match(podFailure([lagging], 20_000, l, options)?.message ?? '', /CreateContainerConfigError: env API_TOKENS/);
  const unschedulable = pod('p6', {
    conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes' }],
  });
  const u = new Map<string, number>();
  assert.equal(podFailure([unschedulable], 0, u, options), undefined);
  assert.match(podFailure([unschedulable], 10_000, u, options)?.message ?? '', /Unschedulable: 0\/1 nodes/);
});

test('isAvailable: observedGeneration caught up, every replica updated and available, old ones gone', () => {
  const base = { metadata: { name: 'd', generation: 2 } };
  assert.equal(
    isAvailable(
      { ...base, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } },
      2,
    ),
    false,
  );
  assert.equal(
    isAvailable(
      { ...base, status: { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 } },
      2,
    ),
    false,
  );
  assert.equal(
    isAvailable(
      { ...base, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 } },
      2,
    ),
    false,
  );
  assert.equal(
    isAvailable(
      { ...base, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } },
      2,
    ),
    true,
  );
});

test('judgeSlices: only ready endpoints count; any other pod is reported', () => {
  const slices = [
    {
      metadata: { name: 's1' },
      endpoints: [
        { addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-green-1' } },
        { addresses: ['10.0.0.2'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'web-blue-1' } },
        { addresses: ['10.0.0.3'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-blue-2' } },
      ],
    },
  ];
  const report = judgeSlices('web', slices, (p) => p.startsWith('web-green'));
  assert.deepEqual(report, { service: 'web', ready: 2, readyNew: 1, readyOther: ['web-blue-2'] });
  assert.equal(
    serviceProxyUrl('https://k:6443', 'ns', {
      metadata: { name: 'web' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    }),
    'https://k:6443/api/v1/namespaces/ns/services/web:http/proxy/',
  );
});

test('allowedByRules: verbs, groups, resources and subresources, wildcards, never resourceNames', () => {
  const rules = [
    { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'services', 'services/proxy'] },
    { verbs: ['*'], apiGroups: ['apps'], resources: ['deployments'] },
    { verbs: ['update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['x'] },
  ];
  assert.equal(allowedByRules(rules, { verb: 'watch', group: '', resource: 'pods' }), true);
  assert.equal(allowedByRules(rules, { verb: 'patch', group: '', resource: 'services' }), false);
  assert.equal(allowedByRules(rules, { verb: 'get', group: '', resource: 'services', subresource: 'proxy' }), true);
  assert.equal(allowedByRules(rules, { verb: 'create', group: 'apps', resource: 'deployments' }), true);
  assert.equal(allowedByRules(rules, { verb: 'update', group: 'coordination.k8s.io', resource: 'leases' }), false);
});

test('proxyTransport: the kubeconfig identity, tls-server-name, insecure-skip-tls-verify and basic auth', async () => {
  const { KubeClient } = await import('./client.ts');
  const { proxyTransport } = await import('./checks.ts');
  const config = (cluster: string, user: string) => `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster:
      server: https://10.0.0.1:6443
${cluster}
users:
  - name: u
    user:
${user}
contexts:
  - name: x
    context: { cluster: c, user: u }
current-context: x
`;
  const named = await proxyTransport(
    await KubeClient.create({
      kubeconfig: config(
        '      certificate-authority-data: ' +
          Buffer.from('CA PEM').toString('base64') +
          '\n      tls-server-name: api.internal',
        '      token: abc.def',
      ),
    }),
  );
  assert.equal(named.tls?.servername, 'api.internal');
  assert.equal(named.tls?.ca, 'CA PEM');
  assert.equal(named.insecureTls, false);
  assert.equal(named.headers?.Authorization, 'Bearer abc.def');
  const basic = await proxyTransport(
    await KubeClient.create({
      kubeconfig: config('      insecure-skip-tls-verify: true', '      username: ops\n      password: s3cret'),
    }),
  );
  assert.equal(basic.insecureTls, true);
  assert.equal(basic.headers?.Authorization, `Basic ${Buffer.from('ops:s3cret').toString('base64')}`);
});

test('the common kubeconfig is read without client-node; exec users, proxies and unknown contexts are not', async () => {
  const { KubeClient } = await import('./client.ts');
  const { proxyTransport } = await import('./checks.ts');
  const config = (cluster: string, user: string) => `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster:
      server: https://10.0.0.1:6443/
${cluster}
users:
  - name: u
    user:
${user}
contexts:
  - name: x
    context: { cluster: c, user: u, namespace: shop }
  - name: y
    context: { cluster: c, user: u }
current-context: x
`;
  const ca = `      certificate-authority-data: ${Buffer.from('CA PEM').toString('base64')}`;
  const light = await KubeClient.create({ kubeconfig: config(ca, '      token: abc.def') });
  assert.equal(light.loader, 'adci');
  assert.equal(light.config, undefined);
  assert.equal(light.server, 'https://10.0.0.1:6443');
  assert.equal(light.contextNamespace, 'shop');
  assert.equal(
    (await KubeClient.create({ kubeconfig: config(ca, '      token: t'), context: 'y' })).contextNamespace,
    undefined,
  );
  // An exec plugin (and a proxy-url) is client-node's: the same answers, through it.
  const exec = '      exec: { apiVersion: client.authentication.k8s.io/v1, command: /bin/true }';
  const viaClientNode = await KubeClient.create({ kubeconfig: config(ca, exec) });
  assert.equal(viaClientNode.loader, 'client-node');
  assert.equal(viaClientNode.server, 'https://10.0.0.1:6443');
  assert.equal(viaClientNode.contextNamespace, 'shop');
  const proxied = await KubeClient.create({
    kubeconfig: config(`${ca}\n      proxy-url: http://proxy:3128`, '      token: abc.def'),
  });
  assert.equal(proxied.loader, 'client-node');
  assert.deepEqual(await proxyTransport(proxied), await proxyTransport(light));
  for (const kubeconfig of [config(ca, '      token: t'), config(ca, exec)]) {
    await assert.rejects(KubeClient.create({ kubeconfig, context: 'nope' }), {
      message: "context 'nope' is not in the kubeconfig (it has: x, y)",
    });
  }
});

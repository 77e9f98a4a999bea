// The probe's HTTP transport through the Kubernetes API server's service proxy, as blue-green-deploy
// reaches a preview without an ingress: a real pod behind a Service on the local cluster, reached
// with the kubeconfig's own CA and client certificate (admin), or a ServiceAccount's bearer token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { Redactor } from '@adci/common';
import {
  createHttpClient,
  parseChecksDocument,
  runSmoke,
  SMOKE_DEFAULTS,
  TransportError,
  type HttpClientOptions,
} from '@adci/probe';
import { applyManifest, clusterTestSkip, kubectlOk, testKubeconfig, useNamespace } from '../cluster/testing.ts';

const skip = clusterTestSkip();

interface Kubeconfig {
  'current-context': string;
  contexts: { name: string; context: { cluster: string; user: string } }[];
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users: {
    name: string;
    user: { 'client-certificate-data'?: string; 'client-key-data'?: string; token?: string };
  }[];
}

/** The API server and the transport options of a kubeconfig's current context, as the engine builds them. */
function transportOf(path: string): { server: string; options: HttpClientOptions; token?: string } {
  const config = parseYaml(readFileSync(path, 'utf8')) as Kubeconfig;
  const context = config.contexts.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters.find((c) => c.name === context?.cluster)?.cluster;
  const user = config.users.find((u) => u.name === context?.user)?.user;
  assert.ok(cluster && user, `${path}: no cluster or user for the current context`);
  const pem = (data: string | undefined) => (data ? Buffer.from(data, 'base64').toString('utf8') : undefined);
  const tls: NonNullable<HttpClientOptions['tls']> = {};
  const ca = pem(cluster['certificate-authority-data']);
  const cert = pem(user['client-certificate-data']);
  const key = pem(user['client-key-data']);
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  const options: HttpClientOptions = { tls };
  if (user.token) options.headers = { authorization: `Bearer ${user.token}` };
  return { server: cluster.server, options, ...(user.token ? { token: user.token } : {}) };
}

function echoApp(name: string): object[] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'echo',
                image: 'adci/echo:v7',
                env: [
                  { name: 'PORT', value: '8080' },
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                ],
                ports: [{ name: 'http', containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
  ];
}

const checksAndLoad = await parseChecksDocument(
  `checks:
  - name: root answers from the pod
    path: /some/path?q=1
    expect:
      status: 200
      json:
        $.tag: v7
      # The proxy strips its own prefix: the pod sees the path the check asked for.
      body-contains: '"path":"/some/path"'
load:
  connections: 2
  duration: 1s
  path: /
  thresholds: [ error_rate==0 ]
`,
  'checks',
);

test(
  'checks and a load phase reach a pod through the API server proxy with the admin client certificate',
  { skip, timeout: 180_000 },
  async (t) => {
    const ns = await useNamespace(t, 'adci-proxy');
    await applyManifest(ns, echoApp('echo'));
    await kubectlOk(['rollout', 'status', 'deployment/echo', '-n', ns.name, '--timeout=120s']);

    const { server, options } = transportOf(testKubeconfig() as string);
    assert.ok(options.tls?.cert && options.tls.key, 'the admin kubeconfig authenticates with a client certificate');
    const baseUrl = `${server}/api/v1/namespaces/${ns.name}/services/echo:http/proxy/`;
    const client = createHttpClient(options);
    try {
      const result = await runSmoke(
        {
          ...SMOKE_DEFAULTS,
          baseUrl,
          headers: {},
          checks: checksAndLoad.checks,
          load: checksAndLoad.load,
          waitFor: '/healthz',
          waitTimeoutMs: 60_000,
          waitIntervalMs: 500,
        },
        { client },
      );
      assert.equal(result.wait?.ready, true, JSON.stringify(result.wait));
      assert.deepEqual(
        result.checks.map((c) => [c.name, c.outcome]),
        [['root answers from the pod', 'passed']],
        JSON.stringify(result.checks),
      );
      assert.ok(result.load, 'the load phase ran');
      assert.ok(result.load.completed > 10, `only ${result.load.completed} load requests completed`);
      assert.equal(result.load.errors, 0, JSON.stringify(result.load.errorKinds));
      assert.equal(result.passed, true);
    } finally {
      await client.close();
    }

    // The credentials are what let it through: without the client certificate the API server says 401/403,
    // and without the cluster's CA the client refuses the API server's certificate.
    const anonymous = createHttpClient({ tls: { ca: options.tls.ca as string } });
    try {
      const response = await anonymous.send({ method: 'GET', url: new URL(baseUrl), headers: {}, timeoutMs: 10_000 });
      assert.ok(response.status === 401 || response.status === 403, `anonymous got ${response.status}`);
    } finally {
      await anonymous.close();
    }
    const untrusting = createHttpClient({ tls: { cert: options.tls.cert, key: options.tls.key } });
    try {
      await assert.rejects(
        untrusting.send({ method: 'GET', url: new URL(baseUrl), headers: {}, timeoutMs: 10_000 }),
        (error) => error instanceof TransportError && error.kind === 'tls',
      );
    } finally {
      await untrusting.close();
    }
  },
);

test(
  'a bearer token (a ServiceAccount allowed only services/proxy) reaches the pod and is masked in results',
  { skip, timeout: 180_000 },
  async (t) => {
    const ns = await useNamespace(t, 'adci-proxy-token');
    await applyManifest(ns, [
      ...echoApp('echo'),
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'prober' } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'service-proxy' },
        rules: [{ apiGroups: [''], resources: ['services/proxy'], verbs: ['get'] }],
      },
    ]);
    await kubectlOk(['rollout', 'status', 'deployment/echo', '-n', ns.name, '--timeout=120s']);
    const token = (await kubectlOk(['create', 'token', 'prober', '-n', ns.name, '--duration=10m'])).trim();
    const { server, options: admin } = transportOf(testKubeconfig() as string);
    const baseUrl = `${server}/api/v1/namespaces/${ns.name}/services/echo:http/proxy/`;
    const client = createHttpClient({
      tls: { ca: admin.tls?.ca as string },
      headers: { authorization: `Bearer ${token}` },
    });
    try {
      // Without the RoleBinding the token is known but not allowed: the API server names the permission.
      const denied = await client.send({ method: 'GET', url: new URL(baseUrl), headers: {}, timeoutMs: 10_000 });
      assert.equal(denied.status, 403);
      assert.match(
        denied.body,
        new RegExp(`system:serviceaccount:${ns.name}:prober.*cannot get resource .*services/proxy`),
      );

      await applyManifest(ns, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'prober-service-proxy' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'service-proxy' },
        subjects: [{ kind: 'ServiceAccount', name: 'prober', namespace: ns.name }],
      });
      const { checks } = await parseChecksDocument(
        // Fails on purpose, so that the result carries the pod's answer and a failure text.
        '- { name: wrong tag on purpose, path: /, expect: { json: { $.tag: v0 } } }\n',
        'checks',
      );
      const redactor = new Redactor();
      const result = await runSmoke(
        {
          ...SMOKE_DEFAULTS,
          baseUrl,
          headers: {},
          checks,
          // Until the RoleBinding reaches the API server's RBAC cache, the proxy still answers 403.
          waitFor: '/healthz',
          waitTimeoutMs: 60_000,
          waitIntervalMs: 250,
        },
        { client, redactor },
      );
      assert.equal(result.wait?.ready, true, JSON.stringify(result.wait));
      const check = result.checks[0];
      assert.equal(check?.outcome, 'failed');
      assert.match(JSON.stringify(check), /v7/, "the failure is about the pod's answer, so the pod was reached");
      assert.equal(redactor.redact(`x ${token} y`), 'x *** y', 'runSmoke registered the token as a secret');
      assert.doesNotMatch(JSON.stringify(result), new RegExp(token.slice(-24)));
    } finally {
      await client.close();
    }
  },
);

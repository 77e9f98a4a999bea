// Conformance of the test cluster: what later tests rely on, proved with the real kubectl
// against the running cluster (the local one from `npm run cluster -- up`, or
// ADCI_TEST_KUBECONFIG). Each test works in its own namespace and removes it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { nodeAddress, restrictedKubeconfig, restrictedNamespace } from '../cluster/kubeconfig.ts';
import {
  applyManifest,
  clusterTestSkip,
  kubectl,
  kubectlJson,
  kubectlOk,
  missingClusterReason,
  nodePortOf,
  useNamespace as createTestNamespace,
  waitFor,
} from '../cluster/testing.ts';

const unavailable = missingClusterReason();
const skip = clusterTestSkip();
const testTimeout = 240_000;

/** A namespace `adci-conf-<purpose>-<random>` for one test, deleted (and waited for) when it ends. */
async function useNamespace(t: TestContext, purpose: string): Promise<string> {
  return (await createTestNamespace(t, `adci-conf-${purpose}`)).name;
}

/** One HTTP GET on a fresh connection, so the proxy balances each request anew. */
function getOnce(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

function echoDeployment(name: string, replicas: number, env: Record<string, string> = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'echo',
              image: 'adci/echo:v1',
              env: [
                { name: 'PORT', value: '8080' },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                ...Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
              ],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

function podManifest(name: string, image: string, env: Record<string, string> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'main', image, env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })) }],
    },
  };
}

interface ContainerStatus {
  restartCount: number;
  state?: { waiting?: { reason?: string; message?: string } };
}

async function waitForWaitingReason(
  ns: string,
  pod: string,
  reason: string,
  timeoutMs: number,
): Promise<ContainerStatus> {
  return waitFor(
    `pod ${pod} to show ${reason}`,
    async () => {
      const { status } = await kubectlJson<{ status?: { containerStatuses?: ContainerStatus[] } }>([
        'get',
        'pod',
        pod,
        '-n',
        ns,
      ]);
      const container = status?.containerStatuses?.[0];
      return container?.state?.waiting?.reason === reason ? container : undefined;
    },
    { timeoutMs },
  );
}

test('cluster is available', { skip }, () => {
  assert.equal(unavailable, undefined, unavailable);
});

test(
  'a Deployment behind a NodePort Service rolls out and serves from every pod',
  { skip, timeout: testTimeout },
  async (t) => {
    const ns = await useNamespace(t, 'deploy');
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo' },
      spec: { type: 'NodePort', selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    };
    await applyManifest(ns, [echoDeployment('echo', 3), service]);
    await kubectlOk(['rollout', 'status', 'deployment/echo', '-n', ns, '--timeout=120s']);

    const readyEndpoints = await waitFor(
      '3 ready endpoints in the EndpointSlices',
      async () => {
        const slices = await kubectlJson<{
          items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[];
        }>(['get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=echo']);
        const ready = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready === true);
        return ready.length === 3 ? ready : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(new Set(readyEndpoints.map((e) => e.addresses[0])).size, 3, 'each pod has its own IP');

    const podsOut = await kubectlOk([
      'get',
      'pods',
      '-n',
      ns,
      '-l',
      'app=echo',
      '-o',
      'jsonpath={.items[*].metadata.name}',
    ]);
    const podNames = new Set(podsOut.trim().split(/\s+/));
    assert.equal(podNames.size, 3);

    const url = `http://${nodeAddress()}:${await nodePortOf(ns, 'echo', 'http')}/`;

    // The proxy acts on EndpointSlice changes after its propagation delay; wait until it routes to all three.
    await waitFor(
      'the NodePort to reach all three pods',
      async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 9; i++) seen.add((JSON.parse((await getOnce(url)).body) as { pod: string }).pod);
        return seen.size === 3;
      },
      { timeoutMs: 30_000 },
    );

    const reached = new Map<string, number>();
    const failures: string[] = [];
    for (let i = 0; i < 100; i++) {
      try {
        const res = await getOnce(url);
        if (res.status !== 200) {
          failures.push(`request ${i}: HTTP ${res.status}`);
          continue;
        }
        const pod = (JSON.parse(res.body) as { pod: string }).pod;
        reached.set(pod, (reached.get(pod) ?? 0) + 1);
      } catch (err) {
        failures.push(`request ${i}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    assert.deepEqual(failures, [], 'all 100 requests through the NodePort succeed');
    assert.deepEqual(
      new Set(reached.keys()),
      podNames,
      `requests reach all three pods: ${JSON.stringify([...reached])}`,
    );
  },
);

test('an image missing from the image map shows ImagePullBackOff', { skip, timeout: testTimeout }, async (t) => {
  const ns = await useNamespace(t, 'pull');
  await applyManifest(ns, podManifest('missing', 'adci/not-in-the-map:0.0.1'));
  const status = await waitForWaitingReason(ns, 'missing', 'ImagePullBackOff', 90_000);
  assert.match(status.state?.waiting?.message ?? '', /not-in-the-map/);
  const phase = await kubectlOk(['get', 'pod', 'missing', '-n', ns, '-o', 'jsonpath={.status.phase}']);
  assert.equal(phase, 'Pending');
});

test('a process that keeps exiting shows CrashLoopBackOff', { skip, timeout: testTimeout }, async (t) => {
  const ns = await useNamespace(t, 'crash');
  await applyManifest(ns, podManifest('crasher', 'adci/echo:v1', { EXIT_AFTER_MS: '200', EXIT_CODE: '3' }));
  const status = await waitForWaitingReason(ns, 'crasher', 'CrashLoopBackOff', 120_000);
  assert.ok(status.restartCount >= 1, `restartCount ${status.restartCount} >= 1`);
  const out = await kubectlOk([
    'get',
    'pod',
    'crasher',
    '-n',
    ns,
    '-o',
    'jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}',
  ]);
  assert.equal(out, '3', 'the last termination records the exit code');
});

test(
  'pod deletion stops the process with SIGTERM, SIGKILL after the grace period, and finishes',
  { skip, timeout: testTimeout },
  async (t) => {
    const ns = await useNamespace(t, 'delete');
    const polite = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'polite' },
      spec: { terminationGracePeriodSeconds: 60, containers: [{ name: 'main', image: 'adci/echo:v1' }] },
    };
    const stubborn = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stubborn' },
      spec: {
        terminationGracePeriodSeconds: 3,
        containers: [
          {
            name: 'main',
            image: 'adci/echo:v1',
            command: ['/bin/sh', '-c', "trap '' TERM; while true; do sleep 1; done"],
          },
        ],
      },
    };
    await applyManifest(ns, [polite, stubborn]);
    await kubectlOk([
      'wait',
      '-n',
      ns,
      '--for=jsonpath={.status.phase}=Running',
      'pod/polite',
      'pod/stubborn',
      '--timeout=60s',
    ]);

    // The echo server exits on SIGTERM, so deletion ends long before its 60 s grace period.
    let started = Date.now();
    await kubectlOk(['delete', 'pod', 'polite', '-n', ns, '--wait=true', '--timeout=30s']);
    assert.ok(Date.now() - started < 20_000, `polite pod deleted in ${Date.now() - started} ms`);

    // A process that ignores SIGTERM is killed when its 3 s grace period ends.
    started = Date.now();
    await kubectlOk(['delete', 'pod', 'stubborn', '-n', ns, '--wait=true', '--timeout=30s']);
    const took = Date.now() - started;
    assert.ok(took >= 2_500 && took < 20_000, `stubborn pod deleted after its grace period (${took} ms)`);
    assert.equal((await kubectlOk(['get', 'pods', '-n', ns, '-o', 'name'])).trim(), '');
  },
);

test(
  "changing a Deployment's selector is rejected by the API server with 422",
  { skip, timeout: testTimeout },
  async (t) => {
    const ns = await useNamespace(t, 'selector');
    await applyManifest(ns, echoDeployment('echo', 1));
    const result = await kubectl([
      'patch',
      'deployment',
      'echo',
      '-n',
      ns,
      '--type=merge',
      '-v=6',
      '-p',
      JSON.stringify({
        spec: { selector: { matchLabels: { app: 'other' } }, template: { metadata: { labels: { app: 'other' } } } },
      }),
    ]);
    assert.notEqual(result.code, 0, 'kubectl patch must fail');
    assert.match(result.stderr, /\b422 Unprocessable Entity\b/, 'the API server answers 422');
    assert.match(result.stderr, /spec\.selector.*field is immutable/);
  },
);

test(
  'the restricted user gets 403 outside its namespace and works inside it',
  { skip, timeout: testTimeout },
  async (t) => {
    const kubeconfig = restrictedKubeconfig();
    if (!kubeconfig) {
      if (process.env.CI)
        assert.fail('no restricted kubeconfig (set ADCI_TEST_RESTRICTED_KUBECONFIG for an external cluster)');
      t.skip('no restricted kubeconfig: set ADCI_TEST_RESTRICTED_KUBECONFIG for an external cluster');
      return;
    }
    const ns = await useNamespace(t, 'rbac');
    const denied = await kubectl(['get', 'pods', '-n', ns, '-v=6'], { kubeconfig });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /\b403 Forbidden\b/, 'the API server answers 403');
    assert.match(
      denied.stderr,
      /Error from server \(Forbidden\): pods is forbidden: User "[^"]+" cannot list resource "pods"/,
    );
    const allowed = await kubectl(['get', 'pods', '-n', restrictedNamespace()], { kubeconfig });
    assert.equal(allowed.code, 0, `the restricted user can work in ${restrictedNamespace()}: ${allowed.stderr}`);
  },
);

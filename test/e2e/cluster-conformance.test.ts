// Conformance of the test cluster: what later tests rely on, proved with the real kubectl
// against the running cluster (the local one from `npm run cluster -- up`, or
// ADCI_TEST_KUBECONFIG). Each test works in its own namespace and removes it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import {
  kubectlBinary,
  missingClusterReason,
  nodeAddress,
  restrictedKubeconfig,
  restrictedNamespace,
  testKubeconfig,
} from '../cluster/kubeconfig.ts';

const unavailable = missingClusterReason();
// Outside CI a missing cluster skips these tests; in CI it fails them.
const skip = unavailable && !process.env.CI ? unavailable : false;
const testTimeout = 240_000;

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(
  args: string[],
  options: { kubeconfig?: string; input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  const kubeconfig = options.kubeconfig ?? testKubeconfig();
  if (!kubeconfig) throw new Error(unavailable);
  return new Promise((resolvePromise) => {
    const child = execFile(
      kubectlBinary(),
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: options.timeoutMs ?? 150_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

async function kubectlOk(
  args: string[],
  options: { kubeconfig?: string; input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const result = await kubectl(args, options);
  assert.equal(
    result.code,
    0,
    `kubectl ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr}${result.stdout}`,
  );
  return result.stdout;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(500);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${last}` : ''}`);
}

/** Creates a namespace for one test and deletes it (waiting for its pods to go) afterwards. */
async function useNamespace(t: TestContext, purpose: string): Promise<string> {
  const name = `adci-conf-${purpose}-${randomBytes(3).toString('hex')}`;
  await kubectlOk(['create', 'namespace', name]);
  t.after(async () => {
    const result = await kubectl(['delete', 'namespace', name, '--wait=true', '--timeout=90s']);
    if (result.code !== 0) t.diagnostic(`namespace ${name} cleanup: ${result.stderr.trim()}`);
  });
  // Pods are refused until the namespace's default ServiceAccount exists.
  await eventually(`ServiceAccount default in ${name}`, 30_000, async () =>
    (await kubectl(['get', 'serviceaccount', 'default', '-n', name])).code === 0 ? true : undefined,
  );
  return name;
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
  return eventually(`pod ${pod} to show ${reason}`, timeoutMs, async () => {
    const out = await kubectlOk(['get', 'pod', pod, '-n', ns, '-o', 'json']);
    const status = (JSON.parse(out) as { status?: { containerStatuses?: ContainerStatus[] } }).status;
    const container = status?.containerStatuses?.[0];
    return container?.state?.waiting?.reason === reason ? container : undefined;
  });
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
    const manifest = { apiVersion: 'v1', kind: 'List', items: [echoDeployment('echo', 3), service] };
    await kubectlOk(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(manifest) });
    await kubectlOk(['rollout', 'status', 'deployment/echo', '-n', ns, '--timeout=120s']);

    const readyEndpoints = await eventually('3 ready endpoints in the EndpointSlices', 30_000, async () => {
      const out = await kubectlOk([
        'get',
        'endpointslices',
        '-n',
        ns,
        '-l',
        'kubernetes.io/service-name=echo',
        '-o',
        'json',
      ]);
      const slices = JSON.parse(out) as {
        items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[];
      };
      const ready = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready === true);
      return ready.length === 3 ? ready : undefined;
    });
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

    const nodePort = (
      await kubectlOk(['get', 'service', 'echo', '-n', ns, '-o', 'jsonpath={.spec.ports[0].nodePort}'])
    ).trim();
    assert.match(nodePort, /^\d+$/);
    const url = `http://${nodeAddress()}:${nodePort}/`;

    // The proxy acts on EndpointSlice changes after its propagation delay; wait until it routes to all three.
    await eventually('the NodePort to reach all three pods', 30_000, async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 9; i++) seen.add((JSON.parse((await getOnce(url)).body) as { pod: string }).pod);
      return seen.size === 3 ? true : undefined;
    });

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
  await kubectlOk(['apply', '-n', ns, '-f', '-'], {
    input: JSON.stringify(podManifest('missing', 'adci/not-in-the-map:0.0.1')),
  });
  const status = await waitForWaitingReason(ns, 'missing', 'ImagePullBackOff', 90_000);
  assert.match(status.state?.waiting?.message ?? '', /not-in-the-map/);
  const phase = await kubectlOk(['get', 'pod', 'missing', '-n', ns, '-o', 'jsonpath={.status.phase}']);
  assert.equal(phase, 'Pending');
});

test('a process that keeps exiting shows CrashLoopBackOff', { skip, timeout: testTimeout }, async (t) => {
  const ns = await useNamespace(t, 'crash');
  await kubectlOk(['apply', '-n', ns, '-f', '-'], {
    input: JSON.stringify(podManifest('crasher', 'adci/echo:v1', { EXIT_AFTER_MS: '200', EXIT_CODE: '3' })),
  });
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
    await kubectlOk(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [polite, stubborn] }),
    });
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
    await kubectlOk(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(echoDeployment('echo', 1)) });
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

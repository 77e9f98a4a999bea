// blue-green-deploy end to end: the built bundle, run by the runner harness, against the local
// Kubernetes cluster, with real traffic through the NodePort while it switches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trafficDuring } from '../cluster/traffic.ts';
import { runActionBundle, type ActionResult } from '../runner/index.ts';
import {
  clusterTestSkip,
  createNamespace,
  kubectlJson,
  kubectlOk,
  nodePortOf,
  type TestNamespace,
} from '../cluster/testing.ts';
import { testKubeconfig } from '../cluster/kubeconfig.ts';
import { startFakeGitHub, type FakeDeployment, type FakeGitHub } from '../fakes/github-api.ts';

const skip = clusterTestSkip();
const work = mkdtempSync(join(tmpdir(), 'adci-bg-'));

interface AppOptions {
  name?: string;
  replicas?: number;
  env?: Record<string, string>;
  extraService?: boolean;
  hpa?: boolean;
}

/** A plain Deployment + NodePort Service, as a team would write them for kubectl apply. */
function manifest(options: AppOptions = {}): string {
  const name = options.name ?? 'web';
  const env = Object.entries({ SHUTDOWN_DELAY_MS: '3000', ...options.env })
    .map(([k, v]) => `            - { name: ${k}, value: "${v}" }`)
    .join('\n');
  const docs = [
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  replicas: ${options.replicas ?? 2}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name}, tier: web }
    spec:
      terminationGracePeriodSeconds: 15
      securityContext: { runAsNonRoot: false }
      containers:
        - name: web
          image: adci/echo:v1
          env:
${env}
          ports: [{ containerPort: 8080, name: http }]
          resources: { requests: { cpu: 10m, memory: 32Mi }, limits: { memory: 128Mi } }
          readinessProbe:
            httpGet: { path: /healthz, port: 8080 }
            periodSeconds: 1
          livenessProbe:
            httpGet: { path: /livez, port: 8080 }
            periodSeconds: 5`,
    `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  type: NodePort
  selector: { app: ${name} }
  ports: [{ name: http, port: 80, targetPort: 8080 }]`,
  ];
  if (options.extraService) {
    docs.push(`apiVersion: v1
kind: Service
metadata:
  name: ${name}-internal
spec:
  selector: { app: ${name}, tier: web }
  ports: [{ name: http, port: 8080, targetPort: 8080 }]`);
  }
  if (options.hpa) {
    docs.push(`apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: ${name}
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: ${name} }
  minReplicas: 2
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 80 } }`);
  }
  return `${docs.join('\n---\n')}\n`;
}

function writeManifest(file: string, text: string): string {
  const path = join(work, file);
  writeFileSync(path, text);
  return path;
}

/** Waits until the NodePort serves (kube-proxy applies endpoint changes about 1 s late). */
async function answers(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers on NodePort ${port}`);
}

const kubeconfigText = (): string => readFileSync(testKubeconfig() ?? '', 'utf8');

async function deploy(
  ns: TestNamespace,
  inputs: Record<string, string>,
  options: { cancelOn?: RegExp } = {},
): Promise<ActionResult> {
  return runActionBundle('blue-green-deploy', {
    with: {
      kubeconfig: kubeconfigText(),
      namespace: ns.name,
      'post-promotion-window': '1s',
      'scale-down-delay': '1s',
      timeout: '90s',
      ...inputs,
    },
    timeoutMs: 240_000,
    ...(options.cancelOn ? { cancelOn: options.cancelOn } : {}),
  });
}

function failure(result: ActionResult): string {
  return result.annotations
    .filter((a) => a.level === 'error')
    .map((a) => a.message)
    .join('\n');
}

interface ServiceJson {
  spec: { selector: Record<string, string> };
  metadata: { annotations?: Record<string, string> };
}
interface DeploymentJson {
  spec: { replicas: number };
  status?: { availableReplicas?: number };
}

async function selectorColor(ns: TestNamespace, service = 'web'): Promise<string | undefined> {
  const svc = await kubectlJson<ServiceJson>(['-n', ns.name, 'get', 'service', service]);
  return svc.spec.selector['adci.dev/color'];
}

async function replicas(ns: TestNamespace, deployment: string): Promise<number> {
  return (await kubectlJson<DeploymentJson>(['-n', ns.name, 'get', 'deployment', deployment])).spec.replicas;
}

function assertNoLeak(result: ActionResult): void {
  const config = kubeconfigText();
  const secrets = [
    ...config.matchAll(/["']?(?:client-key-data|client-certificate-data|token)["']?:\s*["']?([^"'\s,]+)/g),
  ].map((m) => m[1] ?? '');
  for (const secret of secrets.filter((s) => s.length > 20)) {
    for (const [where, text] of Object.entries({ log: result.log, stderr: result.stderr, summary: result.summary })) {
      assert.ok(!text.includes(secret), `a kubeconfig secret reached the ${where}`);
    }
  }
}

describe('blue-green-deploy on the local cluster', { skip, concurrency: false, timeout: 900_000 }, () => {
  let ns: TestNamespace;
  before(async () => {
    ns = await createNamespace('bg');
  });
  after(async () => {
    await ns?.remove();
  });

  test('first deploy, then v1 -> v2 under 300 req/s through the NodePort: zero failed requests', async () => {
    const file = writeManifest('web.yaml', manifest({ extraService: true }));
    const first = await deploy(ns, { manifests: file, image: 'adci/echo:v1' });
    assert.equal(first.exitCode, 0, failure(first) + first.stderr);
    assert.equal(first.outputs.result, 'promoted');
    assert.equal(first.outputs['active-color'], 'blue');
    assertNoLeak(first);
    assert.equal(await selectorColor(ns), 'blue');
    assert.equal(await selectorColor(ns, 'web-internal'), 'blue');

    const port = await nodePortOf(ns, 'web');
    const load = trafficDuring(port, 300, 45_000);
    await new Promise((r) => setTimeout(r, 2000));
    const second = await deploy(ns, {
      manifests: file,
      image: 'adci/echo:v2',
      'post-promotion-window': '5s',
      'scale-down-delay': '8s',
    });
    const stats = await load;
    assert.equal(second.exitCode, 0, failure(second) + second.stderr);
    assert.equal(second.outputs.result, 'promoted');
    assert.equal(second.outputs['active-color'], 'green');
    assert.equal(second.outputs['previous-color'], 'blue');
    assert.ok(stats.completed >= 10_000, `only ${stats.completed} requests completed`);
    assert.equal(stats.errors, 0, `failed requests during the switch: ${JSON.stringify(stats)}`);
    assert.equal(await selectorColor(ns), 'green');
    assert.equal(await selectorColor(ns, 'web-internal'), 'green');
    assert.equal(await replicas(ns, 'web-blue'), 0);
    const drain = /✔ drain \((\d+\.\d+) s\)/.exec(second.log);
    assert.ok(drain && Number(drain[1]) >= 7.9, `the old colour was scaled down before the drain delay: ${drain?.[0]}`);
    assert.match(second.summary, /Endpoint verification/);
    assert.match(second.summary, /gantt/);
  });

  test('same image again is unchanged', async () => {
    const file = join(work, 'web.yaml');
    const again = await deploy(ns, { manifests: file, image: 'adci/echo:v2' });
    assert.equal(again.exitCode, 0, failure(again));
    assert.equal(again.outputs.result, 'unchanged');
    assert.equal(await selectorColor(ns), 'green');
  });

  test('a missing image fails fast with the pod reason; traffic stays; the failed colour is scaled down', async () => {
    const file = join(work, 'web.yaml');
    const started = Date.now();
    const result = await deploy(ns, { manifests: file, image: 'adci/does-not-exist:v9', timeout: '5m' });
    const took = Date.now() - started;
    assert.equal(result.exitCode, 1);
    assert.match(failure(result), /ErrImagePull|ImagePullBackOff/);
    assert.match(failure(result), /pod web-blue-/);
    assert.ok(took < 30_000, `took ${took} ms`);
    assert.equal(await selectorColor(ns), 'green');
    assert.equal(await replicas(ns, 'web-blue'), 0);
    assert.equal(result.outputs.result, 'failed');
  });

  test('a crashing container fails fast with CrashLoopBackOff', async () => {
    const file = writeManifest('crash.yaml', manifest({ env: { EXIT_AFTER_MS: '300', EXIT_CODE: '3' } }));
    const started = Date.now();
    const result = await deploy(ns, { manifests: file, image: 'adci/echo:v3', timeout: '5m' });
    assert.equal(result.exitCode, 1);
    assert.match(failure(result), /CrashLoopBackOff/);
    assert.ok(Date.now() - started < 30_000);
    assert.equal(await selectorColor(ns), 'green');
    assert.equal(await replicas(ns, 'web-blue'), 0);
  });

  test('auto-promote false stops at preview-ready; promote switches; rollback returns; abort drops a preview', async () => {
    const file = join(work, 'web.yaml');
    const preview = await deploy(ns, { manifests: file, image: 'adci/echo:v4', 'auto-promote': 'false' });
    assert.equal(preview.exitCode, 0, failure(preview));
    assert.equal(preview.outputs.result, 'preview-ready');
    assert.equal(await selectorColor(ns), 'green');
    const promoted = await deploy(ns, { manifests: file, action: 'promote' });
    assert.equal(promoted.exitCode, 0, failure(promoted));
    assert.equal(promoted.outputs.result, 'promoted');
    assert.equal(await selectorColor(ns), 'blue');
    assert.equal(await replicas(ns, 'web-green'), 0);

    const rolled = await deploy(ns, { manifests: file, action: 'rollback' });
    assert.equal(rolled.exitCode, 0, failure(rolled));
    assert.equal(rolled.outputs.result, 'rolled-back');
    assert.equal(rolled.outputs['active-color'], 'green');
    assert.equal(await selectorColor(ns), 'green');

    const again = await deploy(ns, { manifests: file, image: 'adci/echo:v5', 'auto-promote': 'false' });
    assert.equal(again.outputs.result, 'preview-ready', failure(again));
    const aborted = await deploy(ns, { manifests: file, action: 'abort' });
    assert.equal(aborted.exitCode, 0, failure(aborted));
    assert.equal(aborted.outputs.result, 'aborted');
    assert.equal(await replicas(ns, 'web-blue'), 0);
    assert.equal(await selectorColor(ns), 'green');
    const status = await deploy(ns, { manifests: file, action: 'status' });
    assert.equal(status.outputs.result, 'status');
    assert.equal(status.outputs['active-color'], 'green');
  });

  test('two deploys at once: the second waits for the lock; with a short lock-timeout it names the holder', async () => {
    const file = join(work, 'web.yaml');
    const [a, b] = await Promise.all([
      deploy(ns, { manifests: file, image: 'adci/echo:v6', 'post-promotion-window': '4s' }),
      new Promise((r) => setTimeout(r, 1500)).then(() =>
        deploy(ns, { manifests: file, image: 'adci/echo:v6', 'lock-timeout': '1s' }),
      ),
    ]);
    assert.equal(a.exitCode, 0, failure(a));
    assert.equal(b.exitCode, 1);
    assert.match(failure(b), /lock adci-lock-web is held by .*pid \d+/);
    const c = await deploy(ns, { manifests: file, image: 'adci/echo:v6' });
    assert.equal(c.outputs.result, 'unchanged', failure(c));
  });

  test('checks through the API server proxy: a failing pre-promotion check never switches; a failing post-promotion check rolls back', async () => {
    const file = join(work, 'web.yaml');
    // A release is good when it reports a version tag like v8; `adci/echo:bad` reports "bad".
    const checks = writeManifest(
      'checks.yaml',
      'checks:\n  - name: reports its version\n    path: /\n    expect: { status: 200, json: { $.tag: "/^v[0-9]+$/" } }\n',
    );
    const before = await selectorColor(ns);
    const pre = await deploy(ns, { manifests: file, image: 'adci/echo:bad', 'pre-promotion-checks': checks });
    assert.equal(pre.exitCode, 1);
    assert.match(failure(pre), /pre-promotion checks failed on (blue|green): reports its version: json \$\.tag/);
    assert.match(
      pre.outputs['preview-url'] ?? '',
      /\/api\/v1\/namespaces\/bg-[0-9a-f]+\/services\/web-preview:http\/proxy\/$/,
    );
    assert.equal(await selectorColor(ns), before, 'no switch');
    assertNoLeak(pre);

    const good = await deploy(ns, {
      manifests: file,
      image: 'adci/echo:v8',
      'pre-promotion-checks': checks,
      'post-promotion-checks': checks,
      'post-promotion-window': '3s',
    });
    assert.equal(good.exitCode, 0, failure(good));
    assert.equal(good.outputs.result, 'promoted');
    const active = good.outputs['active-color'];

    // The post-promotion checks see the bad version only after the switch: it must roll back.
    const post = await deploy(ns, {
      manifests: file,
      image: 'adci/echo:bad',
      'post-promotion-checks': checks,
      'post-promotion-window': '3s',
    });
    assert.equal(post.exitCode, 1);
    assert.equal(post.outputs.result, 'rolled-back');
    assert.equal(post.outputs['active-color'], active);
    assert.match(failure(post), /rolled back to (blue|green): post-promotion checks failed/);
    assert.match(post.summary, /Why it rolled back/);
    assert.equal(await selectorColor(ns), active);
  });

  test('SIGINT at each phase leaves a consistent state and a released lock; a re-run succeeds', async () => {
    const file = join(work, 'web.yaml');
    let tag = 20;
    for (const phase of ['lock', 'plan', 'apply', 'wait-ready', 'switch', 'verify-endpoints', 'post-check', 'drain']) {
      tag++;
      const before = await selectorColor(ns);
      const cancelled = await deploy(
        ns,
        { manifests: file, image: `adci/echo:v${tag}`, 'post-promotion-window': '3s', 'scale-down-delay': '3s' },
        { cancelOn: new RegExp(`^▶ ${phase}$`) },
      );
      assert.notEqual(cancelled.exitCode, 0, `${phase}: the step was cancelled`);
      const service = await kubectlJson<ServiceJson>(['-n', ns.name, 'get', 'service', 'web']);
      const color = service.spec.selector['adci.dev/color'];
      assert.ok(color === 'blue' || color === 'green', `${phase}: the selector names one colour`);
      assert.equal(service.metadata.annotations?.['adci.dev/active-color'], color, `${phase}: the annotation agrees`);
      const live = await kubectlJson<DeploymentJson>(['-n', ns.name, 'get', 'deployment', `web-${color}`]);
      assert.ok((live.status?.availableReplicas ?? 0) >= 2, `${phase}: traffic is on an available colour`);
      if (['lock', 'plan', 'apply', 'wait-ready'].includes(phase))
        assert.equal(color, before, `${phase}: traffic untouched`);
      const leases = await kubectlOk(['-n', ns.name, 'get', 'leases', '-o', 'name']);
      assert.equal(leases.trim(), '', `${phase}: the lock was released`);
      const rerun = await deploy(ns, { manifests: file, image: `adci/echo:v${tag}` });
      assert.equal(rerun.exitCode, 0, `${phase}: re-run: ${failure(rerun)}`);
      assert.ok(['promoted', 'unchanged'].includes(rerun.outputs.result ?? ''), `${phase}: ${rerun.outputs.result}`);
    }
  });

  test('bad manifests are rejected before anything changes', async () => {
    const cases: [string, string, RegExp][] = [
      ['no-deployment.yaml', manifest().split('---')[1] ?? '', /no Deployment/],
      ['two.yaml', `${manifest()}---\n${manifest({ name: 'other' }).split('---')[0]}`, /more than one Deployment/],
      [
        'selects-nothing.yaml',
        manifest().replace('selector: { app: web }\n  ports', 'selector: { app: nope }\n  ports'),
        /selects nothing/,
      ],
      ['invalid.yaml', manifest().replace('replicas: 2', 'replicas: [2'), /invalid\.yaml:\d+:\d+: invalid YAML/],
      [
        'unknown-field.yaml',
        manifest().replace('replicas: 2', 'replicas: 2\n  replicaz: 3'),
        /unknown-field\.yaml:1: Deployment\/web is rejected by the API server: .*replicaz: field not declared in schema/,
      ],
    ];
    const before = await selectorColor(ns);
    for (const [name, text, pattern] of cases) {
      const result = await deploy(ns, { manifests: writeManifest(name, text), image: 'adci/echo:v7' });
      assert.equal(result.exitCode, 1, name);
      assert.match(failure(result), pattern, name);
    }
    assert.equal(await selectorColor(ns), before);
  });
});

describe('blue-green-deploy adoption and permissions', { skip, concurrency: false, timeout: 600_000 }, () => {
  test('adopts a plain kubectl-applied Deployment under load with zero failed requests', async () => {
    const ns = await createNamespace('bg-adopt');
    try {
      const text = manifest({ name: 'shop' });
      await kubectlOk(['-n', ns.name, 'apply', '-f', '-'], { input: text });
      await kubectlOk(['-n', ns.name, 'rollout', 'status', 'deployment/shop', '--timeout=90s']);
      const port = await nodePortOf(ns, 'shop');
      await answers(port);
      const load = trafficDuring(port, 200, 20_000);
      await new Promise((r) => setTimeout(r, 1000));
      const result = await deploy(ns, {
        manifests: writeManifest('shop.yaml', text),
        image: 'adci/echo:v2',
        'scale-down-delay': '6s',
      });
      const stats = await load;
      assert.equal(result.exitCode, 0, failure(result));
      assert.equal(result.outputs['previous-color'], 'legacy');
      assert.equal(await selectorColor(ns, 'shop'), 'blue');
      assert.equal(await replicas(ns, 'shop'), 0);
      assert.equal(stats.errors, 0, JSON.stringify(stats));
      assert.ok(stats.completed >= 3000);
    } finally {
      await ns.remove();
    }
  });

  test('an HPA follows the active colour, and the idle colour is sized from the live replica count', async () => {
    const ns = await createNamespace('bg-hpa');
    try {
      const file = writeManifest('api.yaml', manifest({ name: 'api', hpa: true }));
      const first = await deploy(ns, { manifests: file, image: 'adci/echo:v1' });
      assert.equal(first.exitCode, 0, failure(first));
      const hpa = await kubectlJson<{ spec: { scaleTargetRef: { name: string } } }>([
        '-n',
        ns.name,
        'get',
        'hpa',
        'api-blue',
      ]);
      assert.equal(hpa.spec.scaleTargetRef.name, 'api-blue');
      // As the autoscaler would under load: the live colour runs 3, not the manifest's 2.
      await kubectlOk(['-n', ns.name, 'scale', 'deployment/api-blue', '--replicas=3']);
      const second = await deploy(ns, { manifests: file, image: 'adci/echo:v2' });
      assert.equal(second.exitCode, 0, failure(second));
      assert.equal(await replicas(ns, 'api-green'), 3);
      const names = await kubectlOk(['-n', ns.name, 'get', 'hpa', '-o', 'name']);
      assert.deepEqual(names.trim().split('\n'), ['horizontalpodautoscaler.autoscaling/api-green']);
    } finally {
      await ns.remove();
    }
  });

  test('the restricted user gets an error naming the missing permission, and nothing changes', async () => {
    // The restricted user may deploy in its own namespace only; here it tries another one.
    const { restrictedKubeconfig } = await import('../cluster/kubeconfig.ts');
    const config = restrictedKubeconfig();
    assert.ok(config, 'the cluster has a restricted user');
    const ns = await createNamespace('bg-rbac');
    const result = await runActionBundle('blue-green-deploy', {
      with: {
        kubeconfig: readFileSync(config, 'utf8'),
        namespace: ns.name,
        manifests: writeManifest('restricted.yaml', manifest({ name: 'limited' })),
        image: 'adci/echo:v1',
      },
      timeoutMs: 60_000,
    });
    try {
      assert.equal(result.exitCode, 1);
      assert.match(
        failure(result),
        new RegExp(
          `may not create leases.coordination.k8s.io, .*get deployments.apps.* in namespace ${ns.name}; nothing was changed`,
        ),
      );
      const left = await kubectlOk(['-n', ns.name, 'get', 'deployments,leases', '-o', 'name']);
      assert.equal(left.trim(), '', 'nothing was created');
    } finally {
      await ns.remove();
    }
  });
});

describe('blue-green-deploy records GitHub Deployments', { skip, concurrency: false, timeout: 600_000 }, () => {
  const OWNER = 'adci-org';
  const REPO = 'shop';
  const SHA = 'a'.repeat(40);
  let github: FakeGitHub;
  let ns: TestNamespace;
  before(async () => {
    github = await startFakeGitHub({ owner: OWNER, repo: REPO });
    ns = await createNamespace('bg-gh');
  });
  after(async () => {
    await ns?.remove();
    await github?.close();
  });

  const run = (inputs: Record<string, string>, options: { cancelOn?: RegExp; token?: string } = {}) =>
    runActionBundle('blue-green-deploy', {
      with: {
        kubeconfig: kubeconfigText(),
        namespace: ns.name,
        manifests: join(work, 'gh.yaml'),
        'post-promotion-window': '1s',
        'scale-down-delay': '1s',
        timeout: '90s',
        'github-token': options.token ?? github.token,
        environment: 'staging',
        'environment-url': 'https://staging.shop.example',
        ...inputs,
      },
      env: { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: `${OWNER}/${REPO}`, GITHUB_SHA: SHA, GITHUB_RUN_ID: '77' },
      timeoutMs: 180_000,
      ...(options.cancelOn ? { cancelOn: options.cancelOn } : {}),
    });
  const states = (d: FakeDeployment | undefined) => d?.statuses.map((s) => s.state) ?? [];

  test('in_progress then success with the environment URL; a failure says why; nothing off-spec', async () => {
    writeManifest('gh.yaml', manifest({ name: 'gh', replicas: 1 }));
    const ok = await run({ image: 'adci/echo:v1' });
    assert.equal(ok.exitCode, 0, failure(ok) + ok.stderr);
    const [first] = github.deployments();
    assert.equal(first?.environment, 'staging');
    assert.equal(first?.sha, SHA);
    assert.deepEqual(states(first), ['in_progress', 'success']);
    assert.equal(first?.statuses[1]?.environment_url, 'https://staging.shop.example');
    assert.equal(first?.statuses[1]?.log_url, `https://github.com/${OWNER}/${REPO}/actions/runs/77`);
    assert.deepEqual(first?.payload, { app: 'gh', namespace: ns.name, image: 'adci/echo:v1', tool: 'adci' });
    for (const text of [ok.log, ok.stderr, ok.summary]) assert.ok(!text.includes(github.token), 'the token leaked');

    const bad = await run({ image: 'adci/does-not-exist:v2' });
    assert.equal(bad.exitCode, 1);
    const second = github.deployments()[1];
    assert.deepEqual(states(second), ['in_progress', 'failure']);
    assert.match(second?.statuses[1]?.description ?? '', /ErrImagePull|ImagePullBackOff/);
    assert.ok((second?.statuses[1]?.description.length ?? 0) <= 140);
    // The live deployment stays the successful one: a failed release never marks it inactive.
    assert.deepEqual(states(first), ['in_progress', 'success']);
    assert.deepEqual(github.violations, []);
  });

  test('a preview waits in_progress; promote finishes the same deployment and retires the previous one', async () => {
    const preview = await run({ image: 'adci/echo:v3', 'auto-promote': 'false' });
    assert.equal(preview.outputs.result, 'preview-ready', failure(preview));
    const count = github.deployments().length;
    const waiting = github.deployments().at(-1);
    assert.deepEqual(states(waiting), ['in_progress', 'in_progress']);
    assert.match(waiting?.statuses[1]?.description ?? '', /preview ready/);

    const promoted = await run({ action: 'promote' });
    assert.equal(promoted.outputs.result, 'promoted', failure(promoted));
    assert.equal(github.deployments().length, count, 'promote reuses the waiting deployment');
    assert.deepEqual(states(waiting), ['in_progress', 'in_progress', 'in_progress', 'success']);
    assert.deepEqual(states(github.deployments()[0]), ['in_progress', 'success', 'inactive']);

    const again = await run({ image: 'adci/echo:v4', 'auto-promote': 'false' });
    assert.equal(again.outputs.result, 'preview-ready', failure(again));
    const aborted = await run({ action: 'abort' });
    assert.equal(aborted.outputs.result, 'aborted', failure(aborted));
    assert.equal(states(github.deployments().at(-1)).at(-1), 'inactive');
    assert.deepEqual(github.violations, []);
  });

  test('a cancelled deploy leaves an error status from the post: step', async () => {
    const cancelled = await run({ image: 'adci/echo:v5' }, { cancelOn: /▶ wait-ready/ });
    assert.ok(cancelled.cancelled);
    assert.equal(states(github.deployments().at(-1)).at(-1), 'error');
    assert.match(cancelled.log, /post: released lock|GitHub Deployment \d+ in staging: error/);
  });

  test('GitHub refusing the token is a warning; the deploy itself goes on', async () => {
    const before = github.deployments().length;
    const result = await run({ image: 'adci/echo:v6' }, { token: 'ghs_wrongTokenThatGitHubRefuses00000001' });
    assert.equal(result.exitCode, 0, failure(result));
    assert.equal(result.outputs.result, 'promoted');
    assert.ok(
      result.annotations.some(
        (a) => a.level === 'warning' && /Could not record a GitHub Deployment.*Bad credentials/.test(a.message),
      ),
      JSON.stringify(result.annotations),
    );
    assert.equal(github.deployments().length, before);
    assert.ok(!result.log.includes('ghs_wrongTokenThatGitHubRefuses00000001'));
  });
});

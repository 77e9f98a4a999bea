// blue-green-deploy v2 end to end on the local cluster, through the built bundle and `adci deploy`:
// the whole release moves together (configuration versioned with the colour), a PodDisruptionBudget
// per colour, preview-replicas, the history and rollback to a stored revision, the failing
// container's logs, and a runner killed with SIGKILL at each phase.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failedRequests, trafficDuring } from '../cluster/traffic.ts';
import { runActionBundle, type ActionResult } from '../runner/index.ts';
import {
  clusterTestSkip,
  createNamespace,
  kubectl,
  kubectlJson,
  kubectlOk,
  nodePortOf,
  waitFor,
  type TestNamespace,
} from '../cluster/testing.ts';
import { testKubeconfig } from '../cluster/kubeconfig.ts';

const skip = clusterTestSkip();
const work = mkdtempSync(join(tmpdir(), 'adci-release-'));
const repo = join(import.meta.dirname, '..', '..');
const SECRET = 'tok-7f3a9c2e51b84d06';

interface AppOptions {
  tag?: string;
  greeting?: string;
  replicas?: number;
  /** Extra ConfigMap data (e.g. FAIL_READINESS, EXIT_AFTER_MS). */
  config?: Record<string, string>;
  pdb?: number;
}

/** A Deployment reading a ConfigMap (envFrom) and a Secret (env), a NodePort Service, optionally a PDB. */
function manifest(options: AppOptions = {}): string {
  const config = { GREETING: options.greeting ?? 'one', LOG_ENV: 'GREETING,API_TOKEN', ...options.config };
  const data = Object.entries(config)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join('\n');
  const docs = [
    `apiVersion: v1
kind: ConfigMap
metadata: { name: web-config }
data:
${data}`,
    `apiVersion: v1
kind: Secret
metadata: { name: web-secret }
stringData: { API_TOKEN: "${SECRET}" }`,
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, labels: { app: web } }
spec:
  replicas: ${options.replicas ?? 2}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 15
      containers:
        - name: web
          image: adci/echo:${options.tag ?? 'v1'}
          envFrom: [{ configMapRef: { name: web-config } }]
          env:
            - { name: SHUTDOWN_DELAY_MS, value: "3000" }
            - { name: API_TOKEN, valueFrom: { secretKeyRef: { name: web-secret, key: API_TOKEN } } }
          ports: [{ containerPort: 8080, name: http }]
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }`,
    `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: 8080 }]`,
  ];
  if (options.pdb !== undefined)
    docs.push(`apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web }
spec: { minAvailable: ${options.pdb}, selector: { matchLabels: { app: web } } }`);
  return `${docs.join('\n---\n')}\n`;
}

let files = 0;
function write(text: string, name = `m${++files}.yaml`): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

const kubeconfigText = (): string => readFileSync(testKubeconfig() ?? '', 'utf8');

async function deploy(
  ns: TestNamespace,
  app: AppOptions,
  inputs: Record<string, string> = {},
  options: { cancelOn?: RegExp; killWith?: 'SIGKILL' } = {},
): Promise<ActionResult> {
  return runActionBundle('blue-green-deploy', {
    with: {
      kubeconfig: kubeconfigText(),
      namespace: ns.name,
      manifests: write(manifest(app)),
      'post-promotion-window': '1s',
      'scale-down-delay': '1s',
      timeout: '90s',
      'lock-timeout': '60s',
      ...inputs,
    },
    timeoutMs: 240_000,
    ...options,
  });
}

function failure(result: ActionResult): string {
  return result.annotations
    .filter((a) => a.level === 'error')
    .map((a) => a.message)
    .join('\n');
}

/** `adci deploy` (the built CLI) with a kubeconfig file; resolves stdout, stderr, exit code. */
async function adci(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repo, 'bin', 'adci.js'), 'deploy', ...args], {
    env: { PATH: process.env.PATH, HOME: work, KUBECONFIG: testKubeconfig() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  return { code, stdout, stderr };
}

/** Runs `work` under open-model load; the load lasts until work ends (checked in slices). */
async function underLoad<T>(
  port: number,
  rate: number,
  work: () => Promise<T>,
): Promise<{ value: T; sent: number; failed: number }> {
  let done = false;
  let sent = 0;
  let failed = 0;
  const loop = (async () => {
    while (!done) {
      const r = await trafficDuring(port, rate, 3000, '127.0.0.1');
      sent += r.sent;
      // Errors, arrivals dropped at the in-flight cap, and any answer but 200 count as failed.
      failed += failedRequests(r);
    }
  })();
  try {
    const value = await work();
    return { value, sent, failed };
  } finally {
    done = true;
    await loop;
  }
}

async function greeting(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/`);
  return ((await response.json()) as { greeting?: string }).greeting ?? '';
}

/** Waits until every answer of the NodePort has the greeting (kube-proxy applies changes ~1 s late). */
async function answersWith(port: number, expected: string): Promise<void> {
  await waitFor(
    `NodePort ${port} answering greeting ${expected}`,
    async () => {
      for (let i = 0; i < 5; i++) if ((await greeting(port).catch(() => '')) !== expected) return undefined;
      return true;
    },
    { timeoutMs: 20_000 },
  );
}

interface Obj {
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: { replicas?: number; selector?: Record<string, string> };
  status?: { availableReplicas?: number };
}

async function get(ns: TestNamespace, kind: string, name: string): Promise<Obj> {
  return kubectlJson<Obj>(['-n', ns.name, 'get', kind, name]);
}

async function activeColor(ns: TestNamespace): Promise<string | undefined> {
  return (await get(ns, 'service', 'web')).spec?.selector?.['adci.dev/color'];
}

/** What the live colour reads, byte for byte (content and resourceVersion). */
async function liveConfiguration(ns: TestNamespace, color: string): Promise<string> {
  const [cm, secret] = await Promise.all([
    get(ns, 'configmap', `web-config-${color}`),
    get(ns, 'secret', `web-secret-${color}`),
  ]);
  return JSON.stringify([cm.data, cm.metadata.resourceVersion, secret.data, secret.metadata.resourceVersion]);
}

describe('blue-green-deploy: the whole release moves together', { skip, concurrency: false, timeout: 900_000 }, () => {
  test('a config-only change is a new release under load; rollback serves the previous configuration', async () => {
    const ns = await createNamespace('bg-config');
    try {
      const first = await deploy(ns, { greeting: 'one' });
      assert.equal(first.exitCode, 0, failure(first));
      const port = await nodePortOf(ns.name, 'web');
      await answersWith(port, 'one');
      const {
        value: second,
        sent,
        failed,
      } = await underLoad(port, 200, () =>
        deploy(ns, { greeting: 'two' }, { 'post-promotion-window': '3s', 'scale-down-delay': '3s' }),
      );
      assert.equal(second.exitCode, 0, failure(second));
      assert.equal(second.outputs.result, 'promoted', 'a config-only change is not "unchanged"');
      assert.equal(second.outputs.revision, '2');
      assert.equal(second.outputs['active-color'], 'green');
      assert.ok(sent >= 1200, `load was sent (${sent})`);
      assert.equal(failed, 0, `${failed} of ${sent} requests failed`);
      await answersWith(port, 'two');
      assert.equal(
        (await get(ns, 'configmap', 'web-config-blue')).data?.GREETING,
        'one',
        "the old colour's copy is untouched",
      );
      assert.equal(
        (await kubectl(['-n', ns.name, 'get', 'configmap', 'web-config'])).code,
        1,
        'the original is not applied in place',
      );
      assert.match(second.summary, /version ConfigMap\/web-config as web-config-green/);
      assert.ok(!`${second.log}${second.summary}`.includes(SECRET), 'no Secret value in the log or summary');
      const back = await deploy(ns, { greeting: 'two' }, { action: 'rollback' });
      assert.equal(back.exitCode, 0, failure(back));
      assert.equal(back.outputs.result, 'rolled-back');
      await answersWith(port, 'one');
    } finally {
      await ns.remove();
    }
  });

  test('a new image with a configuration that fails readiness: nothing the live colour reads changes; zero failed requests', async () => {
    const ns = await createNamespace('bg-badcfg');
    try {
      const first = await deploy(ns, { greeting: 'good' });
      assert.equal(first.exitCode, 0, failure(first));
      const port = await nodePortOf(ns.name, 'web');
      await answersWith(port, 'good');
      const before = await liveConfiguration(ns, 'blue');
      const {
        value: bad,
        sent,
        failed,
      } = await underLoad(port, 200, async () => {
        const result = await deploy(
          ns,
          { tag: 'v2', greeting: 'bad', config: { FAIL_READINESS: '1' } },
          { timeout: '15s' },
        );
        // A live pod deleted now must come back ready with the live configuration.
        const pods = await kubectlOk(['-n', ns.name, 'get', 'pods', '-l', 'adci.dev/color=blue', '-o', 'name']);
        await kubectlOk(['-n', ns.name, 'delete', pods.trim().split('\n')[0] ?? '', '--wait=false']);
        await waitFor(
          'web-blue available again',
          async () => ((await get(ns, 'deployment', 'web-blue')).status?.availableReplicas === 2 ? true : undefined),
          { timeoutMs: 60_000 },
        );
        return result;
      });
      assert.notEqual(bad.exitCode, 0);
      assert.equal(bad.outputs.result, 'failed');
      assert.match(failure(bad), /not available after 15s|timeout/);
      assert.equal(await activeColor(ns), 'blue');
      assert.equal(
        await liveConfiguration(ns, 'blue'),
        before,
        'every configuration object the live colour reads is byte-identical',
      );
      assert.ok(sent > 1000, `load was sent (${sent})`);
      assert.equal(failed, 0, `${failed} of ${sent} requests failed`);
      assert.equal(await greeting(port), 'good');
      assert.equal((await get(ns, 'deployment', 'web-green')).spec?.replicas, 0);
    } finally {
      await ns.remove();
    }
  });

  test('a crashing container: its last log lines and termination reason in the error and the summary, secrets masked', async () => {
    const ns = await createNamespace('bg-crash');
    try {
      const first = await deploy(ns, {});
      assert.equal(first.exitCode, 0, failure(first));
      const crash = await deploy(ns, { tag: 'v2', config: { EXIT_AFTER_MS: '300', EXIT_CODE: '3' } });
      assert.notEqual(crash.exitCode, 0);
      const error = failure(crash);
      assert.match(error, /exit code 3/);
      assert.match(error, /exiting with code 3 as EXIT_AFTER_MS asks/);
      assert.match(crash.summary, /### Why container web of web-green-/);
      assert.match(crash.summary, /config API_TOKEN=\*\*\*/);
      for (const [where, text] of Object.entries({
        log: crash.log,
        summary: crash.summary,
        error,
        stderr: crash.stderr,
      }))
        assert.ok(!text.includes(SECRET), `the Secret's value reached the ${where}`);
    } finally {
      await ns.remove();
    }
  });

  test("during a preview, evicting an active pod that would break the active colour's budget is refused", async () => {
    const ns = await createNamespace('bg-pdb');
    try {
      const first = await deploy(ns, { pdb: 2 });
      assert.equal(first.exitCode, 0, failure(first));
      const preview = await deploy(ns, { tag: 'v2', pdb: 2 }, { 'auto-promote': 'false' });
      assert.equal(preview.outputs.result, 'preview-ready', failure(preview));
      // The budget of each colour selects that colour only: the preview's pods do not count for blue.
      await waitFor(
        'the disruption controller counting web-blue',
        async () => {
          const pdb = await kubectlJson<{ status?: { currentHealthy?: number; observedGeneration?: number } }>([
            '-n',
            ns.name,
            'get',
            'pdb',
            'web-blue',
          ]);
          return pdb.status?.currentHealthy === 2 ? true : undefined;
        },
        { timeoutMs: 30_000 },
      );
      const pod =
        (await kubectlOk(['-n', ns.name, 'get', 'pods', '-l', 'adci.dev/color=blue', '-o', 'name']))
          .trim()
          .split('\n')[0]
          ?.replace('pod/', '') ?? '';
      const eviction = write(
        JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns.name } }),
        'eviction.json',
      );
      const evicted = await kubectl([
        'create',
        '--raw',
        `/api/v1/namespaces/${ns.name}/pods/${pod}/eviction`,
        '-f',
        eviction,
      ]);
      assert.notEqual(evicted.code, 0, 'the eviction is refused');
      assert.match(`${evicted.stdout}${evicted.stderr}`, /disruption budget|TooManyRequests|429/i);
      assert.equal((await kubectl(['-n', ns.name, 'get', 'pdb', 'web'])).code, 1, 'no budget over both colours');
      const aborted = await deploy(ns, { tag: 'v2', pdb: 2 }, { action: 'abort' });
      assert.equal(aborted.outputs.result, 'aborted', failure(aborted));
    } finally {
      await ns.remove();
    }
  });

  test('preview-replicas: 1 of 3: the checks run against one pod, the switch happens with three available', async () => {
    const ns = await createNamespace('bg-previewsize');
    try {
      const first = await deploy(ns, { replicas: 3 });
      assert.equal(first.exitCode, 0, failure(first));
      const checks = write('checks:\n  - name: answers\n    path: /\n    expect: { status: 200 }\n', 'pre.yaml');
      const seen: number[] = [];
      const sampler = setInterval(() => {
        void kubectl(['-n', ns.name, 'get', 'pods', '-l', 'adci.dev/color=green', '-o', 'name']).then((r) => {
          if (r.code === 0) seen.push(r.stdout.trim() ? r.stdout.trim().split('\n').length : 0);
        });
      }, 300);
      const result = await deploy(
        ns,
        { tag: 'v2', replicas: 3 },
        { 'preview-replicas': '1', 'pre-promotion-checks': checks },
      ).finally(() => clearInterval(sampler));
      assert.equal(result.exitCode, 0, failure(result));
      assert.match(result.log, /1 passed against 1 pod\b/);
      assert.match(result.log, /web-green scaled to 3, all available/);
      const order = ['preview-check', 'scale-up', 'switch'].map((p) => result.log.indexOf(`▶ ${p}`));
      assert.ok(
        order[0]! < order[1]! && order[1]! < order[2]!,
        `preview-check, scale-up, switch in that order (${order.join(', ')})`,
      );
      assert.equal((await get(ns, 'deployment', 'web-green')).status?.availableReplicas, 3);
      assert.ok(seen.length > 0);
    } finally {
      await ns.remove();
    }
  });

  test('12 releases: status lists the last 10; rollback --to-revision deploys the third-newest again', async () => {
    const ns = await createNamespace('bg-history');
    try {
      for (let i = 1; i <= 12; i++) {
        const file = write(manifest({ tag: `r${i}`, greeting: `g${i}`, replicas: 1 }));
        const r = await adci([
          '--manifests',
          file,
          '--namespace',
          ns.name,
          '--post-promotion-window',
          '0s',
          '--scale-down-delay',
          '0s',
          '--json',
        ]);
        assert.equal(r.code, 0, `release ${i}: ${r.stderr.slice(-2000)}`);
      }
      const status = await adci([
        '--manifests',
        write(manifest({ replicas: 1 })),
        '--namespace',
        ns.name,
        '--action',
        'status',
        '--json',
      ]);
      assert.equal(status.code, 0, status.stderr);
      const history = (JSON.parse(status.stdout) as { history: { revision: number; image: string; outcome: string }[] })
        .history;
      assert.deepEqual(
        history.map((h) => h.revision),
        [12, 11, 10, 9, 8, 7, 6, 5, 4, 3],
      );
      assert.ok(
        history.every((h) => h.outcome === 'promoted'),
        JSON.stringify(history),
      );
      assert.equal(history[2]?.image, 'adci/echo:r10');
      const text = await adci([
        '--manifests',
        write(manifest({ replicas: 1 })),
        '--namespace',
        ns.name,
        '--action',
        'status',
      ]);
      assert.match(text.stdout, /releases:/);
      assert.match(text.stdout, /\b10 +promoted +\w+ +adci\/echo:r10/);
      const back = await adci([
        '--manifests',
        write(manifest({ replicas: 1 })),
        '--namespace',
        ns.name,
        '--action',
        'rollback',
        '--to-revision',
        '10',
        '--post-promotion-window',
        '0s',
        '--scale-down-delay',
        '0s',
        '--json',
      ]);
      assert.equal(back.code, 0, back.stderr.slice(-2000));
      const result = JSON.parse(back.stdout) as { result: string; image: string; revision: number };
      assert.equal(result.result, 'rolled-back');
      assert.equal(result.image, 'adci/echo:r10');
      const port = await nodePortOf(ns.name, 'web');
      await answersWith(port, 'g10');
      const missing = await adci([
        '--manifests',
        write(manifest({ replicas: 1 })),
        '--namespace',
        ns.name,
        '--action',
        'rollback',
        '--to-revision',
        '1',
      ]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr + missing.stdout, /to-revision 1 is not in the history/);
      const leases = await kubectlOk(['-n', ns.name, 'get', 'leases', '-o', 'name']);
      assert.equal(leases.trim(), '');
    } finally {
      await ns.remove();
    }
  });

  test('a runner killed with SIGKILL at each phase: a re-run finds the state, recovers the lock and finishes', async () => {
    const ns = await createNamespace('bg-sigkill');
    try {
      const first = await deploy(ns, { greeting: 'k0' });
      assert.equal(first.exitCode, 0, failure(first));
      let n = 0;
      for (const phase of [
        'lock',
        'plan',
        'apply',
        'wait-ready',
        'switch',
        'verify-endpoints',
        'post-check',
        'drain',
      ]) {
        n++;
        const app = { greeting: `k${n}` };
        const before = await activeColor(ns);
        const killed = await deploy(
          ns,
          app,
          { 'post-promotion-window': '4s', 'scale-down-delay': '3s' },
          {
            cancelOn: new RegExp(`^▶ ${phase}$`),
            killWith: 'SIGKILL',
          },
        );
        assert.equal(killed.signal, 'SIGKILL', `${phase}: the runner was killed`);
        const color = await activeColor(ns);
        const svc = await get(ns, 'service', 'web');
        assert.equal(
          svc.metadata.annotations?.['adci.dev/active-color'],
          color,
          `${phase}: the state agrees with the selector`,
        );
        if (['lock', 'plan', 'apply', 'wait-ready'].includes(phase))
          assert.equal(color, before, `${phase}: traffic untouched`);
        const started = Date.now();
        const rerun = await deploy(ns, app, { 'post-promotion-window': '4s', 'scale-down-delay': '1s' });
        assert.equal(rerun.exitCode, 0, `${phase}: re-run: ${failure(rerun)}`);
        assert.ok(['promoted', 'unchanged'].includes(rerun.outputs.result ?? ''), `${phase}: ${rerun.outputs.result}`);
        assert.ok(Date.now() - started < 60_000, `${phase}: the lock of the killed run did not hold the re-run up`);
        if (['switch', 'verify-endpoints', 'post-check', 'drain'].includes(phase)) {
          assert.match(rerun.summary, /An earlier run:/, `${phase}: the re-run says what it found`);
          assert.match(rerun.summary, /finishing it|replaces it|up again/, `${phase}: and what it did`);
        }
        // Capacity does not leak: one colour is up, the other is scaled down.
        const [blue, green] = await Promise.all([
          get(ns, 'deployment', 'web-blue'),
          get(ns, 'deployment', 'web-green'),
        ]);
        const up = [blue, green].filter((d) => (d.spec?.replicas ?? 0) > 0).length;
        assert.equal(up, 1, `${phase}: exactly one colour is up after the re-run`);
        const leases = await kubectlOk(['-n', ns.name, 'get', 'leases', '-o', 'name']);
        assert.equal(leases.trim(), '', `${phase}: the lock is released`);
        const status = await adci([
          '--manifests',
          write(manifest(app)),
          '--namespace',
          ns.name,
          '--action',
          'status',
          '--json',
        ]);
        assert.equal(
          (JSON.parse(status.stdout) as { recovered?: string }).recovered,
          undefined,
          `${phase}: nothing is left unfinished`,
        );
      }
    } finally {
      await ns.remove();
    }
  });
});

// blue-green-deploy benchmarks on the local cluster, in one run:
// - switch latency: from the last new pod seen Ready to the selector switch, median of 10 deploys;
// - wall time of a whole deploy (delays set to 0) as a ratio to a plain kubectl script that
//   applies the idle colour, waits with `rollout status` and patches the selector, unverified;
// - 10 consecutive deploys under 500 req/s through the NodePort: the total of failed requests.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemClock } from '@adci/common';
import { createHttpClient, parseChecksDocument, runLoad, type LoadResult } from '@adci/probe';
import { kubectlBinary, missingClusterReason, testKubeconfig } from '../test/cluster/kubeconfig.ts';
import type { BenchFigure } from './figures.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');
const DEPLOYS = 10;

function manifest(name: string, color?: string, tag = 'v1'): string {
  const colorLabel = color ? `, adci.dev/color: ${color}` : '';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${color ? `${name}-${color}` : name}
spec:
  replicas: 2
  selector:
    matchLabels: { app: ${name}${colorLabel} }
  template:
    metadata:
      labels: { app: ${name}${colorLabel} }
    spec:
      terminationGracePeriodSeconds: 10
      containers:
        - name: web
          image: adci/echo:${tag}
          env: [{ name: SHUTDOWN_DELAY_MS, value: "3000" }]
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  type: NodePort
  selector: { app: ${name}${colorLabel} }
  ports: [{ port: 80, targetPort: 8080 }]
`;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

async function kubectl(kubeconfig: string, args: string[]): Promise<string> {
  const { stdout } = await exec(kubectlBinary(), ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 16 << 20 });
  return stdout;
}

interface DeployRun {
  wallMs: number;
  switchLatencyMs: number;
}

async function adciDeploy(kubeconfig: string, namespace: string, file: string, tag: string): Promise<DeployRun> {
  const started = performance.now();
  const { stdout } = await exec(
    process.execPath,
    [
      join(root, 'bin', 'adci.js'),
      'deploy',
      '--manifests',
      file,
      '--namespace',
      namespace,
      '--image',
      `adci/echo:${tag}`,
      '--post-promotion-window',
      '0s',
      '--scale-down-delay',
      '0s',
      '--json',
    ],
    { env: { ...process.env, KUBECONFIG: kubeconfig }, maxBuffer: 16 << 20 },
  );
  const wallMs = performance.now() - started;
  const result = JSON.parse(stdout) as { result: string; switchLatencyMs?: number; error?: string };
  if (result.result !== 'promoted') throw new Error(`deploy ${tag}: ${result.result} ${result.error ?? ''}`);
  return { wallMs, switchLatencyMs: result.switchLatencyMs ?? Number.NaN };
}

/** The baseline: what a team scripts with kubectl alone (no checks, no verification, no lock). */
async function kubectlScript(
  kubeconfig: string,
  namespace: string,
  dir: string,
  color: string,
  old: string,
  tag: string,
): Promise<number> {
  const file = join(dir, `script-${color}.yaml`);
  writeFileSync(file, manifest('plain', color, tag).split('---')[0] ?? '');
  const started = performance.now();
  await kubectl(kubeconfig, ['-n', namespace, 'apply', '-f', file]);
  await kubectl(kubeconfig, ['-n', namespace, 'rollout', 'status', `deployment/plain-${color}`, '--timeout=120s']);
  await kubectl(kubeconfig, [
    '-n',
    namespace,
    'patch',
    'service',
    'plain',
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { selector: { 'adci.dev/color': color } } }),
  ]);
  await kubectl(kubeconfig, ['-n', namespace, 'scale', `deployment/plain-${old}`, '--replicas=0']);
  return performance.now() - started;
}

/**
 * The load's per-request deadline, well under the wait after the last deploy: a request a deploy
 * held up has failed (timed out) before the load stops, so the requests still in flight when the
 * bench stops it (abandoned, counted `unfinished`) were sent after every deploy had ended.
 */
const REQUEST_TIMEOUT_MS = 3000;
const DRAIN_WAIT_MS = 5000;

async function load(port: number, rate: number, seconds: number, signal: AbortSignal): Promise<LoadResult> {
  const spec = (
    await parseChecksDocument(
      `load:\n  path: /\n  rate: ${rate}/s\n  duration: ${seconds}s\n  max-in-flight: ${rate * 4}\n`,
      'bench',
    )
  ).load;
  if (!spec) throw new Error('no load block');
  const client = createHttpClient();
  try {
    return await runLoad(
      spec,
      {
        baseUrl: new URL(`http://127.0.0.1:${port}`),
        headers: {},
        timeoutMs: REQUEST_TIMEOUT_MS,
        lookup: () => undefined,
      },
      { client, clock: systemClock, signal },
    );
  } finally {
    await client.close();
  }
}

export async function run(): Promise<BenchFigure[]> {
  const kubeconfig = testKubeconfig();
  const missing = missingClusterReason();
  if (!kubeconfig || missing) {
    return [
      {
        name: 'blue-green deploy',
        ratio: Number.NaN,
        target: 'a cluster',
        ok: false,
        detail: `no cluster: ${missing}`,
      },
    ];
  }
  const dir = mkdtempSync(join(tmpdir(), 'adci-bench-deploy-'));
  const namespace = `bench-deploy-${process.pid}`;
  await kubectl(kubeconfig, ['create', 'namespace', namespace]);
  try {
    // Interleaved: one adci deploy, then one kubectl-script deploy, so load on the machine hits both alike.
    const appFile = join(dir, 'app.yaml');
    writeFileSync(appFile, manifest('app'));
    writeFileSync(join(dir, 'plain-blue.yaml'), manifest('plain', 'blue'));
    await adciDeploy(kubeconfig, namespace, appFile, 'v0');
    await kubectl(kubeconfig, ['-n', namespace, 'apply', '-f', join(dir, 'plain-blue.yaml')]);
    await kubectl(kubeconfig, ['-n', namespace, 'rollout', 'status', 'deployment/plain-blue', '--timeout=120s']);
    const ours: DeployRun[] = [];
    const baseline: number[] = [];
    for (let i = 1; i <= DEPLOYS; i++) {
      ours.push(await adciDeploy(kubeconfig, namespace, appFile, `v${i}`));
      const color = i % 2 ? 'green' : 'blue';
      baseline.push(
        await kubectlScript(kubeconfig, namespace, dir, color, color === 'green' ? 'blue' : 'green', `v${i}`),
      );
    }
    const switchMedian = median(ours.map((r) => r.switchLatencyMs));
    const wallRatio = median(ours.map((r) => r.wallMs)) / median(baseline);

    // 10 deploys in a row while 500 req/s flow through the active Service's NodePort.
    const svc = JSON.parse(await kubectl(kubeconfig, ['-n', namespace, 'get', 'service', 'app', '-o', 'json'])) as {
      spec: { ports: { nodePort: number }[] };
    };
    const port = svc.spec.ports[0]?.nodePort ?? 0;
    const stop = new AbortController();
    const traffic = load(port, 500, 600, stop.signal);
    for (let i = 1; i <= DEPLOYS; i++) {
      const started = performance.now();
      await exec(
        process.execPath,
        [
          join(root, 'bin', 'adci.js'),
          'deploy',
          '--manifests',
          appFile,
          '--namespace',
          namespace,
          '--image',
          `adci/echo:l${i}`,
          '--post-promotion-window',
          '2s',
          '--scale-down-delay',
          '4s',
        ],
        {
          env: { ...process.env, KUBECONFIG: kubeconfig },
        },
      );
      process.stdout.write(`  deploy ${i} under load: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    }
    // The old colour's pods finish draining, then the load stops.
    await new Promise((r) => setTimeout(r, DRAIN_WAIT_MS));
    stop.abort(new Error('deploys done'));
    const loadResult = await traffic;
    const abandoned = loadResult.errorKinds.unfinished ?? 0;
    const failed = loadResult.errors - abandoned;
    return [
      {
        name: 'switch latency: last new pod Ready -> selector switched (median of 10 deploys)',
        ratio: switchMedian / 250,
        target: '<= 1.0 of the 250 ms budget',
        ok: switchMedian <= 250,
        detail: `median ${switchMedian.toFixed(0)} ms; all: ${ours.map((r) => r.switchLatencyMs.toFixed(0)).join(', ')} ms`,
      },
      {
        name: 'deploy wall time vs kubectl apply + rollout status + patch (delays 0, median of 10 each)',
        ratio: wallRatio,
        // Issue 19: one process with one connection pool and watches should beat four kubectl processes.
        target: '<= 1.00x',
        ok: wallRatio <= 1.0,
        detail: `adci ${median(ours.map((r) => r.wallMs)).toFixed(0)} ms, kubectl script ${median(baseline).toFixed(0)} ms`,
      },
      {
        name: 'failed requests over 10 deploys under 500 req/s',
        ratio: failed / Math.max(1, loadResult.completed),
        target: '0 failed',
        ok: failed === 0 && loadResult.completed > 0,
        detail:
          `${failed} failed of ${loadResult.completed} (${loadResult.sentRate.toFixed(0)}/s sent, p99 ${loadResult.latency.p99} ms)` +
          // What failed, when something did: the transport's error kinds and the statuses answered.
          (failed > 0
            ? `; errors ${JSON.stringify(loadResult.errorKinds)}, statuses ${JSON.stringify(loadResult.statusCounts)}`
            : '') +
          (abandoned > 0
            ? `; ${abandoned} in flight when the bench stopped the load, after the deploys (not counted)`
            : ''),
      },
    ];
  } finally {
    await kubectl(kubeconfig, ['delete', 'namespace', namespace, '--wait=false']).catch(() => '');
  }
}

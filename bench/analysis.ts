// Metric analysis benchmark on the local cluster with a real Prometheus: the time from a metric
// crossing its threshold in Prometheus (the timestamp of the first scraped sample over it) to the
// rollback's switch (the Service's selector seen back on the old colour), for a deploy whose
// post-promotion analysis queries that metric. Target: under two analysis intervals plus one scrape
// interval. The metric is a gauge on a loopback exporter the bench flips, so the crossing is exact.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubectlBinary, missingClusterReason, testKubeconfig } from '../test/cluster/kubeconfig.ts';
import { missingMonitoringReason, startMonitoring } from '../test/cluster/monitoring.ts';
import type { BenchFigure } from './figures.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');
const RUNS = 3;
const ANALYSIS_INTERVAL_MS = 2000;
const SCRAPE_INTERVAL_MS = 1000;

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: gated
spec:
  replicas: 1
  selector:
    matchLabels: { app: gated }
  template:
    metadata:
      labels: { app: gated }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: web
          image: adci/echo:v1
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata:
  name: gated
spec:
  type: NodePort
  selector: { app: gated }
  ports: [{ port: 80, targetPort: 8080 }]
`;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

export async function run(): Promise<BenchFigure[]> {
  const name = 'analysis: threshold crossed in Prometheus -> rollback switch';
  const kubeconfig = testKubeconfig();
  const missing = missingClusterReason() ?? missingMonitoringReason();
  if (!kubeconfig || missing)
    return [{ name, ratio: Number.NaN, target: '< 1', ok: false, detail: `skipped: ${missing}` }];

  let gate = 0;
  // Prometheus 3 refuses a scrape without the exposition format's Content-Type, as it should.
  const exporter = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`# TYPE bench_gate gauge\nbench_gate ${gate}\n`);
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const monitoring = await startMonitoring({
    staticTargets: [`127.0.0.1:${(exporter.address() as AddressInfo).port}`],
    scrapeInterval: `${SCRAPE_INTERVAL_MS / 1000}s`,
  });
  const dir = mkdtempSync(join(tmpdir(), 'adci-bench-analysis-'));
  const namespace = `bench-analysis-${process.pid}`;
  const kubectl = async (args: string[]): Promise<string> =>
    (await exec(kubectlBinary(), ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 16 << 20 })).stdout;
  const selectorColor = async (): Promise<string> =>
    kubectl(['-n', namespace, 'get', 'service', 'gated', '-o', 'jsonpath={.spec.selector.adci\\.dev/color}']);
  await kubectl(['create', 'namespace', namespace]);
  const app = join(dir, 'app.yaml');
  writeFileSync(app, manifest);
  const analysis = join(dir, 'analysis.yml');
  writeFileSync(
    analysis,
    `prometheus: ${monitoring.prometheusUrl}
metrics:
  - name: gate
    query: bench_gate
    success: result < 1
    interval: ${ANALYSIS_INTERVAL_MS / 1000}s
    count: 200
`,
  );
  const deploy = (tag: string, extra: string[]) =>
    exec(
      process.execPath,
      [
        join(root, 'bin', 'adci.js'),
        'deploy',
        '--manifests',
        app,
        '--namespace',
        namespace,
        '--image',
        `adci/echo:${tag}`,
        '--scale-down-delay',
        '0s',
        '--json',
        ...extra,
      ],
      { env: { ...process.env, KUBECONFIG: kubeconfig }, maxBuffer: 16 << 20 },
    );
  const latencies: number[] = [];
  try {
    await deploy('v0', ['--post-promotion-window', '0s']);
    for (let i = 1; i <= RUNS; i++) {
      gate = 0;
      const before = await selectorColor();
      const running = deploy(`v${i}`, ['--post-promotion-window', '10m', '--post-analysis', analysis]).catch(
        (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
      );
      while ((await selectorColor()) === before) await new Promise((r) => setTimeout(r, 100));
      // Flip at a different phase of the analysis interval each run.
      await new Promise((r) => setTimeout(r, 1500 + i * 700));
      const flippedAt = Date.now();
      gate = 5;
      let switchedBackAt = 0;
      while (!switchedBackAt) {
        if ((await selectorColor()) === before) switchedBackAt = Date.now();
        else await new Promise((r) => setTimeout(r, 25));
      }
      const { stdout } = await running;
      const result = JSON.parse(stdout) as { result?: string };
      if (result.result !== 'rolled-back') throw new Error(`run ${i}: ${result.result ?? stdout.slice(0, 500)}`);
      // The first sample over the threshold, as Prometheus stored it (timestamps in seconds).
      const response = (await (
        await fetch(`${monitoring.prometheusUrl}/api/v1/query?query=${encodeURIComponent('bench_gate[5m]')}`)
      ).json()) as { data: { result: { values: [number, string][] }[] } };
      // The sample after the run's last one under it: its timestamp is when the scrape began, which
      // can be a few ms before the flip that its answer already saw (Prometheus 3 also aligns it).
      const values = response.data.result[0]?.values ?? [];
      const crossed = values[values.findLastIndex(([, v]) => Number(v) < 1) + 1];
      if (!crossed || Number(crossed[1]) < 1 || crossed[0] * 1000 < flippedAt - SCRAPE_INTERVAL_MS)
        throw new Error(`run ${i}: no sample over the threshold in Prometheus after the flip`);
      latencies.push(switchedBackAt - crossed[0] * 1000);
    }
  } finally {
    await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => '');
    await monitoring.stop();
    exporter.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const targetMs = 2 * ANALYSIS_INTERVAL_MS + SCRAPE_INTERVAL_MS;
  const worst = Math.max(...latencies);
  return [
    {
      name,
      ratio: median(latencies) / targetMs,
      target: '< 1 (worst run too)',
      ok: worst < targetMs,
      detail: `median ${Math.round(median(latencies))} ms, worst ${Math.round(worst)} ms of ${RUNS} runs [${latencies.map((l) => Math.round(l)).join(', ')}] vs target ${targetMs} ms (2 x ${ANALYSIS_INTERVAL_MS} ms analysis interval + ${SCRAPE_INTERVAL_MS} ms scrape)`,
    },
  ];
}

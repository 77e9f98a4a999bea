// A release to three local clusters in waves against three single deploys one after another, in
// one run: `adci deploy --targets` with waves [a], [b, c], max-parallel 2 (bake-time, the
// post-promotion window and the drain delay 0: bake excluded), and `adci deploy` to a, then b,
// then c with the same settings. Interleaved rounds (one release, then the three deploys), so the
// load on the machine hits both alike; the median of each. Target: the waves take at most 0.6x the
// sequential deploys' wall time. Starts the named clusters bw-a, bw-b and bw-c when they are not
// running (and stops only those it started).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureClusters, kubectl, kubectlOk, namedClustersSkip, type ClusterSet } from '../test/cluster/testing.ts';
import type { BenchFigure } from './figures.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');
const ROUNDS = 5;
const TARGET = 0.6;
const NAMES = ['bw-a', 'bw-b', 'bw-c'];

function manifest(): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: bid }
spec:
  replicas: 2
  selector: { matchLabels: { app: bid } }
  template:
    metadata: { labels: { app: bid } }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: bid
          image: adci/echo:v0
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: bid }
spec:
  selector: { app: bid }
  ports: [{ port: 80, targetPort: 8080 }]
`;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const FAST = ['--post-promotion-window', '0s', '--scale-down-delay', '0s', '--json'];

async function adci(args: string[], env: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const { stdout } = await exec(process.execPath, [join(root, 'bin', 'adci.js'), 'deploy', ...args, ...FAST], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    maxBuffer: 64 << 20,
  });
  const wallMs = performance.now() - started;
  const result = JSON.parse(stdout) as { result: string; error?: string };
  if (result.result !== 'promoted') throw new Error(`adci deploy ${args.join(' ')}: ${result.result} ${result.error}`);
  return wallMs;
}

export async function run(): Promise<BenchFigure[]> {
  const name = 'three-cluster release in waves [a], [b, c] (max-parallel 2) ÷ three single deploys in a row';
  const skip = namedClustersSkip();
  if (skip) return [{ name, ratio: Number.NaN, target: `<= ${TARGET}x`, ok: false, detail: `not run: ${skip}` }];
  const set: ClusterSet = await ensureClusters(NAMES);
  const dir = mkdtempSync(join(tmpdir(), 'adci-bench-waves-'));
  const waveNs = `bench-waves-${process.pid}`;
  const singleNs = `bench-single-${process.pid}`;
  try {
    await Promise.all(
      set.list.flatMap((c) => [waveNs, singleNs].map((ns) => kubectlOk(['create', 'namespace', ns], c.options))),
    );
    const file = join(dir, 'bid.yaml');
    writeFileSync(file, manifest());
    const targets = join(dir, 'targets.yml');
    writeFileSync(
      targets,
      `targets:\n${set.list
        .map((c, i) => `  - name: ${'abc'[i]}\n    kubeconfig-file: ${c.kubeconfig}\n    namespace: ${waveNs}\n`)
        .join('')}waves:\n  - [a]\n  - [b, c]\nbake-time: 0s\nmax-parallel: 2\n`,
    );
    const waves = (tag: string) => adci(['--targets', targets, '--manifests', file, '--image', `adci/echo:${tag}`]);
    const singles = async (tag: string): Promise<number> => {
      let total = 0;
      for (const c of set.list)
        total += await adci(['--manifests', file, '--namespace', singleNs, '--image', `adci/echo:${tag}`], {
          KUBECONFIG: c.kubeconfig,
        });
      return total;
    };
    // The first release everywhere (creates the apps), not measured.
    await waves('v0');
    await singles('v0');
    const ours: number[] = [];
    const baseline: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      ours.push(await waves(`v${i}`));
      baseline.push(await singles(`v${i}`));
    }
    const ratio = median(ours) / median(baseline);
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    return [
      {
        name,
        ratio,
        target: `<= ${TARGET}x`,
        ok: ratio <= TARGET,
        detail: `waves median ${s(median(ours))} (${ours.map(s).join(', ')}), three deploys in a row median ${s(median(baseline))} (${baseline.map(s).join(', ')}); ${ROUNDS} interleaved rounds, 2 replicas, bake-time 0`,
      },
    ];
  } finally {
    await Promise.all(
      set.list.flatMap((c) =>
        [waveNs, singleNs].map((ns) => kubectl(['delete', 'namespace', ns, '--wait=false'], c.options)),
      ),
    );
    await set.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

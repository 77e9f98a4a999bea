// Start-up of each built action doing real work on a minimal valid input, as a ratio to the floor:
// an ncc bundle (built here, as the actions are) that imports @actions/core, reads one input and
// writes one output — the least any action does. Every run goes through the runner harness
// (test/runner), so the floor and the actions start alike; medians of interleaved runs.
// - notify delivers one message to a local Slack-like webhook (test/fakes/slack.ts);
// - quality-gate reads one small JUnit file;
// - smoke-test runs one check against a local server;
// - `adci deploy --action status` reads one app on the local cluster, against `kubectl get` of the
//   objects it reads (Services, the colours' Deployments, the release history).
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startFakeSlack } from '../test/fakes/slack.ts';
import { kubectlBinary, missingClusterReason, testKubeconfig } from '../test/cluster/kubeconfig.ts';
import { runActionBundle, type ActionResult, type RunOptions } from '../test/runner/index.ts';
import type { BenchFigure } from './figures.ts';
import { bundle } from '../scripts/bundle.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');
const RUNS = Number(process.env.ADCI_BENCH_COLD_RUNS ?? 15);
/** Targets from issue 19, as a ratio to the floor. */
const TARGETS: Record<string, number> = { notify: 1.1, 'quality-gate': 1.3, 'smoke-test': 1.3 };
/** `adci deploy --action status` against `kubectl get` of the same objects. */
const STATUS_TARGET = 1.5;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** The floor: bench/floor/index.ts bundled exactly as scripts/build.ts bundles an action. */
async function buildFloor(dir: string): Promise<string> {
  const action = join(dir, 'floor');
  await bundle(join(import.meta.dirname, 'floor', 'index.ts'), action);
  writeFileSync(join(action, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(action, 'action.yml'),
    'name: floor\ndescription: the start-up floor\ninputs:\n  name:\n    required: true\nruns:\n  using: node24\n  main: index.js\n',
  );
  return action;
}

/** A server in its own process (the harness's event loop stays free for the child's pipes). */
async function startService(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(join(root, 'test', 'fakes', 'service-minimal.ts'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return { url: `http://127.0.0.1:${message.port}`, child };
}

interface Scenario {
  name: string;
  run: () => Promise<number>;
}

/** One run through the harness; a run that does not do its work is a broken figure, not a fast one. */
function harnessed(
  action: string,
  options: RunOptions,
  check: (result: ActionResult) => string | undefined,
): () => Promise<number> {
  return async () => {
    const result = await runActionBundle(action, { timeoutMs: 60_000, ...options });
    const problem = result.exitCode === 0 ? check(result) : `exit ${result.exitCode}`;
    if (problem) throw new Error(`${action}: ${problem}\n${result.stdout}\n${result.stderr}`);
    return result.durationMs;
  };
}

async function timedProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${code}\n${stderr}`);
  return ms;
}

function appManifest(name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: web
          image: adci/echo:v1
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: 8080 }]
`;
}

export async function run(): Promise<BenchFigure[]> {
  const temp = mkdtempSync(join(tmpdir(), 'adci-bench-cold-'));
  const slack = await startFakeSlack();
  const service = await startService();
  const cleanups: (() => Promise<unknown>)[] = [
    () => slack.close(),
    async () => {
      service.child.disconnect();
      if (service.child.exitCode === null) await once(service.child, 'exit');
    },
  ];
  try {
    const floor = await buildFloor(temp);
    const workspace = join(temp, 'workspace');
    mkdirSync(workspace);
    writeFileSync(
      join(workspace, 'junit.xml'),
      '<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="shop" tests="2" failures="0" errors="0" skipped="0" time="0.01">\n' +
        '  <testcase classname="shop.pricing" name="test_price" time="0.004"/>\n' +
        '  <testcase classname="shop.pricing" name="test_discount" time="0.003"/>\n</testsuite>\n',
    );
    const inWorkspace: RunOptions = { cwd: workspace, env: { GITHUB_WORKSPACE: workspace } };
    const scenarios: Scenario[] = [
      {
        name: 'floor',
        run: harnessed(floor, { with: { name: 'adci' } }, (r) =>
          r.outputs.greeting === 'hello adci' ? undefined : 'no output',
        ),
      },
      {
        name: 'notify',
        run: harnessed('notify', { with: { 'webhook-url': slack.webhookUrl, title: 'Bench' } }, (r) =>
          r.outputs.ok === 'true' ? undefined : `ok=${r.outputs.ok}`,
        ),
      },
      {
        name: 'quality-gate',
        run: harnessed('quality-gate', { ...inWorkspace, with: { reports: 'junit.xml', comment: 'false' } }, (r) =>
          r.outputs.passed === 'true' ? undefined : `passed=${r.outputs.passed}`,
        ),
      },
      {
        name: 'smoke-test',
        run: harnessed(
          'smoke-test',
          { ...inWorkspace, with: { 'base-url': service.url, checks: '- path: /\n' } },
          (r) => (r.outputs.passed === '1' && r.outputs.failed === '0' ? undefined : `passed=${r.outputs.passed}`),
        ),
      },
    ];

    // `adci deploy --action status` on one app deployed once, vs kubectl get of what it reads.
    const kubeconfig = testKubeconfig();
    const missing = missingClusterReason();
    const namespace = `bench-cold-${process.pid}`;
    let statusSkipped: string | undefined = kubeconfig && !missing ? undefined : `no cluster: ${missing}`;
    if (kubeconfig && !missing) {
      const kubectl = kubectlBinary();
      await exec(kubectl, ['--kubeconfig', kubeconfig, 'create', 'namespace', namespace]);
      cleanups.push(() =>
        exec(kubectl, ['--kubeconfig', kubeconfig, 'delete', 'namespace', namespace, '--wait=false']).catch(() => ''),
      );
      const manifests = join(temp, 'app.yaml');
      writeFileSync(manifests, appManifest('app'));
      // A fresh HOME: the CLI's compile cache and kubeconfig lookup start as on a CI runner.
      const env = { PATH: process.env.PATH, HOME: join(temp, 'home'), KUBECONFIG: kubeconfig };
      mkdirSync(env.HOME);
      const adci = join(root, 'bin', 'adci.js');
      const common = ['deploy', '--manifests', manifests, '--namespace', namespace];
      try {
        await exec(
          process.execPath,
          [adci, ...common, '--image', 'adci/echo:v1', '--post-promotion-window', '0s', '--scale-down-delay', '0s'],
          { env, maxBuffer: 16 << 20 },
        );
        const { stdout } = await exec(process.execPath, [adci, ...common, '--action', 'status', '--json'], { env });
        const status = JSON.parse(stdout) as { result: string; activeColor?: string };
        if (status.result !== 'status' || status.activeColor !== 'blue')
          throw new Error(`adci deploy --action status: ${stdout}`);
        scenarios.push(
          {
            name: 'adci deploy --action status',
            run: () => timedProcess(process.execPath, [adci, ...common, '--action', 'status'], env),
          },
          {
            name: 'kubectl get',
            run: () =>
              timedProcess(
                kubectl,
                [
                  '-n',
                  namespace,
                  'get',
                  'services,deployments,controllerrevisions',
                  '--ignore-not-found',
                  '-o',
                  'json',
                ],
                env,
              ),
          },
        );
      } catch (error) {
        statusSkipped = `the app did not deploy: ${(error as Error).message.slice(0, 500)}`;
      }
    }

    const samples = new Map<string, number[]>(scenarios.map((s) => [s.name, []]));
    for (const scenario of scenarios) await scenario.run(); // warm the page cache and the servers
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, the order rotating, so load on the shared machine hits every scenario alike.
      for (let j = 0; j < scenarios.length; j++) {
        const scenario = scenarios[(i + j) % scenarios.length] as Scenario;
        samples.get(scenario.name)!.push(await scenario.run());
      }
    }
    const ms = (name: string): number => median(samples.get(name) ?? []);
    const floorMs = ms('floor');
    const figures: BenchFigure[] = Object.entries(TARGETS).map(([name, target]) => {
      const ratio = ms(name) / floorMs;
      return {
        name: `${name} start-up doing real work vs the @actions/core floor`,
        ratio,
        target: `<= ${target}x`,
        ok: ratio <= target,
        detail: `${ms(name).toFixed(1)} ms vs floor ${floorMs.toFixed(1)} ms (medians of ${RUNS}, interleaved)`,
      };
    });
    if (statusSkipped) {
      figures.push({
        name: 'adci deploy --action status vs kubectl get',
        ratio: Number.NaN,
        target: `<= ${STATUS_TARGET}x`,
        ok: false,
        detail: statusSkipped,
      });
    } else {
      const ratio = ms('adci deploy --action status') / ms('kubectl get');
      figures.push({
        name: 'adci deploy --action status vs kubectl get of the same objects',
        ratio,
        target: `<= ${STATUS_TARGET}x`,
        ok: ratio <= STATUS_TARGET,
        detail: `${ms('adci deploy --action status').toFixed(1)} ms vs kubectl get services,deployments,controllerrevisions ${ms('kubectl get').toFixed(1)} ms (medians of ${RUNS})`,
      });
    }
    return figures;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    rmSync(temp, { recursive: true, force: true });
  }
}

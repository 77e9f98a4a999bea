// Real Prometheus and Alertmanager for the tests (Debian's `prometheus` 2.42 and
// `prometheus-alertmanager` 0.25 binaries, which .ci/run installs): each test starts its own on
// free loopback ports with temporary directories, and stops them when it ends. Prometheus finds
// pods through kubernetes_sd_configs against the local API server (the admin kubeconfig) and
// scrapes the annotated ones (prometheus.io/scrape, /port, /path) every second.
// Debian builds Prometheus without its Kubernetes service discovery (`kubernetes_sd_configs` is an
// unknown field there), so with such a binary a discovery bridge on loopback lists the pods through
// the API server and serves them to Prometheus's http_sd_configs with the very same
// __meta_kubernetes_pod_* labels; the relabelling, and so every target label, is identical.
// ADCI_PROMETHEUS may name a full build, which then uses kubernetes_sd_configs directly.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createServer as createHttpServer, request, type Server } from 'node:http';
import { KubeClient } from '../../packages/kube/src/index.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

const BINARIES = {
  amtool: ['amtool'],
  prometheus: ['prometheus'],
  promtool: ['promtool'],
  alertmanager: ['prometheus-alertmanager', 'alertmanager'],
} as const;

function findOnPath(names: readonly string[]): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin', '/usr/sbin']);
  for (const name of names) for (const dir of dirs) if (dir && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

export function binary(name: keyof typeof BINARIES): string | undefined {
  const override = process.env[`ADCI_${name.toUpperCase()}`];
  return override || findOnPath(BINARIES[name]);
}

/** Why the monitoring stack cannot run here, or undefined. */
export function missingMonitoringReason(): string | undefined {
  const missing = (['prometheus', 'alertmanager'] as const).filter((n) => !binary(n));
  return missing.length
    ? `${missing.join(' and ')} not installed: apt-get install -y prometheus prometheus-alertmanager (.ci/run does)`
    : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface MonitoringOptions {
  /** Discover and scrape annotated pods in these namespaces through this kubeconfig. */
  kubernetes?: { kubeconfig: string; namespaces: string[] };
  /** Static targets (host:port), scraped at /metrics. */
  staticTargets?: string[];
  scrapeInterval?: string;
  evaluationInterval?: string;
  /** Alerting rule files for Prometheus. */
  ruleFiles?: string[];
  /** Start Alertmanager with this configuration (YAML text) and point Prometheus at it. */
  alertmanagerConfig?: string;
}

export interface Monitoring {
  prometheusUrl: string;
  alertmanagerUrl?: string;
  dir: string;
  /** Tail of the processes' logs, for a failing test's message. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

interface Started {
  child: ChildProcess;
  log: string;
}

function startLogged(file: string, args: string[], log: string): Started {
  const out = createWriteStream(log);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return { child, log };
}

async function waitReady(
  url: string,
  started: Started,
  what: string,
  timeoutMs = 30_000,
  accept: (body: string) => boolean = () => true,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    if (started.child.exitCode !== null) {
      const tail = (await readFile(started.log, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
      throw new Error(`${what} exited with code ${started.child.exitCode}:\n${tail}`);
    }
    try {
      const response = await fetch(url);
      const body = await response.text();
      if (response.ok && accept(body)) return;
      last = `HTTP ${response.status}: ${body.slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready at ${url} after ${timeoutMs} ms (${last}); log: ${started.log}`);
}

async function stopChild(started: Started): Promise<void> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

let kubernetesSd: boolean | undefined;

/** Whether this Prometheus build has kubernetes_sd_configs (Debian's does not). */
export async function supportsKubernetesSd(): Promise<boolean> {
  if (kubernetesSd !== undefined) return kubernetesSd;
  const dir = await mkdtemp(join(tmpdir(), 'adci-promcheck-'));
  const file = join(dir, 'p.yml');
  await writeFile(file, stringify({ scrape_configs: [{ job_name: 'k', kubernetes_sd_configs: [{ role: 'pod' }] }] }));
  const run = spawnSync(binary('promtool') ?? 'promtool', ['check', 'config', '--syntax-only', file], {
    encoding: 'utf8',
  });
  await rm(dir, { recursive: true, force: true });
  kubernetesSd = run.status === 0;
  return kubernetesSd;
}

interface PodJson {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: { podIP?: string; phase?: string };
  spec?: { containers?: { ports?: { containerPort: number }[] }[] };
}

const metaName = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');

/** The targets kubernetes_sd_configs (role: pod) would give for these pods, in http_sd's format. */
export function podTargets(pods: PodJson[]): { targets: string[]; labels: Record<string, string> }[] {
  return pods
    .filter((pod) => pod.status?.podIP)
    .map((pod) => {
      const labels: Record<string, string> = {
        __meta_kubernetes_namespace: pod.metadata.namespace ?? '',
        __meta_kubernetes_pod_name: pod.metadata.name,
        __meta_kubernetes_pod_ip: pod.status?.podIP ?? '',
        __meta_kubernetes_pod_phase: pod.status?.phase ?? '',
      };
      for (const [k, v] of Object.entries(pod.metadata.labels ?? {}))
        labels[`__meta_kubernetes_pod_label_${metaName(k)}`] = v;
      for (const [k, v] of Object.entries(pod.metadata.annotations ?? {}))
        labels[`__meta_kubernetes_pod_annotation_${metaName(k)}`] = v;
      const port = pod.spec?.containers?.[0]?.ports?.[0]?.containerPort;
      return { targets: [port ? `${pod.status?.podIP}:${port}` : (pod.status?.podIP as string)], labels };
    });
}

/** Serves the pods of `namespaces` to Prometheus's http_sd_configs, listed fresh on each refresh. */
async function startDiscoveryBridge(
  kubeconfig: string,
  namespaces: string[],
): Promise<{ url: string; server: Server }> {
  const kube = new KubeClient({ kubeconfig: await readFile(kubeconfig, 'utf8') });
  const server = createHttpServer((_req, res) => {
    Promise.all(namespaces.map((ns) => kube.list('Pod', ns)))
      .then((lists) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(podTargets(lists.flatMap((l) => l.items))));
      })
      .catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`, server };
}

/** The scrape job for annotated pods, as a Prometheus operator would write it. */
export function kubernetesPodsJob(
  kubeconfig: string,
  namespaces: string[],
  interval: string,
  bridgeUrl?: string,
): Record<string, unknown> {
  return {
    job_name: 'kubernetes-pods',
    scrape_interval: interval,
    scrape_timeout: interval,
    ...(bridgeUrl
      ? { http_sd_configs: [{ url: bridgeUrl, refresh_interval: '1s' }] }
      : { kubernetes_sd_configs: [{ role: 'pod', kubeconfig_file: kubeconfig, namespaces: { names: namespaces } }] }),
    relabel_configs: [
      { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' },
      { source_labels: ['__meta_kubernetes_pod_phase'], action: 'drop', regex: 'Pending|Succeeded|Failed' },
      {
        source_labels: ['__meta_kubernetes_pod_ip', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
        action: 'replace',
        regex: '(.+);(\\d+)',
        replacement: '$1:$2',
        target_label: '__address__',
      },
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'],
        action: 'replace',
        regex: '(.+)',
        target_label: '__metrics_path__',
      },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_label_app'], target_label: 'app' },
      { source_labels: ['__meta_kubernetes_pod_label_adci_dev_color'], target_label: 'color' },
    ],
  };
}

export async function startMonitoring(options: MonitoringOptions): Promise<Monitoring> {
  const reason = missingMonitoringReason();
  if (reason) throw new Error(reason);
  const dir = await mkdtemp(join(tmpdir(), 'adci-monitoring-'));
  const interval = options.scrapeInterval ?? '1s';
  const processes: Started[] = [];
  let bridge: Server | undefined;
  const stop = async (): Promise<void> => {
    for (const p of processes.reverse()) await stopChild(p);
    await new Promise<void>((resolve) => (bridge ? bridge.close(() => resolve()) : resolve()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let alertmanagerUrl: string | undefined;
    let alertmanagerTarget: string | undefined;
    if (options.alertmanagerConfig !== undefined) {
      const port = await freePort();
      const config = join(dir, 'alertmanager.yml');
      await writeFile(config, options.alertmanagerConfig);
      const am = startLogged(
        binary('alertmanager') as string,
        [
          `--config.file=${config}`,
          `--storage.path=${join(dir, 'alertmanager-data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--cluster.listen-address=',
          '--log.level=info',
        ],
        join(dir, 'alertmanager.log'),
      );
      processes.push(am);
      alertmanagerTarget = `127.0.0.1:${port}`;
      alertmanagerUrl = `http://${alertmanagerTarget}`;
      await waitReady(`${alertmanagerUrl}/-/ready`, am, 'Alertmanager');
    }
    const scrapeConfigs: Record<string, unknown>[] = [];
    if (options.kubernetes) {
      const { kubeconfig, namespaces } = options.kubernetes;
      let bridgeUrl: string | undefined;
      if (!(await supportsKubernetesSd())) {
        const started = await startDiscoveryBridge(kubeconfig, namespaces);
        bridge = started.server;
        bridgeUrl = started.url;
      }
      scrapeConfigs.push(kubernetesPodsJob(kubeconfig, namespaces, interval, bridgeUrl));
    }
    if (options.staticTargets?.length)
      scrapeConfigs.push({
        job_name: 'static',
        scrape_interval: interval,
        scrape_timeout: interval,
        static_configs: [{ targets: options.staticTargets }],
      });
    const config = {
      global: { scrape_interval: interval, evaluation_interval: options.evaluationInterval ?? interval },
      rule_files: options.ruleFiles ?? [],
      ...(alertmanagerTarget
        ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanagerTarget] }] }] } }
        : {}),
      scrape_configs: scrapeConfigs,
    };
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, stringify(config));
    const port = await freePort();
    const prom = startLogged(
      binary('prometheus') as string,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=2h',
        '--web.enable-lifecycle',
        '--log.level=info',
      ],
      join(dir, 'prometheus.log'),
    );
    processes.push(prom);
    const prometheusUrl = `http://127.0.0.1:${port}`;
    await waitReady(`${prometheusUrl}/-/ready`, prom, 'Prometheus');
    // Discovery hands targets to the scrapers ~5 s after start: wait for the first scrape of each
    // static target, so a test's first query sees data.
    if (options.staticTargets?.length) {
      const expected = options.staticTargets.length;
      await waitReady(
        `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(`count(up{job="static"}) == ${expected}`)}`,
        prom,
        'the first scrape',
        30_000,
        (body) => body.includes('"value"'),
      );
    }
    return {
      prometheusUrl,
      alertmanagerUrl,
      dir,
      async logs() {
        const parts = await Promise.all(
          processes.map(
            async (p) =>
              `== ${p.log}\n${(await readFile(p.log, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n')}`,
          ),
        );
        return parts.join('\n');
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs promtool with an argument array; resolves its exit code and output. */
export function promtool(args: string[], cwd?: string): { code: number; output: string } {
  const file = binary('promtool');
  if (!file) throw new Error('promtool is not installed (apt-get install -y prometheus)');
  const run = spawnSync(file, args, { cwd, encoding: 'utf8' });
  return { code: run.status ?? 1, output: `${run.stdout}${run.stderr}` };
}

/**
 * Users: GET /campaigns and POST /bid through the NodePort, ~40 req/s, until stopped. Each request
 * on a new connection, as many distinct users' would be: kube-proxy balances per connection, and a
 * kept-alive one would stay on the old colour after the switch.
 */
export function startAdPlatformTraffic(
  host: string,
  port: number,
): { stop: () => Promise<{ sent: number; failed: number }> } {
  let running = true;
  let sent = 0;
  let failed = 0;
  const once = (method: string, path: string, body?: string): Promise<number> =>
    new Promise((resolve) => {
      const req = request(
        {
          host,
          port,
          method,
          path,
          agent: false,
          headers: body ? { 'content-type': 'application/json' } : {},
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.setTimeout(5000, () => req.destroy());
      req.end(body);
    });
  const worker = async (method: string, path: string, body?: string): Promise<void> => {
    while (running) {
      const started = Date.now();
      const status = await once(method, path, body);
      if (status === 0 || status >= 500) failed++;
      sent++;
      await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - started))));
    }
  };
  const workers = [worker('GET', '/campaigns?limit=5'), worker('POST', '/bid', '{"country":"ZZ","device":"mobile"}')];
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return { sent, failed };
    },
  };
}

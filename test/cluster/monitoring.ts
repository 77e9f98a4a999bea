// Real Prometheus and Alertmanager for the tests: Prometheus 3.16 (prometheus and promtool) built
// once per machine from its Go module (test/cluster/prometheus/go.mod, through gobuild.ts, like the
// cluster's binaries) with only the Kubernetes, file and HTTP service discovery, and Debian's
// `prometheus-alertmanager` 0.25 (and amtool), which .ci/run installs. Each test starts its own
// processes on free loopback ports with temporary directories, and stops them when it ends.
// Prometheus finds pods through kubernetes_sd_configs (role: pod) against the cluster's API server,
// with the credentials of the kubeconfig written to files in the temporary directory, and scrapes
// the annotated ones (prometheus.io/scrape, /port, /path) every second. ADCI_PROMETHEUS and
// ADCI_PROMTOOL may name other builds of those two (they need the Kubernetes discovery).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { cacheDir, clusterSourceDir } from './config.ts';
import { ensureGoBuild, goAvailable, goEnv, isBuilt, recipeHash, type GoBuild } from './gobuild.ts';

const BINARIES = {
  amtool: ['amtool'],
  alertmanager: ['prometheus-alertmanager', 'alertmanager'],
} as const;

function findOnPath(names: readonly string[]): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin', '/usr/sbin']);
  for (const name of names) for (const dir of dirs) if (dir && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** Debian's Alertmanager binaries (ADCI_ALERTMANAGER / ADCI_AMTOOL override). */
export function binary(name: keyof typeof BINARIES): string | undefined {
  const override = process.env[`ADCI_${name.toUpperCase()}`];
  return override || findOnPath(BINARIES[name]);
}

// ── Prometheus, built from its Go module ─────────────────────────────────────────────────────

export const prometheusModuleDir = join(clusterSourceDir, 'prometheus');
const prometheusPackages = [
  'github.com/prometheus/prometheus/cmd/prometheus',
  'github.com/prometheus/prometheus/cmd/promtool',
];
// plugins/: `remove_all_sd` drops every service discovery but file and HTTP, `enable_kubernetes_sd`
// keeps Kubernetes'. No `builtinassets`: the web UI is not embedded (the tests use the HTTP API).
const prometheusTags = 'remove_all_sd,enable_kubernetes_sd';

/** `3.16.0`, from the module version in go.mod (github.com/prometheus/prometheus v0.316.0). */
export function prometheusVersion(): string {
  const mod = readFileSync(join(prometheusModuleDir, 'go.mod'), 'utf8');
  const match = /github\.com\/prometheus\/prometheus v0\.(\d)(\d\d)\.(\d+)/.exec(mod);
  if (!match) throw new Error(`${join(prometheusModuleDir, 'go.mod')}: no github.com/prometheus/prometheus v0.3XX.Y`);
  return `${match[1]}.${Number(match[2])}.${match[3]}`;
}

function prometheusBuild(): GoBuild {
  const version = prometheusVersion();
  const ldflags = `-s -w -X github.com/prometheus/common/version.Version=${version}`;
  const args = ['build', '-v', '-trimpath', '-tags', prometheusTags, '-ldflags', ldflags];
  const key = recipeHash(prometheusModuleDir, ['go.mod', 'go.sum'], [...args, ...prometheusPackages]);
  return {
    what: `Prometheus ${version} (prometheus, promtool)`,
    dir: join(cacheDir, `prometheus-${version}-${key}`),
    expected: 'about 3 minutes on 2 cores',
    commands: (partial) => [
      {
        args: [...args, '-o', `${partial}/`, ...prometheusPackages],
        cwd: prometheusModuleDir,
        env: goEnv(),
        progressOf: prometheusPackages,
      },
    ],
  };
}

export interface PrometheusBinaries {
  prometheus: string;
  promtool: string;
}

/** prometheus and promtool: ADCI_PROMETHEUS / ADCI_PROMTOOL, else the cached build (made first if missing). */
export async function ensurePrometheus(log?: (line: string) => void): Promise<PrometheusBinaries> {
  const { ADCI_PROMETHEUS: prometheus, ADCI_PROMTOOL: promtool } = process.env;
  if (prometheus && promtool) return { prometheus, promtool };
  const dir = await ensureGoBuild({ ...prometheusBuild(), ...(log ? { log } : {}) });
  return { prometheus: prometheus || join(dir, 'prometheus'), promtool: promtool || join(dir, 'promtool') };
}

/** Why Prometheus cannot run here (no build and no Go to make one), or undefined. */
export function missingPrometheusReason(): string | undefined {
  if (process.env.ADCI_PROMETHEUS && process.env.ADCI_PROMTOOL) return undefined;
  if (isBuilt(prometheusBuild()) || goAvailable()) return undefined;
  return `Prometheus ${prometheusVersion()} is built once from its Go module, and Go is not on PATH`;
}

/** Why the monitoring stack cannot run here, or undefined. */
export function missingMonitoringReason(): string | undefined {
  const reasons = [missingPrometheusReason()];
  if (!binary('alertmanager'))
    reasons.push('prometheus-alertmanager is not installed: apt-get install -y prometheus-alertmanager (.ci/run does)');
  const found = reasons.filter(Boolean);
  return found.length ? found.join('; ') : undefined;
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

interface KubeconfigDoc {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name: string; cluster?: Record<string, unknown> }[];
  users?: { name: string; user?: Record<string, unknown> }[];
}

/** kubernetes_sd_configs' connection settings: the API server and credentials as Prometheus reads them. */
export interface KubernetesSdConnection {
  api_server: string;
  tls_config: { ca_file?: string; cert_file?: string; key_file?: string; insecure_skip_verify?: boolean };
  authorization?: { type: 'Bearer'; credentials_file: string };
  basic_auth?: { username: string; password_file: string };
}

/**
 * The current context's API server and credentials of a kubeconfig, written to files (mode 0600) in
 * dir for kubernetes_sd_configs: the secrets are never in Prometheus's configuration, argv or logs.
 */
export async function kubernetesSdConnection(kubeconfig: string, dir: string): Promise<KubernetesSdConnection> {
  const fail = (why: string): Error => new Error(`kubeconfig ${kubeconfig}: ${why}`);
  let doc: KubeconfigDoc;
  try {
    doc = parse(await readFile(kubeconfig, 'utf8')) as KubeconfigDoc;
  } catch (error) {
    throw fail(`unreadable (${(error as Error).message.split('\n')[0]})`);
  }
  const context = doc?.contexts?.find((c) => c.name === doc['current-context'])?.context;
  if (!context) throw fail(`no context named by current-context (${String(doc?.['current-context'])})`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === context.user)?.user ?? {};
  if (typeof cluster?.server !== 'string') throw fail(`cluster ${String(context.cluster)} has no server`);
  const base = dirname(resolve(kubeconfig));
  const secrets = join(dir, 'kubernetes-sd');
  await mkdir(secrets, { recursive: true, mode: 0o700 });
  // A `-data` field (base64) is written to a file; a path field is used as it is (relative to the kubeconfig).
  const file = async (from: Record<string, unknown>, field: string, name: string): Promise<string | undefined> => {
    const data = from[`${field}-data`];
    if (typeof data === 'string') {
      const path = join(secrets, name);
      await writeFile(path, Buffer.from(data, 'base64'), { mode: 0o600 });
      return path;
    }
    const path = from[field];
    return typeof path === 'string' ? resolve(base, path) : undefined;
  };
  if (user.exec || user['auth-provider'])
    throw fail('exec and auth-provider users are not supported here: use a client certificate or a token');
  const connection: KubernetesSdConnection = { api_server: cluster.server, tls_config: {} };
  const ca = await file(cluster, 'certificate-authority', 'ca.crt');
  if (ca) connection.tls_config.ca_file = ca;
  if (cluster['insecure-skip-tls-verify'] === true) connection.tls_config.insecure_skip_verify = true;
  const cert = await file(user, 'client-certificate', 'client.crt');
  const key = await file(user, 'client-key', 'client.key');
  if (cert && key) Object.assign(connection.tls_config, { cert_file: cert, key_file: key });
  if (typeof user.token === 'string') {
    const path = join(secrets, 'token');
    await writeFile(path, user.token, { mode: 0o600 });
    connection.authorization = { type: 'Bearer', credentials_file: path };
  } else if (typeof user.tokenFile === 'string') {
    connection.authorization = { type: 'Bearer', credentials_file: resolve(base, user.tokenFile) };
  } else if (typeof user.username === 'string' && typeof user.password === 'string') {
    const path = join(secrets, 'password');
    await writeFile(path, user.password, { mode: 0o600 });
    connection.basic_auth = { username: user.username, password_file: path };
  }
  return connection;
}

/** The scrape job for annotated pods, as a Prometheus operator would write it. */
export function kubernetesPodsJob(
  connection: KubernetesSdConnection,
  namespaces: string[],
  interval: string,
): Record<string, unknown> {
  return {
    job_name: 'kubernetes-pods',
    scrape_interval: interval,
    scrape_timeout: interval,
    kubernetes_sd_configs: [{ role: 'pod', ...connection, namespaces: { names: namespaces } }],
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
  const { prometheus } = await ensurePrometheus();
  const dir = await mkdtemp(join(tmpdir(), 'adci-monitoring-'));
  await chmod(dir, 0o700);
  const interval = options.scrapeInterval ?? '1s';
  const processes: Started[] = [];
  const stop = async (): Promise<void> => {
    for (const p of processes.reverse()) await stopChild(p);
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
      scrapeConfigs.push(kubernetesPodsJob(await kubernetesSdConnection(kubeconfig, dir), namespaces, interval));
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
      prometheus,
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
    // Discovery hands targets to the scrapers ~5 s after start: wait for the first successful scrape
    // of each static target, so a test's first query sees data (a failing one says why).
    if (options.staticTargets?.length) {
      const expected = options.staticTargets.length;
      await waitReady(
        `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(`count(up{job="static"} == 1) == ${expected}`)}`,
        prom,
        'the first scrape',
        30_000,
        (body) => body.includes('"value"'),
      ).catch(async (error: unknown) => {
        const targets = (await (
          await fetch(`${prometheusUrl}/api/v1/targets?state=active`)
        )
          .json()
          .catch(() => ({}))) as {
          data?: { activeTargets?: { scrapeUrl: string; lastError: string }[] };
        };
        const errors = (targets.data?.activeTargets ?? [])
          .filter((t) => t.lastError)
          .map((t) => `${t.scrapeUrl}: ${t.lastError}`);
        throw new Error(`${(error as Error).message}${errors.length ? `\nscrape errors:\n${errors.join('\n')}` : ''}`);
      });
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

/** Runs promtool (the same build as the Prometheus the tests run) with an argument array. */
export async function promtool(args: string[], cwd?: string): Promise<{ code: number; output: string }> {
  const { promtool: file } = await ensurePrometheus();
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

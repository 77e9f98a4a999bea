// up / down / status of the local test cluster: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler built from source, plus the adci-node process kubelet and kube-proxy.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:net';
import { ensureBinaries, type Binaries } from './build.ts';
import {
  bridgeName,
  host,
  imageMapPath,
  kubernetesVersion,
  netnsPrefix,
  nodeName,
  nodePortRange,
  paths,
  podCidr,
  podGateway,
  ports,
  proxySyncDelay,
  repoRoot,
  restrictedNamespace,
  restrictedServiceAccount,
  serviceCidr,
} from './config.ts';
import { KubeApi, apiserverUrl, adminTls, httpsRequest } from './kube-api.ts';
import { generatePki, identities, writeKubeconfig } from './pki.ts';
import { isRunning, readPidRecords, startProcess, stopProcess, tailLog } from './processes.ts';
import { commandExists, log, run, sleep } from './run.ts';

export interface ClusterInfo {
  kubeconfig: string;
  restrictedKubeconfig: string;
  restrictedNamespace: string;
  kubectl: string;
  version: string;
  nodeName: string;
  nodeAddress: string;
  server: string;
  startedAt: string;
}

const componentOrder = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'];

function pki(name: string): string {
  return join(paths.pki, name);
}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  component?: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (component) {
      const record = (await readPidRecords()).find((r) => r.name === component);
      if (record && !isRunning(record)) {
        throw new Error(`${component} exited while waiting for ${what}; last log lines:\n${await tailLog(component)}`);
      }
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  const logs = component ? `\nlast log lines of ${component}:\n${await tailLog(component)}` : '';
  throw new Error(
    `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? ` (${lastError})` : ''}${logs}`,
  );
}

async function aptInstall(packages: string[]): Promise<void> {
  log(`installing ${packages.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update'], { env, timeoutMs: 10 * 60_000 });
  await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, timeoutMs: 10 * 60_000 });
}

async function ensureHostTools(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('the test cluster creates network namespaces and must run as root');
  }
  const missing: string[] = [];
  if (!(await commandExists('ip'))) missing.push('iproute2');
  if (!(await commandExists('openssl'))) missing.push('openssl');
  if (missing.length) await aptInstall(missing);
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.on('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolvePromise(false);
    });
    socket.on('error', () => resolvePromise(false));
  });
}

async function readClusterInfo(): Promise<ClusterInfo | undefined> {
  try {
    return JSON.parse(await readFile(paths.clusterInfo, 'utf8')) as ClusterInfo;
  } catch {
    return undefined;
  }
}

async function apiserverReady(): Promise<boolean> {
  try {
    const res = await httpsRequest(`${apiserverUrl}/readyz`, { tls: adminTls(), timeoutMs: 3000 });
    return res.status === 200;
  } catch {
    return false;
  }
}

async function componentKubeconfig(id: { name: string }): Promise<string> {
  const path = join(paths.kubeconfigs, `${id.name}.kubeconfig`);
  await writeKubeconfig(path, {
    server: apiserverUrl,
    caFile: pki('ca.crt'),
    user: id.name,
    certFile: pki(`${id.name}.crt`),
    keyFile: pki(`${id.name}.key`),
  });
  return path;
}

async function startEtcd(bin: Binaries): Promise<void> {
  const client = `http://${host}:${ports.etcdClient}`;
  const peer = `http://${host}:${ports.etcdPeer}`;
  await startProcess('etcd', 0, bin.etcd, [
    '--name=adci',
    `--data-dir=${paths.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=adci=${peer}`,
    '--initial-cluster-state=new',
    // A throwaway test store: skipping fsync makes it fast and loses nothing that matters.
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]);
  await waitFor(
    'etcd',
    20_000,
    async () => {
      const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { health?: string };
      return body.health === 'true' ? true : undefined;
    },
    'etcd',
  );
}

async function startApiserver(bin: Binaries): Promise<void> {
  await startProcess('kube-apiserver', 1, bin.kubeApiserver, [
    `--etcd-servers=http://${host}:${ports.etcdClient}`,
    `--bind-address=${host}`,
    `--secure-port=${ports.apiserver}`,
    // The kubernetes Service would point at this address; loopback is not allowed there.
    `--advertise-address=${podGateway}`,
    '--endpoint-reconciler-type=none',
    `--service-cluster-ip-range=${serviceCidr}`,
    `--service-node-port-range=${nodePortRange}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    '--authorization-mode=Node,RBAC',
    // Published in extension-apiserver-authentication, which the other components read at start.
    `--requestheader-client-ca-file=${pki('ca.crt')}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    // `kubectl logs` reaches the process kubelet's HTTPS endpoint with this identity.
    `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
    `--kubelet-certificate-authority=${pki('ca.crt')}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--enable-admission-plugins=NodeRestriction',
    // No node lifecycle controller runs to lift the not-ready taint this plugin would add.
    '--disable-admission-plugins=TaintNodesByCondition',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    '--allow-privileged=true',
    '--profiling=false',
    '--v=1',
  ]);
  await waitFor(
    'kube-apiserver /readyz',
    90_000,
    async () => ((await apiserverReady()) ? true : undefined),
    'kube-apiserver',
  );
}

async function startControllers(bin: Binaries): Promise<void> {
  const kcm = await componentKubeconfig(identities.controllerManager);
  const scheduler = await componentKubeconfig(identities.scheduler);
  await startProcess('kube-controller-manager', 2, bin.kubeControllerManager, [
    `--kubeconfig=${kcm}`,
    `--authentication-kubeconfig=${kcm}`,
    `--authorization-kubeconfig=${kcm}`,
    `--bind-address=${host}`,
    `--secure-port=${ports.controllerManager}`,
    '--leader-elect=false',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki('sa.key')}`,
    `--root-ca-file=${pki('ca.crt')}`,
    // Node lifecycle stays off: the one node is kept Ready by the kubelet's own heartbeat.
    '--controllers=' +
      [
        'deployment-controller',
        'replicaset-controller',
        'replicationcontroller-controller',
        'statefulset-controller',
        'daemonset-controller',
        'job-controller',
        'cronjob-controller',
        'ttl-after-finished-controller',
        'endpoints-controller',
        'endpointslice-controller',
        'endpointslice-mirroring-controller',
        'garbage-collector-controller',
        'namespace-controller',
        'serviceaccount-controller',
        'serviceaccount-token-controller',
        'root-ca-certificate-publisher-controller',
        'disruption-controller',
        'pod-garbage-collector-controller',
        'resourcequota-controller',
        'clusterrole-aggregation-controller',
        'horizontal-pod-autoscaler-controller',
      ].join(','),
    '--v=1',
  ]);
  await startProcess('kube-scheduler', 3, bin.kubeScheduler, [
    `--kubeconfig=${scheduler}`,
    `--authentication-kubeconfig=${scheduler}`,
    `--authorization-kubeconfig=${scheduler}`,
    `--bind-address=${host}`,
    `--secure-port=${ports.scheduler}`,
    '--leader-elect=false',
    '--v=1',
  ]);
}

async function startNode(bin: Binaries): Promise<void> {
  const kubelet = await componentKubeconfig(identities.kubelet);
  const proxy = await componentKubeconfig(identities.proxy);
  await startProcess('kubelet', 4, bin.adciNode, [
    'kubelet',
    `--kubeconfig=${kubelet}`,
    `--node-name=${nodeName}`,
    `--node-ip=${host}`,
    `--pod-cidr=${podCidr}`,
    `--bridge=${bridgeName}`,
    `--image-map=${imageMapPath}`,
    `--repo-root=${repoRoot}`,
    `--node-binary=${process.execPath}`,
    `--pod-log-dir=${paths.podLogs}`,
    `--kubelet-version=${kubernetesVersion}`,
    `--healthz-address=${host}:${ports.kubeletHealthz}`,
    `--server-address=${host}:${ports.kubelet}`,
    `--tls-cert-file=${pki('kubelet-serving.crt')}`,
    `--tls-private-key-file=${pki('kubelet-serving.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--crash-backoff=${process.env.ADCI_CRASH_BACKOFF ?? '10s'}`,
    `--image-pull-backoff=${process.env.ADCI_IMAGE_PULL_BACKOFF ?? '10s'}`,
  ]);
  await startProcess('kube-proxy', 5, bin.adciNode, [
    'proxy',
    `--kubeconfig=${proxy}`,
    `--bind-address=${host}`,
    `--sync-delay=${proxySyncDelay()}`,
    `--healthz-address=${host}:${ports.proxyHealthz}`,
  ]);
}

async function setupRestrictedUser(api: KubeApi): Promise<void> {
  const ns = restrictedNamespace;
  const sa = restrictedServiceAccount;
  await api.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await api.create(`/api/v1/namespaces/${ns}/serviceaccounts`, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: sa },
  });
  await api.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'adci-deployer' },
    rules: [
      {
        apiGroups: [''],
        resources: ['pods', 'pods/log', 'services', 'endpoints', 'configmaps', 'secrets', 'events'],
        verbs: ['*'],
      },
      { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale', 'replicasets'], verbs: ['*'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['*'] },
    ],
  });
  await api.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'adci-deployer' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'adci-deployer' },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
  });
  // A long-lived token Secret, filled in by the serviceaccount-token controller.
  await api.create(`/api/v1/namespaces/${ns}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: { name: `${sa}-token`, annotations: { 'kubernetes.io/service-account.name': sa } },
  });
  const token = await waitFor(
    'the restricted user token',
    30_000,
    async () => {
      const secret = await api.get<{ data?: { token?: string } }>(`/api/v1/namespaces/${ns}/secrets/${sa}-token`);
      return secret?.data?.token ? Buffer.from(secret.data.token, 'base64').toString() : undefined;
    },
    'kube-controller-manager',
  );
  await writeKubeconfig(paths.restrictedKubeconfig, {
    server: apiserverUrl,
    caFile: pki('ca.crt'),
    user: sa,
    token,
    namespace: ns,
  });
}

async function waitForNode(api: KubeApi): Promise<void> {
  await waitFor(
    `node ${nodeName} Ready`,
    30_000,
    async () => {
      const node = await api.get<{
        status?: { conditions?: { type: string; status: string }[] };
        spec?: { taints?: unknown[] };
      }>(`/api/v1/nodes/${nodeName}`);
      const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready && !node?.spec?.taints?.length ? true : undefined;
    },
    'kubelet',
  );
  await waitFor(
    'the default ServiceAccount',
    30_000,
    async () => ((await api.get('/api/v1/namespaces/default/serviceaccounts/default')) ? true : undefined),
    'kube-controller-manager',
  );
  await waitFor(
    'kube-scheduler health',
    30_000,
    async () => {
      const res = await httpsRequest(`https://${host}:${ports.scheduler}/healthz`, { timeoutMs: 2000 });
      return res.status === 200 ? true : undefined;
    },
    'kube-scheduler',
  );
  await waitFor(
    'kube-proxy health',
    30_000,
    async () => {
      const res = await fetch(`http://${host}:${ports.proxyHealthz}/healthz`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? true : undefined;
    },
    'kube-proxy',
  );
}

export async function up(): Promise<void> {
  const started = Date.now();
  await ensureHostTools();
  const bin = await ensureBinaries();
  const bootStarted = Date.now();

  const info = await readClusterInfo();
  const records = await readPidRecords();
  if (info && records.length === componentOrder.length && records.every(isRunning) && (await apiserverReady())) {
    log(`already running; kubeconfig: ${info.kubeconfig}`);
    return;
  }
  if (records.length || info || existsSync(paths.etcdData)) {
    log('found state from an earlier session; cleaning it up first');
    await down({ quiet: true });
  }
  for (const port of Object.values(ports)) {
    if (await portInUse(port)) {
      throw new Error(`port ${host}:${port} is already in use by something this cluster did not start`);
    }
  }

  await rm(paths.state, { recursive: true, force: true });
  await mkdir(paths.kubeconfigs, { recursive: true, mode: 0o700 });
  try {
    await generatePki(paths.pki);
    await writeKubeconfig(paths.adminKubeconfig, {
      server: apiserverUrl,
      caFile: pki('ca.crt'),
      user: 'adci-admin',
      certFile: pki('admin.crt'),
      keyFile: pki('admin.key'),
    });
    log('starting etcd');
    await startEtcd(bin);
    log('starting kube-apiserver');
    await startApiserver(bin);
    log('starting kube-controller-manager, kube-scheduler, kubelet, kube-proxy');
    await startControllers(bin);
    await startNode(bin);
    const api = new KubeApi();
    await waitForNode(api);
    await setupRestrictedUser(api);
    const clusterInfo: ClusterInfo = {
      kubeconfig: paths.adminKubeconfig,
      restrictedKubeconfig: paths.restrictedKubeconfig,
      restrictedNamespace,
      kubectl: bin.kubectl,
      version: kubernetesVersion,
      nodeName,
      nodeAddress: host,
      server: apiserverUrl,
      startedAt: new Date().toISOString(),
    };
    await writeFile(paths.clusterInfo, `${JSON.stringify(clusterInfo, null, 2)}\n`);
  } catch (err) {
    log('start failed; stopping what was started');
    await down({ quiet: true });
    throw err;
  }
  log(
    `cluster ready in ${((Date.now() - bootStarted) / 1000).toFixed(1)}s (total ${((Date.now() - started) / 1000).toFixed(1)}s)`,
  );
  log(`kubeconfig: ${paths.adminKubeconfig}`);
  log(`restricted kubeconfig (namespace ${restrictedNamespace}): ${paths.restrictedKubeconfig}`);
  log(`kubectl: ${bin.kubectl}`);
}

async function listNetns(): Promise<string[]> {
  try {
    return (await readdir('/run/netns')).filter((n) => n.startsWith(netnsPrefix));
  } catch {
    return [];
  }
}

function linkExists(name: string): Promise<boolean> {
  return Promise.resolve(existsSync(`/sys/class/net/${name}`));
}

export async function down(options: { quiet?: boolean } = {}): Promise<void> {
  const say = options.quiet ? () => {} : log;
  const records = (await readPidRecords()).reverse();
  for (const record of records) {
    if (isRunning(record)) say(`stopping ${record.name} (pid ${record.pid})`);
    await stopProcess(record, record.name === 'kubelet' ? 15_000 : 10_000);
  }
  // Anything still inside a pod namespace dies with it.
  for (const ns of await listNetns()) {
    try {
      const { stdout } = await run('ip', ['netns', 'pids', ns], { timeoutMs: 10_000 });
      for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 });
      say(`removed network namespace ${ns}`);
    } catch (err) {
      say(`could not remove network namespace ${ns}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  try {
    for (const link of readdirSyncSafe('/sys/class/net').filter((l) => l.startsWith('vadci'))) {
      await run('ip', ['link', 'del', link], { timeoutMs: 10_000 }).catch(() => undefined);
    }
    if (await linkExists(bridgeName)) {
      await run('ip', ['link', 'del', bridgeName], { timeoutMs: 10_000 });
      say(`removed bridge ${bridgeName}`);
    }
  } catch (err) {
    say(`could not remove bridge ${bridgeName}: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Keep logs for a post-mortem; everything else (keys, tokens, etcd data) goes.
  for (const entry of ['pki', 'kubeconfigs', 'etcd', 'pids', 'kubeconfig', 'restricted.kubeconfig', 'cluster.json']) {
    await rm(join(paths.state, entry), { recursive: true, force: true });
  }
  say(`logs kept in ${paths.logs}`);
  const bound: number[] = [];
  for (const port of Object.values(ports)) if (await portInUse(port)) bound.push(port);
  if (bound.length) throw new Error(`ports still bound after down: ${bound.join(', ')}`);
  say('cluster stopped');
}

function readdirSyncSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

interface Health {
  name: string;
  ok: boolean;
  detail: string;
}

async function check(name: string, probe: () => Promise<string>): Promise<Health> {
  try {
    return { name, ok: true, detail: await probe() };
  } catch (err) {
    return { name, ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

export async function status(): Promise<boolean> {
  const info = await readClusterInfo();
  const records = await readPidRecords();
  if (!info && records.length === 0) {
    console.log('cluster: not running (run `npm run cluster -- up`)');
    return false;
  }
  console.log(`kubeconfig:            ${paths.adminKubeconfig}`);
  console.log(`restricted kubeconfig: ${paths.restrictedKubeconfig} (namespace ${restrictedNamespace})`);
  if (info) console.log(`kubectl:               ${info.kubectl}`);
  console.log(`server:                ${apiserverUrl} (Kubernetes ${kubernetesVersion})`);
  console.log(`state and logs:        ${paths.state}`);
  const byName = new Map(records.map((r) => [r.name, r] as const));
  const http = async (url: string): Promise<string> => {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.text()).trim().slice(0, 60);
  };
  const https = async (url: string, tls?: ReturnType<typeof adminTls>): Promise<string> => {
    const res = await httpsRequest(url, { tls, timeoutMs: 3000 });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
    return res.body.trim().slice(0, 60);
  };
  const healthProbes: Record<string, () => Promise<string>> = {
    etcd: () => http(`http://${host}:${ports.etcdClient}/health`),
    'kube-apiserver': () => https(`${apiserverUrl}/readyz`, adminTls()),
    'kube-controller-manager': () => https(`https://${host}:${ports.controllerManager}/healthz`),
    'kube-scheduler': () => https(`https://${host}:${ports.scheduler}/healthz`),
    kubelet: () => http(`http://${host}:${ports.kubeletHealthz}/healthz`),
    'kube-proxy': () => http(`http://${host}:${ports.proxyHealthz}/healthz`),
  };
  const results: Health[] = [];
  for (const name of componentOrder) {
    const record = byName.get(name);
    results.push(
      await check(name, async () => {
        if (!record) throw new Error('not started');
        if (!isRunning(record)) throw new Error(`pid ${record.pid} is not running`);
        return `pid ${record.pid}, ${await healthProbes[name]!()}`;
      }),
    );
  }
  results.push(
    await check(`node ${nodeName}`, async () => {
      const node = await new KubeApi().get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `/api/v1/nodes/${nodeName}`,
      );
      const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status !== 'True') throw new Error(`Ready=${ready?.status ?? 'unknown'}`);
      return 'Ready';
    }),
  );
  for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(24)} ${r.detail}`);
  return results.every((r) => r.ok);
}

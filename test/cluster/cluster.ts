// up / down / status of the local test cluster: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler built from source, plus the adci-node process kubelet and kube-proxy.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:net';
import { ensureBinaries, type Binaries } from './build.ts';
import {
  clusterConfig,
  imageMapPath,
  kubernetesVersion,
  nodeName,
  nodePortRange,
  proxySyncDelay,
  repoRoot,
  restrictedNamespace,
  restrictedServiceAccount,
  type ClusterConfig,
} from './config.ts';
import { KubeApi, adminTls, httpsRequest } from './kube-api.ts';
import { generatePki, identities, writeKubeconfig } from './pki.ts';
import { isRunning, readPidRecords, startProcess, stopProcess, tailLog } from './processes.ts';
import { commandExists, log, run, sleep } from './run.ts';
import { claimSlot, claimedSlots, existingClusterConfig, releaseSlot } from './slots.ts';
import { clusterMemory } from './memory.ts';

/** cluster.json: what tests read to find a cluster (kubeconfig.ts). */
export interface ClusterInfo {
  /** Absent for the default cluster. */
  name?: string;
  kubeconfig: string;
  restrictedKubeconfig: string;
  restrictedNamespace: string;
  kubectl: string;
  version: string;
  nodeName: string;
  nodeAddress: string;
  server: string;
  startedAt: string;
  /** Seconds from the first process started to the cluster ready (binaries already built). */
  startSeconds?: number;
  slot?: number;
  stateDir?: string;
  ports?: Record<string, number>;
  podCidr?: string;
  serviceCidr?: string;
  bridge?: string;
  netnsPrefix?: string;
}

const componentOrder = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'];

function pki(c: ClusterConfig, name: string): string {
  return join(c.paths.pki, name);
}

const clusterLabel = (c: ClusterConfig): string => (c.name === undefined ? 'cluster' : `cluster ${c.name}`);

async function waitFor<T>(
  c: ClusterConfig,
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  component?: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (component) {
      const record = (await readPidRecords(c.paths)).find((r) => r.name === component);
      if (record && !isRunning(record)) {
        throw new Error(
          `${component} exited while waiting for ${what}; last log lines:\n${await tailLog(c.paths, component)}`,
        );
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
  const logs = component ? `\nlast log lines of ${component}:\n${await tailLog(c.paths, component)}` : '';
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

function portInUse(host: string, port: number): Promise<boolean> {
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

async function readClusterInfo(c: ClusterConfig): Promise<ClusterInfo | undefined> {
  try {
    return JSON.parse(await readFile(c.paths.clusterInfo, 'utf8')) as ClusterInfo;
  } catch {
    return undefined;
  }
}

async function apiserverReady(c: ClusterConfig): Promise<boolean> {
  try {
    const res = await httpsRequest(`${c.apiserverUrl}/readyz`, { tls: adminTls(c.paths), timeoutMs: 3000 });
    return res.status === 200;
  } catch {
    return false;
  }
}

async function componentKubeconfig(c: ClusterConfig, id: { name: string }): Promise<string> {
  const path = join(c.paths.kubeconfigs, `${id.name}.kubeconfig`);
  await writeKubeconfig(path, {
    server: c.apiserverUrl,
    caFile: pki(c, 'ca.crt'),
    user: id.name,
    certFile: pki(c, `${id.name}.crt`),
    keyFile: pki(c, `${id.name}.key`),
  });
  return path;
}

async function startEtcd(c: ClusterConfig, bin: Binaries): Promise<void> {
  const client = `http://${c.host}:${c.ports.etcdClient}`;
  const peer = `http://${c.host}:${c.ports.etcdPeer}`;
  await startProcess(c.paths, 'etcd', 0, bin.etcd, [
    '--name=adci',
    `--data-dir=${c.paths.etcdData}`,
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
    c,
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

async function startApiserver(c: ClusterConfig, bin: Binaries): Promise<void> {
  await startProcess(c.paths, 'kube-apiserver', 1, bin.kubeApiserver, [
    `--etcd-servers=http://${c.host}:${c.ports.etcdClient}`,
    `--bind-address=${c.host}`,
    `--secure-port=${c.ports.apiserver}`,
    // The kubernetes Service would point at this address; loopback is not allowed there.
    `--advertise-address=${c.podGateway}`,
    '--endpoint-reconciler-type=none',
    `--service-cluster-ip-range=${c.serviceCidr}`,
    `--service-node-port-range=${nodePortRange}`,
    `--client-ca-file=${pki(c, 'ca.crt')}`,
    `--tls-cert-file=${pki(c, 'apiserver.crt')}`,
    `--tls-private-key-file=${pki(c, 'apiserver.key')}`,
    '--authorization-mode=Node,RBAC',
    // Published in extension-apiserver-authentication, which the other components read at start.
    `--requestheader-client-ca-file=${pki(c, 'ca.crt')}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    // `kubectl logs` reaches the process kubelet's HTTPS endpoint with this identity.
    `--kubelet-client-certificate=${pki(c, 'apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${pki(c, 'apiserver-kubelet-client.key')}`,
    `--kubelet-certificate-authority=${pki(c, 'ca.crt')}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--enable-admission-plugins=NodeRestriction',
    // No node lifecycle controller runs to lift the not-ready taint this plugin would add.
    '--disable-admission-plugins=TaintNodesByCondition',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki(c, 'sa.pub')}`,
    `--service-account-signing-key-file=${pki(c, 'sa.key')}`,
    '--allow-privileged=true',
    '--profiling=false',
    '--v=1',
  ]);
  await waitFor(
    c,
    'kube-apiserver /readyz',
    180_000,
    async () => ((await apiserverReady(c)) ? true : undefined),
    'kube-apiserver',
  );
}

async function startControllers(c: ClusterConfig, bin: Binaries): Promise<void> {
  const kcm = await componentKubeconfig(c, identities.controllerManager);
  const scheduler = await componentKubeconfig(c, identities.scheduler);
  await startProcess(c.paths, 'kube-controller-manager', 2, bin.kubeControllerManager, [
    `--kubeconfig=${kcm}`,
    `--authentication-kubeconfig=${kcm}`,
    `--authorization-kubeconfig=${kcm}`,
    `--bind-address=${c.host}`,
    `--secure-port=${c.ports.controllerManager}`,
    '--leader-elect=false',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki(c, 'sa.key')}`,
    `--root-ca-file=${pki(c, 'ca.crt')}`,
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
  await startProcess(c.paths, 'kube-scheduler', 3, bin.kubeScheduler, [
    `--kubeconfig=${scheduler}`,
    `--authentication-kubeconfig=${scheduler}`,
    `--authorization-kubeconfig=${scheduler}`,
    `--bind-address=${c.host}`,
    `--secure-port=${c.ports.scheduler}`,
    '--leader-elect=false',
    '--v=1',
  ]);
}

async function startNode(c: ClusterConfig, bin: Binaries): Promise<void> {
  const kubelet = await componentKubeconfig(c, identities.kubelet);
  const proxy = await componentKubeconfig(c, identities.proxy);
  await startProcess(c.paths, 'kubelet', 4, bin.adciNode, [
    'kubelet',
    `--kubeconfig=${kubelet}`,
    `--node-name=${nodeName}`,
    `--node-ip=${c.host}`,
    `--pod-cidr=${c.podCidr}`,
    `--bridge=${c.bridgeName}`,
    `--netns-prefix=${c.netnsPrefix}`,
    `--image-map=${imageMapPath}`,
    `--repo-root=${repoRoot}`,
    `--node-binary=${process.execPath}`,
    `--pod-log-dir=${c.paths.podLogs}`,
    `--kubelet-version=${kubernetesVersion}`,
    `--healthz-address=${c.host}:${c.ports.kubeletHealthz}`,
    `--server-address=${c.host}:${c.ports.kubelet}`,
    `--tls-cert-file=${pki(c, 'kubelet-serving.crt')}`,
    `--tls-private-key-file=${pki(c, 'kubelet-serving.key')}`,
    `--client-ca-file=${pki(c, 'ca.crt')}`,
    `--crash-backoff=${process.env.ADCI_CRASH_BACKOFF ?? '10s'}`,
    `--image-pull-backoff=${process.env.ADCI_IMAGE_PULL_BACKOFF ?? '10s'}`,
  ]);
  await startProcess(c.paths, 'kube-proxy', 5, bin.adciNode, [
    'proxy',
    `--kubeconfig=${proxy}`,
    `--bind-address=${c.host}`,
    `--sync-delay=${proxySyncDelay()}`,
    `--healthz-address=${c.host}:${c.ports.proxyHealthz}`,
  ]);
}

async function setupRestrictedUser(c: ClusterConfig, api: KubeApi): Promise<void> {
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
    c,
    'the restricted user token',
    60_000,
    async () => {
      const secret = await api.get<{ data?: { token?: string } }>(`/api/v1/namespaces/${ns}/secrets/${sa}-token`);
      return secret?.data?.token ? Buffer.from(secret.data.token, 'base64').toString() : undefined;
    },
    'kube-controller-manager',
  );
  await writeKubeconfig(c.paths.restrictedKubeconfig, {
    server: c.apiserverUrl,
    caFile: pki(c, 'ca.crt'),
    user: sa,
    token,
    namespace: ns,
  });
}

async function waitForNode(c: ClusterConfig, api: KubeApi): Promise<void> {
  await waitFor(
    c,
    `node ${nodeName} Ready`,
    60_000,
    async () => {
      const node = await api.get<{
        status?: { conditions?: { type: string; status: string }[] };
        spec?: { taints?: unknown[] };
      }>(`/api/v1/nodes/${nodeName}`);
      const ready = node?.status?.conditions?.some((cond) => cond.type === 'Ready' && cond.status === 'True');
      return ready && !node?.spec?.taints?.length ? true : undefined;
    },
    'kubelet',
  );
  await waitFor(
    c,
    'the default ServiceAccount',
    60_000,
    async () => ((await api.get('/api/v1/namespaces/default/serviceaccounts/default')) ? true : undefined),
    'kube-controller-manager',
  );
  await waitFor(
    c,
    'kube-scheduler health',
    60_000,
    async () => {
      const res = await httpsRequest(`https://${c.host}:${c.ports.scheduler}/healthz`, { timeoutMs: 2000 });
      return res.status === 200 ? true : undefined;
    },
    'kube-scheduler',
  );
  await waitFor(
    c,
    'kube-proxy health',
    60_000,
    async () => {
      const res = await fetch(`http://${c.host}:${c.ports.proxyHealthz}/healthz`, {
        signal: AbortSignal.timeout(2000),
      });
      return res.ok ? true : undefined;
    },
    'kube-proxy',
  );
}

/** The cluster's configuration for `up`: the default one, or a named one in its slot (claimed now if need be). */
async function configForUp(name?: string): Promise<ClusterConfig> {
  if (name === undefined) return clusterConfig();
  return clusterConfig(name, await claimSlot(name));
}

export async function up(name?: string): Promise<void> {
  const started = Date.now();
  await ensureHostTools();
  const bin = await ensureBinaries();
  const c = await configForUp(name);
  const label = clusterLabel(c);
  const bootStarted = Date.now();

  const info = await readClusterInfo(c);
  const records = await readPidRecords(c.paths);
  if (info && records.length === componentOrder.length && records.every(isRunning) && (await apiserverReady(c))) {
    log(`${label} already running; kubeconfig: ${info.kubeconfig}`);
    return;
  }
  if (records.length || info || existsSync(c.paths.etcdData)) {
    log(`${label}: found state from an earlier session; cleaning it up first`);
    await stopCluster(c, { quiet: true, keepSlot: true });
  }
  for (const port of Object.values(c.ports)) {
    if (await portInUse(c.host, port)) {
      throw new Error(`port ${c.host}:${port} is already in use by something this cluster did not start`);
    }
  }

  await rm(c.paths.state, { recursive: true, force: true });
  await mkdir(c.paths.kubeconfigs, { recursive: true, mode: 0o700 });
  try {
    await generatePki(c.paths.pki, c);
    await writeKubeconfig(c.paths.adminKubeconfig, {
      server: c.apiserverUrl,
      caFile: pki(c, 'ca.crt'),
      user: 'adci-admin',
      certFile: pki(c, 'admin.crt'),
      keyFile: pki(c, 'admin.key'),
    });
    log(`${label}: starting etcd`);
    await startEtcd(c, bin);
    log(`${label}: starting kube-apiserver`);
    await startApiserver(c, bin);
    log(`${label}: starting kube-controller-manager, kube-scheduler, kubelet, kube-proxy`);
    await startControllers(c, bin);
    await startNode(c, bin);
    const api = new KubeApi(c);
    await waitForNode(c, api);
    await setupRestrictedUser(c, api);
    const clusterInfo: ClusterInfo = {
      ...(c.name === undefined ? {} : { name: c.name }),
      kubeconfig: c.paths.adminKubeconfig,
      restrictedKubeconfig: c.paths.restrictedKubeconfig,
      restrictedNamespace,
      kubectl: bin.kubectl,
      version: kubernetesVersion,
      nodeName,
      nodeAddress: c.host,
      server: c.apiserverUrl,
      startedAt: new Date().toISOString(),
      startSeconds: Number(((Date.now() - bootStarted) / 1000).toFixed(1)),
      slot: c.slot,
      stateDir: c.paths.state,
      ports: { ...c.ports },
      podCidr: c.podCidr,
      serviceCidr: c.serviceCidr,
      bridge: c.bridgeName,
      netnsPrefix: c.netnsPrefix,
    };
    await writeFile(c.paths.clusterInfo, `${JSON.stringify(clusterInfo, null, 2)}\n`);
  } catch (err) {
    log(`${label}: start failed; stopping what was started`);
    await stopCluster(c, { quiet: true });
    throw err;
  }
  log(
    `${label} ready in ${((Date.now() - bootStarted) / 1000).toFixed(1)}s (total ${((Date.now() - started) / 1000).toFixed(1)}s)`,
  );
  log(`kubeconfig: ${c.paths.adminKubeconfig}`);
  log(`restricted kubeconfig (namespace ${restrictedNamespace}): ${c.paths.restrictedKubeconfig}`);
  log(`kubectl: ${bin.kubectl}`);
  log(`NodePorts on ${c.host}; pods in ${c.podCidr} on bridge ${c.bridgeName}`);
}

async function listNetns(prefix: string): Promise<string[]> {
  try {
    return (await readdir('/run/netns')).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

function linkExists(name: string): Promise<boolean> {
  return Promise.resolve(existsSync(`/sys/class/net/${name}`));
}

/** The veths enslaved to a bridge (a pod's host end; its peer is in the pod's namespace). */
function bridgePorts(bridge: string): string[] {
  return readdirSyncSafe(`/sys/class/net/${bridge}/brif`);
}

export async function down(options: { quiet?: boolean; name?: string } = {}): Promise<void> {
  const c = await existingClusterConfig(options.name);
  if (c) {
    await stopCluster(c, options);
  } else {
    // A named cluster that holds no slot: nothing of it can be running; remove what its name owns.
    await removeNetwork(clusterConfigWithoutSlot(options.name!), options.quiet ? () => {} : log);
    await rm(clusterConfigWithoutSlot(options.name!).paths.state, { recursive: true, force: true });
    if (!options.quiet) log(`cluster ${options.name} is not running`);
  }
}

/** The name-derived parts (state dir, bridge, namespaces) of a named cluster that holds no slot. */
function clusterConfigWithoutSlot(name: string): ClusterConfig {
  return clusterConfig(name, 1);
}

async function removeNetwork(c: ClusterConfig, say: (line: string) => void): Promise<void> {
  // Anything still inside a pod namespace dies with it.
  for (const ns of await listNetns(c.netnsPrefix)) {
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
    // Only this cluster's veths: those on its own bridge (another cluster's pods stay connected).
    for (const link of bridgePorts(c.bridgeName)) {
      await run('ip', ['link', 'del', link], { timeoutMs: 10_000 }).catch(() => undefined);
    }
    if (await linkExists(c.bridgeName)) {
      await run('ip', ['link', 'del', c.bridgeName], { timeoutMs: 10_000 });
      say(`removed bridge ${c.bridgeName}`);
    }
  } catch (err) {
    say(`could not remove bridge ${c.bridgeName}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function stopCluster(c: ClusterConfig, options: { quiet?: boolean; keepSlot?: boolean } = {}): Promise<void> {
  const say = options.quiet ? () => {} : log;
  const records = (await readPidRecords(c.paths)).reverse();
  for (const record of records) {
    if (isRunning(record)) say(`stopping ${record.name} (pid ${record.pid})`);
    await stopProcess(c.paths, record, record.name === 'kubelet' ? 15_000 : 10_000);
  }
  await removeNetwork(c, say);
  // Keep logs for a post-mortem; everything else (keys, tokens, etcd data) goes.
  for (const entry of ['pki', 'kubeconfigs', 'etcd', 'pids', 'kubeconfig', 'restricted.kubeconfig', 'cluster.json']) {
    await rm(join(c.paths.state, entry), { recursive: true, force: true });
  }
  say(`logs kept in ${c.paths.logs}`);
  const bound: number[] = [];
  for (const port of Object.values(c.ports)) if (await portInUse(c.host, port)) bound.push(port);
  if (bound.length) throw new Error(`ports still bound on ${c.host} after down: ${bound.join(', ')}`);
  // The slot goes last: until the ports are free, another cluster must not take the address.
  if (c.name !== undefined && !options.keepSlot) await releaseSlot(c.name);
  say(`${clusterLabel(c)} stopped`);
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

const megabytes = (kib: number): string => `${Math.round(kib / 1024)} MB`;

export async function status(name?: string): Promise<boolean> {
  const c = await existingClusterConfig(name);
  const upCommand = `npm run cluster -- up${name === undefined ? '' : ` --name ${name}`}`;
  const info = c ? await readClusterInfo(c) : undefined;
  const records = c ? await readPidRecords(c.paths) : [];
  if (!c || (!info && records.length === 0)) {
    console.log(`${name === undefined ? 'cluster' : `cluster ${name}`}: not running (run \`${upCommand}\`)`);
    return false;
  }
  if (c.name !== undefined) console.log(`cluster:               ${c.name} (slot ${c.slot})`);
  console.log(`kubeconfig:            ${c.paths.adminKubeconfig}`);
  console.log(`restricted kubeconfig: ${c.paths.restrictedKubeconfig} (namespace ${restrictedNamespace})`);
  if (info) console.log(`kubectl:               ${info.kubectl}`);
  console.log(`server:                ${c.apiserverUrl} (Kubernetes ${kubernetesVersion})`);
  console.log(`NodePorts:             ${c.host} (${nodePortRange})`);
  console.log(`pods:                  ${c.podCidr} on bridge ${c.bridgeName}, Services ${c.serviceCidr}`);
  console.log(`state and logs:        ${c.paths.state}`);
  if (info?.startSeconds !== undefined)
    console.log(`started:               ${info.startedAt} (ready in ${info.startSeconds}s)`);
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
    etcd: () => http(`http://${c.host}:${c.ports.etcdClient}/health`),
    'kube-apiserver': () => https(`${c.apiserverUrl}/readyz`, adminTls(c.paths)),
    'kube-controller-manager': () => https(`https://${c.host}:${c.ports.controllerManager}/healthz`),
    'kube-scheduler': () => https(`https://${c.host}:${c.ports.scheduler}/healthz`),
    kubelet: () => http(`http://${c.host}:${c.ports.kubeletHealthz}/healthz`),
    'kube-proxy': () => http(`http://${c.host}:${c.ports.proxyHealthz}/healthz`),
  };
  const memory = clusterMemory(records);
  const results: Health[] = [];
  for (const component of componentOrder) {
    const record = byName.get(component);
    results.push(
      await check(component, async () => {
        if (!record) throw new Error('not started');
        if (!isRunning(record)) throw new Error(`pid ${record.pid} is not running`);
        const rss = memory.components[component];
        return `pid ${record.pid}, ${rss === undefined ? '' : `${megabytes(rss)}, `}${await healthProbes[component]!()}`;
      }),
    );
  }
  results.push(
    await check(`node ${nodeName}`, async () => {
      const node = await new KubeApi(c).get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `/api/v1/nodes/${nodeName}`,
      );
      const ready = node?.status?.conditions?.find((cond) => cond.type === 'Ready');
      if (ready?.status !== 'True') throw new Error(`Ready=${ready?.status ?? 'unknown'}`);
      return 'Ready';
    }),
  );
  for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(24)} ${r.detail}`);
  console.log(
    `memory:                ${megabytes(memory.totalKib)} resident (components ${megabytes(memory.componentsKib)}, ${memory.podProcesses} pod processes ${megabytes(memory.podsKib)})`,
  );
  return results.every((r) => r.ok);
}

/** `list`: every named cluster that holds a slot, its address and whether its processes run. */
export async function list(): Promise<void> {
  const claimed = await claimedSlots();
  if (claimed.length === 0) {
    console.log('no named clusters (start one with `npm run cluster -- up --name <name>`)');
    return;
  }
  for (const { slot, name } of claimed) {
    const c = clusterConfig(name, slot);
    const records = await readPidRecords(c.paths);
    const running = records.filter(isRunning).length;
    const memory = clusterMemory(records);
    console.log(
      `${name.padEnd(10)} slot ${String(slot).padEnd(2)} ${c.host.padEnd(11)} ${running}/${componentOrder.length} processes running, ${megabytes(memory.totalKib)}  ${c.paths.adminKubeconfig}`,
    );
  }
}

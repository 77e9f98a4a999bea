// Fixed facts about the local test clusters: versions, where things live, which loopback
// address and ports each component uses. Every other module reads these from here.
//
// The default cluster (no name) is the one every test uses: state in ~/.cache/adci/cluster,
// everything on 127.0.0.1, bridge adci0, pods in 10.244.0.0/24. A named cluster (`--name a`)
// gets a slot n (1, 2, …, claimed when it starts, see slots.ts) and from it its own loopback
// address 127.0.0.<n+1> (every component binds there, on the same port numbers, and NodePorts
// are served there), bridge `adci-<name>`, pod CIDR 10.244.<n>.0/24, Service CIDR
// 10.<96+n>.0.0/16 and network namespaces `adci.<name>.pod-<uid>`, so the pods of two
// clusters never meet.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const clusterSourceDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(clusterSourceDir, '..', '..');
export const controlPlaneModuleDir = join(clusterSourceDir, 'go');
export const agentModuleDir = join(clusterSourceDir, 'agent');
export const imageMapPath = join(clusterSourceDir, 'images.yaml');

export const kubernetesVersion = 'v1.35.4';

function cacheRoot(): string {
  if (process.env.ADCI_CACHE_DIR) return resolve(process.env.ADCI_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'adci');
}

export const cacheDir = cacheRoot();
/** Where named clusters keep their state: `<namedClustersDir>/<name>/`, and their slots. */
export const namedClustersDir = join(cacheDir, 'clusters');
/** Named clusters take slots 1..maxSlot (the Service CIDR 10.<96+n>.0.0/16 stays inside 10.96.0.0/11). */
export const maxSlot = 31;

export const nodePortRange = '30000-32767';
export const nodeName = 'adci-node';
export const restrictedNamespace = 'adci-restricted';
export const restrictedServiceAccount = 'adci-restricted';
/** The same port numbers in every cluster; each cluster binds them on its own loopback address. */
export const ports = {
  etcdClient: 23790,
  etcdPeer: 23800,
  apiserver: 16443,
  controllerManager: 10257,
  scheduler: 10259,
  kubelet: 10250,
  kubeletHealthz: 10248,
  proxyHealthz: 10256,
};

export interface ClusterPaths {
  state: string;
  pki: string;
  pids: string;
  logs: string;
  podLogs: string;
  etcdData: string;
  kubeconfigs: string;
  adminKubeconfig: string;
  restrictedKubeconfig: string;
  clusterInfo: string;
}

/** Everything that differs between two clusters on this machine. */
export interface ClusterConfig {
  /** undefined for the default cluster. */
  name: string | undefined;
  /** 0 for the default cluster, 1..maxSlot for a named one. */
  slot: number;
  paths: ClusterPaths;
  /** The loopback address every component binds and NodePorts answer on. */
  host: string;
  ports: typeof ports;
  podCidr: string;
  podGateway: string;
  bridgeName: string;
  netnsPrefix: string;
  serviceCidr: string;
  kubernetesServiceIp: string;
  apiserverUrl: string;
}

/** A cluster name: a lowercase DNS label of at most 10 characters (the bridge `adci-<name>` has 15). */
export const clusterNamePattern = /^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/;

/** Throws an error naming `--name` when the name cannot be a cluster's. */
export function checkClusterName(name: string): string {
  if (!clusterNamePattern.test(name)) {
    throw new Error(
      `--name ${JSON.stringify(name)}: a cluster name is 1-10 lowercase letters, digits or '-', starting and ending with a letter or digit`,
    );
  }
  return name;
}

/** `--name <n>` or `--name=<n>` after the command; anything else is refused, naming it. */
export function parseClusterArgs(command: string, args: string[]): { name?: string } {
  let name: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--name' || arg.startsWith('--name=')) {
      const value = arg === '--name' ? args[++i] : arg.slice('--name='.length);
      if (value === undefined || value === '') throw new Error('--name needs a value: --name <name>');
      if (name !== undefined) throw new Error('--name is given twice');
      name = checkClusterName(value);
    } else {
      throw new Error(`unknown argument ${JSON.stringify(arg)} for ${command} (only --name <name>)`);
    }
  }
  return name === undefined ? {} : { name };
}

export function clusterPaths(stateDir: string): ClusterPaths {
  return {
    state: stateDir,
    pki: join(stateDir, 'pki'),
    pids: join(stateDir, 'pids'),
    logs: join(stateDir, 'logs'),
    podLogs: join(stateDir, 'logs', 'pods'),
    etcdData: join(stateDir, 'etcd'),
    kubeconfigs: join(stateDir, 'kubeconfigs'),
    adminKubeconfig: join(stateDir, 'kubeconfig'),
    restrictedKubeconfig: join(stateDir, 'restricted.kubeconfig'),
    clusterInfo: join(stateDir, 'cluster.json'),
  };
}

/** State directory of a cluster: the default one's (ADCI_CLUSTER_DIR overrides), or `clusters/<name>`. */
export function clusterStateDir(name?: string): string {
  if (name === undefined) {
    return process.env.ADCI_CLUSTER_DIR ? resolve(process.env.ADCI_CLUSTER_DIR) : join(cacheDir, 'cluster');
  }
  return join(namedClustersDir, checkClusterName(name));
}

/** The configuration of the default cluster (no name), or of a named cluster in a given slot. */
export function clusterConfig(name?: string, slot = 0): ClusterConfig {
  if (name === undefined) slot = 0;
  else if (!Number.isInteger(slot) || slot < 1 || slot > maxSlot) {
    throw new Error(`cluster ${name}: slot ${slot} is outside 1..${maxSlot}`);
  }
  const host = `127.0.0.${slot + 1}`;
  return {
    name,
    slot,
    paths: clusterPaths(clusterStateDir(name)),
    host,
    ports,
    podCidr: `10.244.${slot}.0/24`,
    podGateway: `10.244.${slot}.1`,
    bridgeName: name === undefined ? 'adci0' : `adci-${name}`,
    // A name has no '.', so no cluster's prefix starts with another's.
    netnsPrefix: name === undefined ? 'adci-pod-' : `adci.${name}.pod-`,
    serviceCidr: `10.${96 + slot}.0.0/16`,
    kubernetesServiceIp: `10.${96 + slot}.0.1`,
    apiserverUrl: `https://${host}:${ports.apiserver}`,
  };
}

/** The default cluster's configuration; the constants below are its values. */
export const defaultCluster = clusterConfig();

/** Runtime state (certificates, kubeconfigs, etcd data, pid files, logs); never in the repo. */
export const stateDir = defaultCluster.paths.state;
export const paths = defaultCluster.paths;
export const host = defaultCluster.host;
export const podCidr = defaultCluster.podCidr;
export const podGateway = defaultCluster.podGateway;
export const bridgeName = defaultCluster.bridgeName;
export const netnsPrefix = defaultCluster.netnsPrefix;
export const serviceCidr = defaultCluster.serviceCidr;
export const kubernetesServiceIp = defaultCluster.kubernetesServiceIp;

export function proxySyncDelay(): string {
  return process.env.ADCI_PROXY_SYNC_DELAY ?? '1s';
}

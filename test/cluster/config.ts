// Fixed facts about the local test cluster: versions, where things live, which loopback
// ports each component uses. Every other module reads these from here.
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
/** Runtime state (certificates, kubeconfigs, etcd data, pid files, logs); never in the repo. */
export const stateDir = process.env.ADCI_CLUSTER_DIR
  ? resolve(process.env.ADCI_CLUSTER_DIR)
  : join(cacheDir, 'cluster');

export const paths = {
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

export const host = '127.0.0.1';
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
export const nodePortRange = '30000-32767';
export const nodeName = 'adci-node';
export const podCidr = '10.244.0.0/24';
export const podGateway = '10.244.0.1';
export const bridgeName = 'adci0';
export const netnsPrefix = 'adci-pod-';
export const serviceCidr = '10.96.0.0/16';
export const kubernetesServiceIp = '10.96.0.1';
export const restrictedNamespace = 'adci-restricted';
export const restrictedServiceAccount = 'adci-restricted';

export function proxySyncDelay(): string {
  return process.env.ADCI_PROXY_SYNC_DELAY ?? '1s';
}

// How tests find a cluster: ADCI_TEST_KUBECONFIG names an existing one (kind, minikube, a
// real cluster); otherwise the local cluster started by `npm run cluster -- up` is used.
// Named local clusters (`npm run cluster -- up --name a`) are found with namedCluster('a').
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterPaths, clusterStateDir, paths, restrictedNamespace as localRestrictedNamespace } from './config.ts';

interface LocalClusterInfo {
  kubeconfig: string;
  restrictedKubeconfig: string;
  restrictedNamespace: string;
  kubectl: string;
  nodeAddress: string;
  server: string;
  startedAt: string;
  startSeconds?: number;
  podCidr?: string;
}

function readLocalCluster(file: string): LocalClusterInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as LocalClusterInfo;
    return existsSync(info.kubeconfig) ? info : undefined;
  } catch {
    return undefined;
  }
}

function localCluster(): LocalClusterInfo | undefined {
  return readLocalCluster(paths.clusterInfo);
}

/** A named local cluster, as its cluster.json describes it. */
export interface NamedCluster {
  name: string;
  /** Admin kubeconfig (system:masters). */
  kubeconfig: string;
  /** A user confined to restrictedNamespace. */
  restrictedKubeconfig: string;
  restrictedNamespace: string;
  /** The kubectl built with the cluster. */
  kubectl: string;
  /** The cluster's own loopback address: its NodePorts answer here (127.0.0.2, 127.0.0.3, …). */
  nodeAddress: string;
  /** The API server's URL. */
  server: string;
  /** The cluster's state directory (logs in logs/, pid files in pids/). */
  stateDir: string;
  /** Where its pods' addresses come from (10.244.<slot>.0/24). */
  podCidr: string;
  startedAt: string;
  /** Seconds `up` took from the first process to ready. */
  startSeconds?: number;
}

/**
 * The named local cluster `name` started by `npm run cluster -- up --name <name>`, or undefined
 * when it is not up (no cluster.json or no kubeconfig). Throws for a name no cluster can have.
 */
export function namedCluster(name: string): NamedCluster | undefined {
  const stateDir = clusterStateDir(name);
  const info = readLocalCluster(clusterPaths(stateDir).clusterInfo);
  if (!info) return undefined;
  return {
    name,
    kubeconfig: info.kubeconfig,
    restrictedKubeconfig: info.restrictedKubeconfig,
    restrictedNamespace: info.restrictedNamespace,
    kubectl: info.kubectl,
    nodeAddress: info.nodeAddress,
    server: info.server,
    stateDir,
    podCidr: info.podCidr ?? '',
    startedAt: info.startedAt,
    ...(info.startSeconds === undefined ? {} : { startSeconds: info.startSeconds }),
  };
}

/** Pid files of a local cluster's components (default cluster without a name). */
export function clusterPidDir(name?: string): string {
  return join(clusterStateDir(name), 'pids');
}

/** The admin kubeconfig tests should use, or undefined when no cluster is available. */
export function testKubeconfig(): string | undefined {
  const external = process.env.ADCI_TEST_KUBECONFIG;
  if (external) return external;
  return localCluster()?.kubeconfig;
}

/** Whether the tests run against a cluster named by ADCI_TEST_KUBECONFIG rather than the local one. */
export function usingExternalCluster(): boolean {
  return Boolean(process.env.ADCI_TEST_KUBECONFIG);
}

/**
 * A kubeconfig for a user limited to one namespace (see restrictedNamespace), for proving
 * RBAC errors. ADCI_TEST_RESTRICTED_KUBECONFIG supplies one for an external cluster.
 */
export function restrictedKubeconfig(): string | undefined {
  if (usingExternalCluster()) return process.env.ADCI_TEST_RESTRICTED_KUBECONFIG || undefined;
  return localCluster()?.restrictedKubeconfig;
}

export function restrictedNamespace(): string {
  if (usingExternalCluster()) return process.env.ADCI_TEST_RESTRICTED_NAMESPACE ?? localRestrictedNamespace;
  return localCluster()?.restrictedNamespace ?? localRestrictedNamespace;
}

/** kubectl to run: ADCI_KUBECTL, else the one built with the local cluster (same version), else PATH. */
export function kubectlBinary(): string {
  if (process.env.ADCI_KUBECTL) return process.env.ADCI_KUBECTL;
  if (!usingExternalCluster()) {
    const local = localCluster()?.kubectl;
    if (local && existsSync(local)) return local;
  }
  return 'kubectl';
}

/** Address where NodePorts are reachable: ADCI_TEST_NODE_ADDRESS, else 127.0.0.1. */
export function nodeAddress(): string {
  return process.env.ADCI_TEST_NODE_ADDRESS ?? localCluster()?.nodeAddress ?? '127.0.0.1';
}

/**
 * Why cluster tests cannot run, or undefined when they can. Tests skip with this message
 * outside CI; in CI (env CI set) a missing cluster is a failure, not a skip.
 */
export function missingClusterReason(): string | undefined {
  if (testKubeconfig()) return undefined;
  return 'no Kubernetes cluster: run `npm run cluster -- up` or set ADCI_TEST_KUBECONFIG';
}

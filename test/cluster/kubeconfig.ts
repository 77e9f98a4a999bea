// How tests find a cluster: ADCI_TEST_KUBECONFIG names an existing one (kind, minikube, a
// real cluster); otherwise the local cluster started by `npm run cluster -- up` is used.
import { existsSync, readFileSync } from 'node:fs';
import { paths, restrictedNamespace as localRestrictedNamespace } from './config.ts';

interface LocalClusterInfo {
  kubeconfig: string;
  restrictedKubeconfig: string;
  restrictedNamespace: string;
  kubectl: string;
  nodeAddress: string;
}

function localCluster(): LocalClusterInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(paths.clusterInfo, 'utf8')) as LocalClusterInfo;
    return existsSync(info.kubeconfig) ? info : undefined;
  } catch {
    return undefined;
  }
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

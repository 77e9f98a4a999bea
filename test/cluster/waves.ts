// What the waves tests read from each named cluster after a release: the tag the `bid` Service
// answers with, how many colours are up, and whether the cluster is consistent (the Service's state
// names the colour its selector points at, and no lock is left).
import assert from 'node:assert/strict';
import { kubectlJson, nodePortOf, type ClusterHandle } from './testing.ts';

/** The fields the checks read of a Deployment or Service. */
export interface Obj {
  metadata: { annotations?: Record<string, string> };
  spec?: { replicas?: number; selector?: Record<string, string> };
}

/** The version tag the Service answers with (adci/echo reports its image tag). */
export async function liveTag(c: ClusterHandle, ns: string, service = 'bid'): Promise<string> {
  const port = await nodePortOf(ns, service, undefined, c.options);
  const body = (await (await fetch(`http://${c.nodeAddress}:${port}/`)).json()) as { tag: string };
  return body.tag;
}

/** How many Deployments of the namespace have replicas (1 once a release has finished). */
export async function coloursUp(c: ClusterHandle, ns: string): Promise<number> {
  const list = await kubectlJson<{ items: Obj[] }>(['-n', ns, 'get', 'deployments'], c.options);
  return list.items.filter((d) => (d.spec?.replicas ?? 0) > 0).length;
}

/** The Service's recorded colour is the one it selects, and no Lease is left. */
export async function assertConsistent(c: ClusterHandle, ns: string, why: string, service = 'bid'): Promise<void> {
  const svc = await kubectlJson<Obj>(['-n', ns, 'get', 'service', service], c.options);
  assert.equal(svc.metadata.annotations?.['adci.dev/active-color'], svc.spec?.selector?.['adci.dev/color'], why);
  const leases = await kubectlJson<{ items: unknown[] }>(['-n', ns, 'get', 'leases'], c.options);
  assert.equal(leases.items.length, 0, `${why}: no lock left`);
}

// Slots of named clusters: slot n gives a cluster its loopback address 127.0.0.<n+1>, pod CIDR
// 10.244.<n>.0/24 and Service CIDR 10.<96+n>.0.0/16 (config.ts). A claim is a symlink
// `clusters/.slots/<n>` -> `<name>`, made atomically (two `up`s at once never share a slot),
// kept while the cluster exists and removed by `down`.
import { mkdir, readlink, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { checkClusterName, clusterConfig, maxSlot, namedClustersDir, type ClusterConfig } from './config.ts';

const slotsDir = join(namedClustersDir, '.slots');

async function ownerOf(slot: number): Promise<string | undefined> {
  try {
    return await readlink(join(slotsDir, String(slot)));
  } catch {
    return undefined;
  }
}

/** The slot a named cluster holds, or undefined. */
export async function slotOf(name: string): Promise<number | undefined> {
  checkClusterName(name);
  for (let n = 1; n <= maxSlot; n++) if ((await ownerOf(n)) === name) return n;
  return undefined;
}

/** Every claimed slot and its cluster's name. */
export async function claimedSlots(): Promise<{ slot: number; name: string }[]> {
  const claimed: { slot: number; name: string }[] = [];
  for (let n = 1; n <= maxSlot; n++) {
    const name = await ownerOf(n);
    if (name) claimed.push({ slot: n, name });
  }
  return claimed;
}

/** The slot of a named cluster: the one it holds, else the lowest free one, claimed atomically. */
export async function claimSlot(name: string): Promise<number> {
  const held = await slotOf(name);
  if (held !== undefined) return held;
  await mkdir(slotsDir, { recursive: true });
  for (let n = 1; n <= maxSlot; n++) {
    try {
      await symlink(name, join(slotsDir, String(n)));
      return n;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if ((await ownerOf(n)) === name) return n;
    }
  }
  const names = (await claimedSlots()).map((c) => c.name).join(', ');
  throw new Error(`--name ${name}: all ${maxSlot} cluster slots are taken (${names}); stop one with \`down --name\``);
}

export async function releaseSlot(name: string): Promise<void> {
  for (let n = 1; n <= maxSlot; n++) {
    if ((await ownerOf(n)) === name) await unlink(join(slotsDir, String(n))).catch(() => undefined);
  }
}

/** The configuration of the default cluster (no name) or of a named one that holds a slot. */
export async function existingClusterConfig(name?: string): Promise<ClusterConfig | undefined> {
  if (name === undefined) return clusterConfig();
  const slot = await slotOf(name);
  return slot === undefined ? undefined : clusterConfig(name, slot);
}

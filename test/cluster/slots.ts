// Slots of named clusters: slot n gives a cluster its loopback address 127.0.0.<n+1>, pod CIDR
// 10.244.<n>.0/24 and Service CIDR 10.<96+n>.0.0/16 (config.ts). A claim is a symlink
// `clusters/.slots/<n>` -> `<name>`, made atomically (two `up`s at once never share a slot),
// kept while the cluster exists and removed by `down`. A name gets the slot it had last time when
// that one is free (`.slots/last-<name>`), so `a` keeps its address across restarts.
import { mkdir, readFile, readlink, symlink, unlink, writeFile } from 'node:fs/promises';
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

async function lastSlotOf(name: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(join(slotsDir, `last-${name}`), 'utf8')).trim());
    return Number.isInteger(n) && n >= 1 && n <= maxSlot ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The slot of a named cluster: the one it holds, else the one it had last time if free, else the
 * lowest free one, claimed atomically.
 */
export async function claimSlot(name: string): Promise<number> {
  const held = await slotOf(name);
  if (held !== undefined) return held;
  await mkdir(slotsDir, { recursive: true });
  const last = await lastSlotOf(name);
  const order = [...(last === undefined ? [] : [last]), ...Array.from({ length: maxSlot }, (_, i) => i + 1)];
  for (const n of order) {
    try {
      await symlink(name, join(slotsDir, String(n)));
      await writeFile(join(slotsDir, `last-${name}`), `${n}\n`);
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

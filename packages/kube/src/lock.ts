// One deploy per app at a time: a coordination.k8s.io/v1 Lease named after the app. A holder
// renews it while it works; an expired lease (a runner that died) is taken over; a waiter gives
// up after lock-timeout with a message naming the holder.
import { hostname } from 'node:os';
import { waitUntil, WaitTimeoutError, type Clock, type Logger } from '@adci/common';
import { isStatus } from './client.ts';
import type { KubeObject, KubePort } from './port.ts';

export interface LeaseObject extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export class LockTimeoutError extends Error {
  readonly holder: string;
  constructor(lease: string, holder: string, waitedMs: number) {
    super(`lock ${lease} is held by ${holder}; gave up after ${Math.round(waitedMs / 1000)}s (lock-timeout)`);
    this.name = 'LockTimeoutError';
    this.holder = holder;
  }
}

export function leaseName(app: string): string {
  return `adci-lock-${app}`.slice(0, 253);
}

const microTime = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace('Z', '000Z')
    .replace(/(\.\d{6})\d*Z$/, '$1Z');

function expired(lease: LeaseObject, nowMs: number): boolean {
  const spec = lease.spec ?? {};
  if (!spec.holderIdentity) return true;
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
  if (Number.isNaN(renewed)) return true;
  return renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < nowMs;
}

export interface LockOptions {
  namespace: string;
  app: string;
  holder: string;
  timeoutMs: number;
  /** How long the lease lives without a renewal. */
  durationSeconds?: number;
  logger: Logger;
  clock: Clock;
  signal?: AbortSignal;
  /** Called when the lock is found held by another (each new holder once). */
  onWait?: (holder: string) => void;
  /** Whether a process of this machine is alive (default: signal 0); a holder on this host whose pid is gone is taken over at once. */
  alive?: (pid: number) => boolean;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A holder is provably gone when it ran on this machine (holder names end in `(<host> pid <n>)`)
 * and that process no longer exists: a runner killed with SIGKILL leaves its lease behind.
 */
export function holderGone(holder: string | undefined, alive: (pid: number) => boolean = processAlive): boolean {
  const match = /\((\S+) pid (\d+)\)$/.exec(holder ?? '');
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  return pid !== process.pid && !alive(pid);
}

export interface HeldLock {
  name: string;
  holder: string;
  release(): Promise<void>;
}

export async function acquireLock(kube: KubePort, options: LockOptions): Promise<HeldLock> {
  const name = leaseName(options.app);
  const duration = options.durationSeconds ?? 30;
  const started = options.clock.now();
  let announced = '';
  let holder = 'unknown';
  let acquired = false;
  /** The resourceVersion of the lease as this run last wrote it: the release deletes on it in one request. */
  let written: string | undefined;
  // The usual case is a free lock: the first attempt creates the lease without reading it first (one
  // round trip); an AlreadyExists answer (409) reads it and goes the long way.
  let assumeFree = true;
  /** One attempt: true when the lease is ours, false while another holder keeps it (a write conflict reads again at once). */
  const attempt = async (): Promise<boolean> => {
    for (;;) {
      const now = Date.now();
      const existing = assumeFree ? undefined : await kube.get<LeaseObject>('Lease', options.namespace, name);
      assumeFree = false;
      const spec = {
        holderIdentity: options.holder,
        leaseDurationSeconds: duration,
        acquireTime: microTime(now),
        renewTime: microTime(now),
      };
      try {
        if (!existing) {
          const created = await kube.create<LeaseObject>(
            {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'adci' } },
              spec,
            },
            options.namespace,
          );
          written = created.metadata.resourceVersion;
          return (acquired = true);
        }
        const gone = holderGone(existing.spec?.holderIdentity, options.alive);
        if (existing.spec?.holderIdentity === options.holder || expired(existing, now) || gone) {
          if (existing.spec?.holderIdentity && existing.spec.holderIdentity !== options.holder) {
            options.logger.warning(
              `lock ${name}: ${gone ? 'the process' : 'the lease'} of ${existing.spec.holderIdentity} ${gone ? 'is gone' : 'expired'}; taking it over`,
            );
          }
          const replaced = await kube.replace<LeaseObject>(
            {
              ...existing,
              kind: 'Lease',
              apiVersion: 'coordination.k8s.io/v1',
              spec: { ...spec, leaseTransitions: (existing.spec?.leaseTransitions ?? 0) + 1 },
            },
            options.namespace,
          );
          written = replaced.metadata.resourceVersion;
          return (acquired = true);
        }
      } catch (error) {
        // Someone else created or renewed it between our read and write: read again.
        if (isStatus(error, 409)) continue;
        throw error;
      }
      holder = existing.spec?.holderIdentity ?? 'unknown';
      if (announced !== holder) {
        const renewed = Date.parse(existing.spec?.renewTime ?? existing.spec?.acquireTime ?? '');
        const ago = Number.isNaN(renewed) ? undefined : Math.max(0, Math.round((now - renewed) / 1000));
        const expiresIn = ago === undefined ? undefined : Math.max(0, (existing.spec?.leaseDurationSeconds ?? 0) - ago);
        options.logger.info(
          `lock ${name} is held by ${holder}${
            ago === undefined
              ? ''
              : `, last renewed ${ago}s ago; taken over in ${expiresIn}s unless its holder renews it`
          }; waiting (lock-timeout ${Math.round(options.timeoutMs / 1000)}s)`,
        );
        options.onWait?.(holder);
        announced = holder;
      }
      return false;
    }
  };
  try {
    await waitUntil(attempt, {
      timeoutMs: options.timeoutMs,
      intervalMs: 1000,
      description: `lock ${name}`,
      clock: options.clock,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    // A lease taken just as the run was cancelled is returned all the same: the caller releases it.
    if (!acquired) {
      if (error instanceof WaitTimeoutError) throw new LockTimeoutError(name, holder, options.clock.now() - started);
      throw error;
    }
  }
  options.logger.info(`lock ${name} acquired by ${options.holder}`);

  // Renew at a third of the duration; a lost lease stops renewing and is reported at release.
  let lost: string | undefined;
  const renew = async (): Promise<void> => {
    try {
      const lease = await kube.get<LeaseObject>('Lease', options.namespace, name);
      if (!lease || lease.spec?.holderIdentity !== options.holder) {
        lost = lease?.spec?.holderIdentity ?? 'nobody';
        return;
      }
      const renewed = await kube.replace<LeaseObject>(
        {
          ...lease,
          kind: 'Lease',
          apiVersion: 'coordination.k8s.io/v1',
          spec: { ...lease.spec, renewTime: microTime(Date.now()) },
        },
        options.namespace,
      );
      written = renewed.metadata.resourceVersion;
    } catch (error) {
      options.logger.debug(`lock ${name}: renewal failed: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(() => void renew(), (duration * 1000) / 3);
  timer.unref();
  return {
    name,
    holder: options.holder,
    async release() {
      clearInterval(timer);
      if (lost) options.logger.warning(`lock ${name} was taken over by ${lost} while this run held it`);
      else if (written) {
        // The lease as this run last wrote it is deleted in one request; any change since (a renewal
        // in flight, a takeover) fails the precondition (409) and the release reads the lease first.
        try {
          await kube.delete('Lease', options.namespace, name, { preconditions: { resourceVersion: written } });
          return;
        } catch (error) {
          if (isStatus(error, 404)) return;
          if (!isStatus(error, 409)) throw error;
        }
      }
      await releaseLock(kube, options.namespace, name, options.holder);
    },
  };
}

/** Deletes the lease if `holder` still holds it (the post: step calls this after a cancel). */
export async function releaseLock(kube: KubePort, namespace: string, name: string, holder: string): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const lease = await kube.get<LeaseObject>('Lease', namespace, name);
    if (!lease || lease.spec?.holderIdentity !== holder) return false;
    try {
      return await kube.delete('Lease', namespace, name, {
        preconditions: { resourceVersion: lease.metadata.resourceVersion },
      });
    } catch (error) {
      if (isStatus(error, 404)) return false;
      if (!isStatus(error, 409)) throw error;
    }
  }
  return false;
}

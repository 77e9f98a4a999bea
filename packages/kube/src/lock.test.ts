// One deploy per app at a time, on a real Lease of the local cluster (skipped outside CI without
// one): a second holder waits and gives up naming the first; an expired lease, or one whose holder
// process on this machine is gone, is taken over; only the holder's release deletes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { silentLogger, systemClock, type Logger } from '@adci/common';
import { clusterTestSkip, testKubeconfig, useNamespace } from '../../../test/cluster/testing.ts';
import { KubeClient } from './client.ts';
import { acquireLock, holderGone, leaseName, LockTimeoutError, releaseLock, type LeaseObject } from './lock.ts';

const skip = clusterTestSkip();
// One client for the file (KubeClient.create reads the kubeconfig); none without a cluster.
const shared = skip ? undefined : await KubeClient.create({ kubeconfig: readFileSync(testKubeconfig() ?? '', 'utf8') });
const client = (): KubeClient => shared as KubeClient;

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    ...silentLogger,
    lines,
    info: (m: string) => lines.push(`info: ${m}`),
    warning: (m: string) => lines.push(`warning: ${m}`),
  };
}

test('leaseName and holderGone: a holder on this host whose pid is gone; never another host or this process', () => {
  assert.equal(leaseName('bid'), 'adci-lock-bid');
  assert.equal(leaseName('x'.repeat(300)).length, 253);
  const here = (pid: number): string => `run 42 (${hostname()} pid ${pid})`;
  assert.equal(
    holderGone(here(999_999), () => false),
    true,
  );
  assert.equal(
    holderGone(here(999_999), () => true),
    false,
  );
  assert.equal(
    holderGone(here(process.pid), () => false),
    false,
  );
  assert.equal(
    holderGone('run 42 (another-host pid 12)', () => false),
    false,
  );
  assert.equal(holderGone(undefined), false);
});

test('a held lock makes the next run wait and give up naming the holder; release frees it', { skip }, async (t) => {
  const ns = await useNamespace(t, 'kube-lock');
  const kube = client();
  const options = { namespace: ns.name, app: 'bid', timeoutMs: 600, logger: silentLogger, clock: systemClock };
  const first = await acquireLock(kube, { ...options, holder: 'run-1' });
  const lease = await kube.get<LeaseObject>('Lease', ns.name, 'adci-lock-bid');
  assert.equal(lease?.spec?.holderIdentity, 'run-1');
  assert.equal(lease?.spec?.leaseDurationSeconds, 30);

  const waited: string[] = [];
  const logger = recordingLogger();
  await assert.rejects(
    acquireLock(kube, { ...options, holder: 'run-2', logger, onWait: (h) => waited.push(h) }),
    (e: unknown) =>
      e instanceof LockTimeoutError &&
      e.holder === 'run-1' &&
      /^lock adci-lock-bid is held by run-1; gave up after \d+s \(lock-timeout\)$/.test(e.message),
  );
  assert.deepEqual(waited, ['run-1'], 'told once per holder');
  assert.match(
    logger.lines.join('\n'),
    /info: lock adci-lock-bid is held by run-1, last renewed \d+s ago; taken over in \d+s/,
  );

  assert.equal(await releaseLock(kube, ns.name, first.name, 'run-2'), false, 'only the holder releases');
  await first.release();
  assert.equal(await kube.get('Lease', ns.name, 'adci-lock-bid'), undefined);
  const second = await acquireLock(kube, { ...options, holder: 'run-2' });
  await second.release();
});

test('an expired lease, or one whose process here is gone, is taken over and says so', { skip }, async (t) => {
  const ns = await useNamespace(t, 'kube-lock');
  const kube = client();
  const options = { namespace: ns.name, app: 'web', timeoutMs: 10_000, logger: silentLogger, clock: systemClock };
  // A runner that died leaves its lease behind, renewed long ago.
  const left = (holder: string, renewed: Date): LeaseObject => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'adci-lock-web' },
    spec: { holderIdentity: holder, leaseDurationSeconds: 30, renewTime: renewed.toISOString().replace('Z', '000Z') },
  });
  await kube.create(left('crashed-run', new Date(Date.now() - 60_000)), ns.name);
  const logger = recordingLogger();
  const taken = await acquireLock(kube, { ...options, holder: 'run-3', logger });
  assert.ok(logger.lines.includes('warning: lock adci-lock-web: the lease of crashed-run expired; taking it over'));
  const lease = await kube.get<LeaseObject>('Lease', ns.name, 'adci-lock-web');
  assert.deepEqual([lease?.spec?.holderIdentity, lease?.spec?.leaseTransitions], ['run-3', 1]);
  await taken.release();

  const dead = `run 7 (${hostname()} pid 999999)`;
  await kube.create(left(dead, new Date()), ns.name);
  const killed = recordingLogger();
  const after = await acquireLock(kube, { ...options, holder: 'run-4', logger: killed, alive: () => false });
  assert.ok(killed.lines.includes(`warning: lock adci-lock-web: the process of ${dead} is gone; taking it over`));
  await after.release();
});

// The blue-green engine's entry: takes the lock and checks permissions (side by side), runs the
// declared steps of the action (steps.ts: PLANS) through the driver (machine.ts), and releases the
// lock whatever happened. State is recorded on the cluster (annotations on the active Service, the
// release history in ControllerRevisions), so a re-run, rollback, cancel or crash can see it.
import { errorMessage } from '@adci/common';
import { revisionName } from './history.ts';
import { acquireLock, type HeldLock } from './lock.ts';
import { Cancelled, CANCELLED, runSteps } from './machine.ts';
import type { BlueGreenPorts, BlueGreenResult, BlueGreenSettings } from './model.ts';
import { checkPermissions } from './permissions.ts';
import { Run } from './run.ts';
import { PLANS, adoptHelm, permissionNeeds } from './steps.ts';

export type {
  BlueGreenPorts,
  BlueGreenResult,
  BlueGreenSettings,
  CheckRunner,
  DeployAction,
  DeployOutcome,
  HistoryEntry,
  PhaseRecord,
  RunFacts,
} from './model.ts';

export async function runBlueGreen(settings: BlueGreenSettings, ports: BlueGreenPorts): Promise<BlueGreenResult> {
  const run = new Run(settings, ports);
  let lock: HeldLock | undefined;
  try {
    if (settings.action === 'rollback' && settings.toRevision !== undefined) {
      // An input naming a release that is not stored is refused before the lock is taken.
      const name = revisionName(run.appName, settings.toRevision);
      if (!(await ports.kube.get('ControllerRevision', settings.namespace, name)))
        throw new Error(
          `to-revision ${settings.toRevision} is not in the history of ${run.appName} in ${settings.namespace} (adci deploy --action status lists it); nothing was changed`,
        );
    }
    if (settings.action !== 'status' && !settings.dryRun) lock = await lockAndCheck(run);
    await runSteps(PLANS[settings.action], run);
    if (settings.action === 'deploy' && !settings.dryRun) await adoptHelm(run);
  } catch (error) {
    const result = run.result;
    result.failed = true;
    result.error ??= error instanceof Cancelled || run.signal.aborted ? CANCELLED : run.redact(errorMessage(error));
    if (result.result !== 'rolled-back') result.result = 'failed';
  } finally {
    await run.flushRecords();
    if (lock) {
      const held = lock;
      await run
        .phase(
          'unlock',
          async () => {
            await held.release();
            return `released ${held.name}`;
          },
          { finishOnCancel: true },
        )
        .catch((error: unknown) => run.log.warning(`could not release the lock: ${errorMessage(error)}`));
    }
  }
  return run.result;
}

/**
 * The permission review and the lock are independent round trips: they run side by side. Missing
 * permissions win (they say what to grant) and stop a lock wait at once; a lock taken meanwhile is
 * released like any other.
 */
async function lockAndCheck(run: Run): Promise<HeldLock> {
  const permissionsFailed = new AbortController();
  let held: HeldLock | undefined;
  const [permissions, lock] = await Promise.allSettled([
    run
      .phase('permissions', async () => {
        const needs = permissionNeeds(run.s);
        await checkPermissions(run.kube, run.ns, needs);
        return `${needs.length} permissions checked`;
      })
      .catch((error: unknown) => {
        permissionsFailed.abort(error);
        throw error;
      }),
    run.phase('lock', async () => {
      held = await acquireLock(run.kube, {
        namespace: run.ns,
        app: run.appName,
        holder: run.holder(),
        timeoutMs: run.s.lockTimeoutMs,
        logger: run.log,
        clock: run.clock,
        signal: AbortSignal.any([run.signal, permissionsFailed.signal]),
        onWait: (holder) => (run.result.waitedFor = holder),
      });
      run.ports.onLock?.({ namespace: run.ns, name: held.name, holder: held.holder });
      return `held as ${held.holder}`;
    }),
  ]);
  if (permissions.status === 'rejected' || lock.status === 'rejected') {
    if (held) await held.release().catch(() => undefined);
    throw permissions.status === 'rejected' ? permissions.reason : (lock as PromiseRejectedResult).reason;
  }
  return held as HeldLock;
}

// A release to several clusters in waves, from CI, with the state on each cluster. Before anything
// changes anywhere, every target's credentials and permissions are checked. Each target then runs
// the whole single-cluster sequence (runBlueGreen) with its previous colour held up; a wave bakes
// (its post-promotion checks and analysis run over bake-time) before the next starts. A failure
// anywhere rolls back every target already promoted, newest wave first, so traffic ends on the
// previous release everywhere; after the last wave has baked, the old colours are drained and
// scaled down everywhere.
import { InputError, errorMessage, silentLogger, systemClock, type Clock, type Logger } from '@adci/common';
import { runBlueGreen } from './deploy.ts';
import { setOutcome } from './history.ts';
import type { BlueGreenResult, BlueGreenSettings, CheckRunner, PhaseRecord } from './model.ts';
import { checkPermissions } from './permissions.ts';
import type { KubePort } from './port.ts';
import { permissionNeeds } from './steps.ts';
import type { TargetSpec, TargetsFile } from './targets.ts';

export interface TargetConnection {
  kube: KubePort;
  settings: BlueGreenSettings;
  runChecks?: CheckRunner;
}

export interface WavesPorts {
  /** The target's settings (inputs with its overrides); an input error names the target. No cluster contact. */
  settingsFor: (target: TargetSpec) => Promise<BlueGreenSettings> | BlueGreenSettings;
  /** Loads the target's credentials and makes its client. */
  connect: (target: TargetSpec, settings: BlueGreenSettings) => Promise<TargetConnection> | TargetConnection;
  logger?: Logger;
  clock?: Clock;
  signal?: AbortSignal;
  onPhase?: (target: string, phase: PhaseRecord) => void;
}

export type TargetState = 'pending' | 'promoted' | 'finished' | 'failed' | 'rolled-back' | 'cancelled' | 'skipped';

export interface TargetOutcome {
  name: string;
  wave: number;
  state: TargetState;
  /** The release run on this target. */
  release?: BlueGreenResult;
  /** The global rollback on this target. */
  rollback?: BlueGreenResult;
  /** The drain and scale-down after the last wave. */
  finish?: BlueGreenResult;
  error?: string;
}

export interface WavesResult {
  result: 'promoted' | 'rolled-back' | 'failed' | 'stopped';
  targets: TargetOutcome[];
  waves: string[][];
  /** The target whose failure stopped the release, and why. */
  failedTarget?: string;
  error?: string;
  failed: boolean;
}

const CANCELLED = 'the run was cancelled';

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const runners = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  });
  await Promise.all(runners);
}

const switched = (r: BlueGreenResult | undefined): boolean =>
  !!r &&
  r.phases.some((p) => p.name === 'switch' && p.outcome === 'ok') &&
  !r.phases.some((p) => p.name === 'rollback' && p.outcome === 'ok');

/** Already live on this target from an earlier run of the same release (a re-run). */
const alreadyLive = (r: BlueGreenResult | undefined): boolean => !!r && !r.failed && r.result === 'promoted';

export async function runWaves(file: TargetsFile, ports: WavesPorts): Promise<WavesResult> {
  const log = ports.logger ?? silentLogger;
  const signal = ports.signal ?? new AbortController().signal;
  const outcomes = new Map<string, TargetOutcome>();
  file.waves.forEach((wave, w) => wave.forEach((name) => outcomes.set(name, { name, wave: w + 1, state: 'pending' })));
  const result: WavesResult = { result: 'failed', targets: [...outcomes.values()], waves: file.waves, failed: true };
  const fail = (target: string | undefined, error: string): WavesResult => {
    result.failedTarget = target;
    result.error = error;
    return result;
  };

  // 1. Every target's settings (input errors), then credentials and permissions, before any change.
  const settings = new Map<string, BlueGreenSettings>();
  for (const target of file.targets) {
    try {
      settings.set(target.name, await ports.settingsFor(target));
    } catch (error) {
      // A bad input stays an input error (exit 2 for the CLI), worded with the target's name.
      if (error instanceof InputError)
        throw new InputError(error.input, `target ${target.name}: ${error.message.replace(/^Input '[^']*': /, '')}`);
      return fail(target.name, `target ${target.name}: ${errorMessage(error)}`);
    }
  }
  const connections = new Map<string, TargetConnection>();
  const checks = await Promise.allSettled(
    file.targets.map(async (target) => {
      const s = settings.get(target.name) as BlueGreenSettings;
      const connection = await ports.connect(target, s);
      connections.set(target.name, connection);
      await checkPermissions(connection.kube, s.namespace, permissionNeeds(s));
    }),
  );
  const refused = checks
    .map((c, i) => (c.status === 'rejected' ? `target ${file.targets[i]?.name}: ${errorMessage(c.reason)}` : undefined))
    .filter((m): m is string => !!m);
  if (refused.length) {
    for (const o of outcomes.values()) o.state = 'skipped';
    const first = file.targets[checks.findIndex((c) => c.status === 'rejected')]?.name;
    return fail(first, `${refused.join('; ')}; nothing was changed in any cluster`);
  }
  log.info(
    `${file.targets.length} targets reachable with every permission; waves: ${file.waves.map((w) => `[${w.join(', ')}]`).join(' → ')}`,
  );

  const run = (
    name: string,
    overrides: Partial<BlueGreenSettings>,
    runSignal: AbortSignal,
  ): Promise<BlueGreenResult> => {
    const c = connections.get(name) as TargetConnection;
    return runBlueGreen(
      { ...(settings.get(name) as BlueGreenSettings), ...overrides },
      {
        kube: c.kube,
        runChecks: c.runChecks,
        logger: prefixed(log, name),
        clock: ports.clock ?? systemClock,
        signal: runSignal,
        onPhase: (phase) => ports.onPhase?.(name, phase),
      },
    );
  };

  // 2. The waves: each target's whole sequence, the previous colour held up, baked over bake-time.
  let failure: { target: string; error: string } | undefined;
  let lastWave = 0;
  for (const [w, wave] of file.waves.entries()) {
    if (signal.aborted || failure) break;
    lastWave = w;
    log.info(`wave ${w + 1}: ${wave.join(', ')}`);
    const stopWave = new AbortController();
    const waveSignal = AbortSignal.any([signal, stopWave.signal]);
    await pool(wave, file.maxParallel, async (name) => {
      const outcome = outcomes.get(name) as TargetOutcome;
      if (waveSignal.aborted) {
        outcome.state = signal.aborted ? 'cancelled' : 'skipped';
        return;
      }
      const base = settings.get(name) as BlueGreenSettings;
      const release = await run(
        name,
        {
          action: 'deploy',
          holdPrevious: true,
          postPromotionWindowMs: Math.max(file.bakeTimeMs, base.postPromotionWindowMs),
        },
        waveSignal,
      );
      outcome.release = release;
      if (!release.failed) {
        outcome.state = 'promoted';
        return;
      }
      outcome.state = signal.aborted ? 'cancelled' : release.result === 'rolled-back' ? 'rolled-back' : 'failed';
      outcome.error = release.error;
      if (!signal.aborted && !failure) {
        failure = { target: name, error: release.error ?? release.result };
        stopWave.abort(new Error(`target ${name} failed`));
      }
    });
  }

  // 3. A failure: roll back every target the release reached, newest wave first.
  if (failure || signal.aborted) {
    const reached = [...outcomes.values()].filter(
      (o) => o.wave - 1 <= lastWave && (o.state === 'promoted' || switched(o.release) || alreadyLive(o.release)),
    );
    if (failure && file.onFailure === 'rollback-all' && !signal.aborted) {
      for (let w = lastWave + 1; w >= 1; w--) {
        const inWave = reached.filter((o) => o.wave === w && o.name !== failure?.target);
        await pool(inWave, file.maxParallel, async (o) => {
          const back = await run(
            o.name,
            { action: 'rollback', postPromotionWindowMs: 0, holdPrevious: false },
            new AbortController().signal,
          );
          o.rollback = back;
          if (back.failed) {
            o.state = 'failed';
            o.error = `the global rollback failed: ${back.error ?? back.result}`;
          } else {
            o.state = 'rolled-back';
            const revision = o.release?.revision;
            const c = connections.get(o.name) as TargetConnection;
            const s = settings.get(o.name) as BlueGreenSettings;
            if (revision)
              await setOutcome(
                c.kube,
                s.namespace,
                s.app.deployment.object.metadata.name,
                revision,
                'rolled-back',
              ).catch(() => undefined);
          }
        });
      }
      const rolledBack = reached.filter((o) => o.name !== failure?.target).map((o) => o.name);
      result.result = 'rolled-back';
      return fail(
        failure.target,
        `target ${failure.target} (wave ${outcomes.get(failure.target)?.wave}) failed: ${failure.error}; ` +
          (rolledBack.length
            ? `rolled back ${rolledBack.join(', ')} (newest wave first)`
            : 'no other target had been reached'),
      );
    }
    if (signal.aborted)
      return fail(undefined, `${CANCELLED}; every cluster is consistent, a re-run continues where this stopped`);
    result.result = 'stopped';
    return fail(
      failure?.target,
      `target ${failure?.target} failed: ${failure?.error}; on-failure: stop leaves ${reached.map((o) => o.name).join(', ') || 'no target'} on the new release with the previous colour up`,
    );
  }

  // 4. Every wave baked: drain and scale the old colours down everywhere.
  const all = [...outcomes.values()];
  await pool(all, file.maxParallel, async (o) => {
    const finish = await run(o.name, { action: 'deploy', holdPrevious: false, postPromotionWindowMs: 0 }, signal);
    o.finish = finish;
    if (finish.failed) {
      o.error = `finishing (drain and scale-down): ${finish.error ?? finish.result}`;
    } else o.state = 'finished';
  });
  const unfinished = all.filter((o) => o.state !== 'finished');
  if (unfinished.length)
    return fail(
      unfinished[0]?.name,
      `the release is live everywhere, but ${unfinished.map((o) => `${o.name}: ${o.error}`).join('; ')}; a re-run finishes it`,
    );
  result.result = 'promoted';
  result.failed = false;
  return result;
}

function prefixed(logger: Logger, name: string): Logger {
  return {
    debug: (m) => logger.debug(`[${name}] ${m}`),
    info: (m) => logger.info(`[${name}] ${m}`),
    warning: (m) => logger.warning(`[${name}] ${m}`),
    error: (m) => logger.error(`[${name}] ${m}`),
  };
}

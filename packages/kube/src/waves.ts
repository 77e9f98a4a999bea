// A release to several clusters in waves, from CI, with the state on each cluster. Before anything
// changes anywhere, every target's credentials and permissions are checked. Each target then runs
// the whole single-cluster sequence (runBlueGreen) with its previous colour held up; a wave bakes
// (its post-promotion checks and analysis run over bake-time) before the next starts. A failure
// anywhere rolls back every target already promoted, newest wave first, so traffic ends on the
// previous release everywhere; after the last wave has baked, the old colours are drained and
// scaled down everywhere.
//
// A workflow that runs each target on its own runner (deploy-waves.yml) drives the same sequence in
// parts, with the same state on the clusters: `release` of the selected targets (held), `status`
// (the bake gate: each selected target holds this release), `finish` (drain and scale down
// everywhere, only where this release is held) and `rollback` (every target that holds this
// release goes back, newest wave first; a re-run finds nothing to do).
import { InputError, errorMessage, silentLogger, systemClock, type Clock, type Logger } from '@adci/common';
import { runBlueGreen } from './deploy.ts';
import { setOutcome } from './history.ts';
import type { BlueGreenResult, BlueGreenSettings, CheckRunner, PhaseRecord } from './model.ts';
import { checkPermissions } from './permissions.ts';
import type { KubePort } from './port.ts';
import type { DeploymentObject } from './readiness.ts';
import { releaseFromManifests } from './release.ts';
import { Run } from './run.ts';
import { ANNOTATIONS, colorName, isColor } from './state.ts';
import { notThisRelease, permissionNeeds, readLive, unfinished } from './steps.ts';
import type { TargetSpec, TargetsFile } from './targets.ts';

/**
 * What a run with a targets file does:
 * - `waves`: the whole release, every wave, the global rollback or the finish (one step drives all);
 * - `plan`: every target's credentials and permissions, and what each holds; changes nothing (a
 *   workflow's first job: one target that cannot be reached stops the release before any change);
 * - `release`: only the selected targets, the previous colour held (a matrix job of deploy-waves.yml);
 * - `status`: says what each selected target holds; fails unless each holds this release (the bake gate);
 * - `finish`: drains and scales the old colours down on every target, each of which must hold this release;
 * - `rollback`: every target holding this release goes back, newest wave first.
 */
export type WavesMode = 'waves' | 'plan' | 'release' | 'status' | 'finish' | 'rollback';

export interface WavesSelection {
  mode: WavesMode;
  /** `release` and `status`: the targets acted on (default: all). */
  targets?: string[];
}

/** The `action` values that apply with a targets file. */
export const WAVES_ACTIONS = ['deploy', 'plan', 'status', 'finish', 'rollback'] as const;

/**
 * The `action` and `target` inputs of a run with a targets file, checked before any cluster is
 * contacted. `name` words the input as the caller knows it (`--target` for the CLI).
 */
export function wavesSelection(
  action: string | undefined,
  target: string | undefined,
  file: TargetsFile,
  name: (input: string) => string = (input) => input,
): WavesSelection {
  const verb = (action?.trim() || 'deploy').toLowerCase();
  if (!(WAVES_ACTIONS as readonly string[]).includes(verb))
    throw new InputError(
      name('action'),
      `'${verb}' does not apply to a release in waves (${name('targets')}): use one of ${WAVES_ACTIONS.join(', ')}`,
    );
  const names = (target ?? '')
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);
  for (const n of names)
    if (!file.targets.some((t) => t.name === n))
      throw new InputError(
        name('target'),
        `'${n}' is not a target of ${file.source} (targets: ${file.targets.map((t) => t.name).join(', ')})`,
      );
  if (names.length && (verb === 'finish' || verb === 'rollback' || verb === 'plan'))
    throw new InputError(
      name('target'),
      `applies to action deploy or status only: ${verb} acts on every target of ${file.source}`,
    );
  const targets = names.length ? [...new Set(names)] : undefined;
  if (verb === 'deploy') return targets ? { mode: 'release', targets } : { mode: 'waves' };
  if (verb === 'status') return { mode: 'status', targets };
  return { mode: verb as 'plan' | 'finish' | 'rollback' };
}

/** What a target holds of this release. */
export interface ReleaseFound {
  /** held: live, baked, the previous colour up; finished: live, old colour down; unbaked: switched, never baked. */
  holds: 'held' | 'finished' | 'unbaked' | 'no';
  found: string;
  /** The revision of this release live on the target. */
  revision?: number;
  /** A colour serves traffic (there is a release to bring another up beside). */
  serving?: boolean;
}

/** Reads (no lock, no change) what the target's active colour holds, against this release's hash. */
export async function inspectRelease(settings: BlueGreenSettings, kube: KubePort): Promise<ReleaseFound> {
  const run = new Run({ ...settings, action: 'status' }, { kube });
  const live = await readLive(run);
  const release = releaseFromManifests(settings.app, settings.image, settings.container);
  const active = live.activeColor;
  const current: DeploymentObject | undefined = isColor(active) ? live.deployments[active] : undefined;
  if (!isColor(active) || current?.metadata.annotations?.[ANNOTATIONS.specHash] !== release.hash)
    return { holds: 'no', found: notThisRelease(live, current), serving: isColor(active) };
  const revision = live.revision;
  const what = `revision ${live.revision} (${release.image}) is live on ${colorName(run.appName, active)}`;
  const previous = isColor(live.previousColor) ? colorName(run.appName, live.previousColor) : live.previousColor;
  const left = unfinished(live);
  if (!left) return { holds: 'finished', found: `${what}, finished (the old colour is down)`, revision };
  if (left.phase === 'baked')
    return { holds: 'held', found: `${what}, baked, with ${previous ?? 'no previous colour'} held up`, revision };
  return {
    holds: 'unbaked',
    found: `${what} but its run stopped at ${left.phase} (${left.by}) before baking`,
    revision,
  };
}

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
  /** Its new colour brought up ahead of its wave (stage-ahead): applied, ready, checked; no traffic. */
  stage?: BlueGreenResult;
  /** The release run on this target (a promote of the staged colour when it was brought up ahead). */
  release?: BlueGreenResult;
  /** The global rollback on this target. */
  rollback?: BlueGreenResult;
  /** The drain and scale-down after the last wave. */
  finish?: BlueGreenResult;
  error?: string;
  /** finish, rollback, status: what the target held when the run read it. */
  found?: string;
  holds?: ReleaseFound['holds'];
  /** The revision of this release live on the target when it was read. */
  leftRevision?: number;
}

export interface WavesResult {
  /** What the run did (`release`, `status`, `finish`, `rollback` run parts of the waves). */
  mode: WavesMode;
  /** held: the selected targets are live with the previous colour up (release); status: read only. */
  result: 'promoted' | 'held' | 'planned' | 'status' | 'rolled-back' | 'failed' | 'stopped';
  targets: TargetOutcome[];
  waves: string[][];
  /** The target whose failure stopped the release, and why. */
  failedTarget?: string;
  error?: string;
  failed: boolean;
}

const CANCELLED = 'the run was cancelled';

/** A gate that lets at most `limit` tasks run at once, in the order they asked. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** Runs `work` over `items` with at most `limit` at once (the same gate as the staging's). */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const gate = limiter(limit);
  await Promise.all(items.map((item) => gate(() => work(item))));
}

const switched = (r: BlueGreenResult | undefined): boolean =>
  !!r &&
  r.phases.some((p) => p.name === 'switch' && p.outcome === 'ok') &&
  !r.phases.some((p) => p.name === 'rollback' && p.outcome === 'ok');

/** Already live on this target from an earlier run of the same release (a re-run). */
const alreadyLive = (r: BlueGreenResult | undefined): boolean => !!r && !r.failed && r.result === 'promoted';

export async function runWaves(
  file: TargetsFile,
  ports: WavesPorts,
  selection: WavesSelection = { mode: 'waves' },
): Promise<WavesResult> {
  const log = ports.logger ?? silentLogger;
  const signal = ports.signal ?? new AbortController().signal;
  const mode = selection.mode;
  const chosen = selection.targets?.length ? new Set(selection.targets) : undefined;
  const involved = file.targets.filter((t) => !chosen || chosen.has(t.name));
  const outcomes = new Map<string, TargetOutcome>();
  file.waves.forEach((wave, w) =>
    wave.forEach((name) => {
      if (!chosen || chosen.has(name)) outcomes.set(name, { name, wave: w + 1, state: 'pending' });
    }),
  );
  const result: WavesResult = {
    mode,
    result: 'failed',
    targets: [...outcomes.values()],
    waves: file.waves,
    failed: true,
  };
  const fail = (target: string | undefined, error: string): WavesResult => {
    result.failedTarget = target;
    result.error = error;
    return result;
  };

  // 1. Every target's settings (input errors), then credentials and permissions, before any change.
  const settings = new Map<string, BlueGreenSettings>();
  for (const target of involved) {
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
    involved.map(async (target) => {
      const s = settings.get(target.name) as BlueGreenSettings;
      const connection = await ports.connect(target, s);
      connections.set(target.name, connection);
      await checkPermissions(connection.kube, s.namespace, permissionNeeds(s));
    }),
  );
  const refused = checks
    .map((c, i) => (c.status === 'rejected' ? `target ${involved[i]?.name}: ${errorMessage(c.reason)}` : undefined))
    .filter((m): m is string => !!m);
  if (refused.length) {
    for (const o of outcomes.values()) o.state = 'skipped';
    const first = involved[checks.findIndex((c) => c.status === 'rejected')]?.name;
    return fail(first, `${refused.join('; ')}; nothing was changed in any cluster`);
  }
  log.info(
    `${involved.length} targets reachable with every permission; waves: ${file.waves.map((w) => `[${w.join(', ')}]`).join(' → ')}${mode === 'waves' ? '' : `; ${mode}${chosen ? ` of ${[...chosen].join(', ')}` : ''}`}`,
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

  // Stage-ahead: the later waves' new colours are brought up (deploy without promotion: applied,
  // ready, pre-promotion checks passed; no traffic moves) while the earlier waves release and bake,
  // at most max-parallel at once, in wave order. A wave's turn is then its switch (a promote). A
  // target that already holds this release (a re-run) is not staged: its turn finishes it.
  interface Staged {
    result?: BlueGreenResult;
    error?: string;
  }
  const staged = new Map<string, Promise<Staged>>();
  const stopStaging = new AbortController();
  const stageSignal = AbortSignal.any([signal, stopStaging.signal]);
  const stageFailures: { target: string; error: string }[] = [];
  const stageAhead = async (name: string): Promise<Staged> => {
    if (stageSignal.aborted) return {};
    try {
      const c = connections.get(name) as TargetConnection;
      const found = await inspectRelease(settings.get(name) as BlueGreenSettings, c.kube);
      // A first release (nothing serves yet) has no preview to stage beside: its turn brings it up.
      if (found.holds !== 'no' || !found.serving || stageSignal.aborted) return {};
      log.info(`[${name}] bringing the release up ahead of wave ${outcomes.get(name)?.wave} (no traffic moves)`);
      // Held as well: whatever a race makes the run find, staging never drains or scales a colour down.
      const r = await run(name, { action: 'deploy', autoPromote: false, holdPrevious: true }, stageSignal);
      // Anything but a failure (a race: the release went live meanwhile) leaves the turn to a plain deploy.
      if (r.result === 'preview-ready' || !r.failed || stageSignal.aborted) return { result: r };
      const error = `bringing the release up ahead of its wave: ${r.error ?? r.result}`;
      stageFailures.push({ target: name, error });
      return { result: r, error };
    } catch (error) {
      if (stageSignal.aborted) return {};
      const message = `bringing the release up ahead of its wave: ${errorMessage(error)}`;
      stageFailures.push({ target: name, error: message });
      return { error: message };
    }
  };
  /** Removes the previews staged for targets whose turn never came (the release stopped before). */
  const removeStaged = async (): Promise<void> => {
    stopStaging.abort(new Error('the release stopped'));
    await Promise.all(
      [...staged].map(async ([name, ahead]) => {
        const o = outcomes.get(name) as TargetOutcome;
        const { result: r } = await ahead;
        o.stage ??= r;
        if (o.release || r?.result !== 'preview-ready') return;
        const removed = await run(name, { action: 'abort' }, new AbortController().signal);
        o.state = o.state === 'pending' ? 'skipped' : o.state;
        o.found = removed.failed
          ? `its preview, brought up ahead, could not be removed: ${removed.error ?? removed.result}`
          : `its preview, brought up ahead of its wave, was removed (${removed.phases.find((p) => p.name === 'abort')?.detail ?? 'scaled to 0'})`;
      }),
    );
  };

  /** Releases `names` side by side (max-parallel), each held; the first failure stops the others. */
  const releaseGroup = async (names: string[]): Promise<{ target: string; error: string } | undefined> => {
    let failure: { target: string; error: string } | undefined;
    const stopGroup = new AbortController();
    const groupSignal = AbortSignal.any([signal, stopGroup.signal]);
    await pool(names, file.maxParallel, async (name) => {
      const outcome = outcomes.get(name) as TargetOutcome;
      if (groupSignal.aborted) {
        outcome.state = signal.aborted ? 'cancelled' : 'skipped';
        return;
      }
      const base = settings.get(name) as BlueGreenSettings;
      const ahead = staged.has(name) ? await staged.get(name) : undefined;
      outcome.stage = ahead?.result;
      if (ahead?.error) {
        outcome.state = 'failed';
        outcome.error = ahead.error;
        if (!failure) failure = { target: name, error: ahead.error };
        stopGroup.abort(new Error(`target ${name} failed`));
        return;
      }
      if (groupSignal.aborted) {
        outcome.state = signal.aborted ? 'cancelled' : 'skipped';
        return;
      }
      const release = await run(
        name,
        {
          // Brought up ahead: its turn is the switch; otherwise the whole sequence.
          action: ahead?.result?.result === 'preview-ready' ? 'promote' : 'deploy',
          holdPrevious: true,
          postPromotionWindowMs: Math.max(file.bakeTimeMs, base.postPromotionWindowMs),
        },
        groupSignal,
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
        stopGroup.abort(new Error(`target ${name} failed`));
      }
    });
    return failure;
  };

  /** Takes one target back to its previous release; records the outcome of the release it leaves. */
  const rollBack = async (o: TargetOutcome, guard: boolean): Promise<void> => {
    const back = await run(
      o.name,
      { action: 'rollback', postPromotionWindowMs: 0, holdPrevious: false, guardRelease: guard },
      new AbortController().signal,
    );
    o.rollback = back;
    if (back.failed) {
      o.state = 'failed';
      o.error = `the global rollback failed: ${back.error ?? back.result}`;
      return;
    }
    if (back.result === 'unchanged') {
      // The guard found another release live (it changed since it was read): nothing was done.
      o.state = 'skipped';
      o.found = back.phases.find((p) => p.name === 'plan')?.detail ?? o.found;
      return;
    }
    o.state = 'rolled-back';
    // The release it leaves: as this run released it, or as the guard read it on the cluster.
    const left = guard ? o.leftRevision : o.release?.revision;
    const c = connections.get(o.name) as TargetConnection;
    const s = settings.get(o.name) as BlueGreenSettings;
    if (left)
      await setOutcome(c.kube, s.namespace, s.app.deployment.object.metadata.name, left, 'rolled-back').catch(
        () => undefined,
      );
  };

  /**
   * Drains and scales the old colours down on `list` (the release is live and baked there), every
   * target at once: max-parallel limits the releases inside a wave; a scale-down changes no traffic.
   */
  const finishAll = async (list: TargetOutcome[], guard: boolean): Promise<WavesResult> => {
    await pool(list, list.length, async (o) => {
      const finish = await run(
        o.name,
        { action: 'deploy', holdPrevious: false, postPromotionWindowMs: 0, guardRelease: guard },
        signal,
      );
      o.finish = finish;
      if (finish.failed) {
        o.error = `finishing (drain and scale-down): ${finish.error ?? finish.result}`;
      } else o.state = 'finished';
    });
    const unfinishedTargets = list.filter((o) => o.state !== 'finished');
    if (unfinishedTargets.length)
      return fail(
        unfinishedTargets[0]?.name,
        `the release is live everywhere, but ${unfinishedTargets.map((o) => `${o.name}: ${o.error}`).join('; ')}; a re-run finishes it`,
      );
    result.result = 'promoted';
    result.failed = false;
    return result;
  };

  /** Reads what every involved target holds of this release (side by side, read only). */
  const inspectAll = async (): Promise<void> => {
    await Promise.all(
      [...outcomes.values()].map(async (o) => {
        const c = connections.get(o.name) as TargetConnection;
        const found = await inspectRelease(settings.get(o.name) as BlueGreenSettings, c.kube);
        o.holds = found.holds;
        o.found = found.found;
        o.leftRevision = found.revision;
        log.info(`[${o.name}] found: ${found.found}`);
      }),
    );
  };

  if (mode === 'release') {
    // One part of the waves (a matrix job): the selected targets, held; the workflow's last job
    // finishes or rolls back.
    const failure = await releaseGroup([...outcomes.keys()]);
    if (signal.aborted)
      return fail(undefined, `${CANCELLED}; every cluster is consistent, a re-run continues where this stopped`);
    if (failure) {
      const held = [...outcomes.values()].filter((o) => o.state === 'promoted').map((o) => o.name);
      return fail(
        failure.target,
        `target ${failure.target} failed: ${failure.error}` +
          (held.length ? `; ${held.join(', ')} hold the release with the previous colour up` : '') +
          `; action rollback takes it back on every target`,
      );
    }
    result.result = 'held';
    result.failed = false;
    return result;
  }

  if (mode === 'plan' || mode === 'status' || mode === 'finish' || mode === 'rollback') {
    try {
      await inspectAll();
    } catch (error) {
      return fail(undefined, `could not read every target: ${errorMessage(error)}; nothing was changed`);
    }
    const all = [...outcomes.values()];
    if (mode === 'plan') {
      result.result = 'planned';
      result.failed = false;
      return result;
    }
    if (mode === 'rollback') {
      // Global: every target that holds this release goes back, newest wave first.
      const holding = all.filter((o) => o.holds !== 'no');
      for (const o of all) if (o.holds === 'no') o.state = 'skipped';
      const lastWave = Math.max(0, ...holding.map((o) => o.wave));
      const back: string[] = [];
      for (let w = lastWave; w >= 1; w--)
        await pool(
          holding.filter((o) => o.wave === w),
          file.maxParallel,
          async (o) => {
            await rollBack(o, true);
            if (o.state === 'rolled-back') back.push(o.name);
          },
        );
      const broken = holding.filter((o) => o.state === 'failed');
      if (broken.length)
        return fail(
          broken[0]?.name,
          `${broken.map((o) => `${o.name}: ${o.error}`).join('; ')}${back.length ? `; rolled back ${back.join(', ')}` : ''}`,
        );
      result.result = 'rolled-back';
      result.failed = false;
      result.error = back.length
        ? `rolled back ${back.join(', ')} (newest wave first)`
        : 'no target holds this release; nothing to roll back';
      return result;
    }
    const missing = all.filter((o) => o.holds !== 'held' && o.holds !== 'finished');
    if (mode === 'status') {
      for (const o of all) o.state = o.holds === 'held' ? 'promoted' : o.holds === 'finished' ? 'finished' : 'pending';
      result.result = 'status';
      if (missing.length) return fail(missing[0]?.name, missing.map((o) => `target ${o.name}: ${o.found}`).join('; '));
      result.failed = false;
      return result;
    }
    if (missing.length) {
      for (const o of all) o.state = 'skipped';
      return fail(
        missing[0]?.name,
        `${missing.map((o) => `target ${o.name}: ${o.found}`).join('; ')}; finish needs this release held on every target; nothing was changed in any cluster`,
      );
    }
    return finishAll(all, true);
  }

  /** After a failure or a cancel: every target the release reached goes back (rollback-all), newest wave first. */
  const stopped = async (failure: { target: string; error: string } | undefined, lastWave: number) => {
    const reached = [...outcomes.values()].filter(
      (o) => o.wave - 1 <= lastWave && (o.state === 'promoted' || switched(o.release) || alreadyLive(o.release)),
    );
    if (failure && file.onFailure === 'rollback-all' && !signal.aborted) {
      for (let w = lastWave + 1; w >= 1; w--) {
        const inWave = reached.filter((o) => o.wave === w && o.name !== failure.target);
        await pool(inWave, file.maxParallel, (o) => rollBack(o, false));
      }
      const rolledBack = reached.filter((o) => o.name !== failure.target).map((o) => o.name);
      result.result = 'rolled-back';
      return fail(
        failure.target,
        `target ${failure.target} (wave ${outcomes.get(failure.target)?.wave}) failed: ${failure.error}; ` +
          (rolledBack.length
            ? `rolled back ${rolledBack.join(', ')} (newest wave first)`
            : 'no other target had been reached'),
      );
    }
    if (signal.aborted || !failure)
      return fail(undefined, `${CANCELLED}; every cluster is consistent, a re-run continues where this stopped`);
    result.result = 'stopped';
    return fail(
      failure.target,
      `target ${failure.target} failed: ${failure.error}; on-failure: stop leaves ${reached.map((o) => o.name).join(', ') || 'no target'} on the new release with the previous colour up`,
    );
  };

  // 2. The waves: each target's whole sequence, the previous colour held up, baked over bake-time.
  if (file.stageAhead) {
    const gate = limiter(file.maxParallel);
    for (const name of file.waves.slice(1).flat())
      staged.set(
        name,
        gate(() => stageAhead(name)),
      );
  }
  let failure: { target: string; error: string } | undefined;
  let lastWave = 0;
  for (const [w, wave] of file.waves.entries()) {
    // A later target that could not be brought up stops the release before another wave switches.
    if (!failure && stageFailures[0]) {
      failure = stageFailures[0];
      const o = outcomes.get(failure.target) as TargetOutcome;
      o.state = 'failed';
      o.error = failure.error;
    }
    if (signal.aborted || failure) break;
    lastWave = w;
    log.info(`wave ${w + 1}: ${wave.join(', ')}`);
    failure = await releaseGroup(wave);
  }

  // 3. A failure: roll back every target the release reached, newest wave first; then remove the
  // previews brought up ahead for targets whose turn never came.
  if (failure || signal.aborted) {
    stopStaging.abort(new Error('the release stopped'));
    const ended = await stopped(failure, lastWave);
    await removeStaged();
    return ended;
  }

  // 4. Every wave baked: drain and scale the old colours down everywhere.
  return finishAll([...outcomes.values()], false);
}

function prefixed(logger: Logger, name: string): Logger {
  return {
    debug: (m) => logger.debug(`[${name}] ${m}`),
    info: (m) => logger.info(`[${name}] ${m}`),
    warning: (m) => logger.warning(`[${name}] ${m}`),
    error: (m) => logger.error(`[${name}] ${m}`),
  };
}

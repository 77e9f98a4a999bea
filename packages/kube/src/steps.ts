// The steps of the blue-green state machine and, at the end of this file, the declared list of
// steps for each action (PLANS). Each step is a small function of the run; what its failure or
// cancellation leads to is declared beside it in the list (machine.ts carries it out).
import { errorMessage } from '@adci/common';
import { isTransient, KubeApiError, resourceOf } from './client.ts';
import { colorDeployment, colorHpa, imageOf, previewServiceFor, serviceFor } from './colors.ts';
import { adoptHelmRelease, helmOwnership } from './helm.ts';
import { listHistory, pruneHistory, readRelease, recordRelease } from './history.ts';
import type { Step } from './machine.ts';
import { selectorMatches, type AppManifests } from './manifests.ts';
import type { DeployAction } from './model.ts';
import type { PermissionNeed } from './permissions.ts';
import type { KubeObject } from './port.ts';
import {
  isAvailable,
  podFailure,
  summarisePod,
  waitForAvailable,
  type DeploymentObject,
  type PodObject,
} from './readiness.ts';
import {
  APP_LABEL,
  COPY_OF_LABEL,
  colorConfig,
  colorPdb,
  describeConfiguration,
  readCopies,
  releaseFromManifests,
  type Release,
} from './release.ts';
import { failedSummary, PULL_GRACE_MS, VERIFY_TIMEOUT_MS, type LiveState, type Run } from './run.ts';
import { ANNOTATIONS, COLOR_LABEL, REVISION_LABEL, colorName, isColor, type Color } from './state.ts';
import { serviceProxyUrl, switchServices, verifyEndpoints, type ServiceObject } from './traffic.ts';

/** Phases recorded on the active Service after the switch and before the run finished. */
const AFTER_SWITCH = new Set(['switch', 'verify-endpoints', 'post-check', 'cancelled']);
/** Phases recorded before the switch. */
const BEFORE_SWITCH = new Set(['apply', 'wait-ready', 'preview-check']);

const seconds = (ms: number): string => `${Math.round(ms / 1000)}s`;

// ── reading the cluster ──────────────────────────────────────────────────────────────────────

function previewName(run: Run): string | undefined {
  if (run.s.previewService) return run.s.previewService;
  if (run.s.preChecks && !run.s.previewUrl) return `${run.activeName}-preview`;
  return undefined;
}

export async function readLive(run: Run): Promise<LiveState> {
  const { ns, appName, kube } = run;
  const podLabels = run.s.app.podLabels;
  const manifestServices = run.s.app.services.map((s) => s.object.metadata.name);
  // The reads are independent: one round trip's worth of latency.
  const [listed, blue, green, plain, history] = await Promise.all([
    kube.list<ServiceObject>('Service', ns),
    kube.get<DeploymentObject>('Deployment', ns, colorName(appName, 'blue')),
    kube.get<DeploymentObject>('Deployment', ns, colorName(appName, 'green')),
    kube.get<DeploymentObject>('Deployment', ns, appName),
    listHistory(kube, ns, appName),
  ]);
  if (
    run.s.activeService &&
    !manifestServices.includes(run.s.activeService) &&
    !listed.items.some((svc) => svc.metadata.name === run.s.activeService)
  ) {
    throw new Error(`active-service ${run.s.activeService} is neither in the manifests nor in namespace ${ns}`);
  }
  const preview = previewName(run);
  const liveMatching = listed.items
    .filter((svc) => svc.metadata.name !== preview && !svc.metadata.annotations?.[ANNOTATIONS.previewColor])
    .filter((svc) => selectorMatches(svc.spec?.selector, podLabels))
    .map((svc) => svc.metadata.name);
  const services = [...new Set([run.activeName, ...manifestServices, ...liveMatching])];
  run.result.services = services;
  const byName = new Map(listed.items.map((svc) => [svc.metadata.name, svc]));
  const active = byName.get(run.activeName);
  const annotations = active?.metadata.annotations ?? {};

  // Every live switched Service must point at the same colour, or traffic is already mixed, unless
  // an earlier run stopped in the middle of its switch: then the active Service's colour is finished.
  const colors = new Map<string, string>();
  for (const name of services) {
    const svc = byName.get(name);
    if (svc) colors.set(name, svc.spec?.selector?.[COLOR_LABEL] ?? 'none');
  }
  if (new Set(colors.values()).size > 1) {
    const activeColor = active?.spec?.selector?.[COLOR_LABEL];
    if (
      annotations[ANNOTATIONS.phase] === 'switch' &&
      isColor(activeColor) &&
      !run.s.dryRun &&
      run.s.action !== 'status'
    ) {
      const behind = [...colors].filter(([, c]) => c !== activeColor).map(([n]) => n);
      await switchServices(kube, ns, behind, activeColor, {});
      run.result.recovered = `an earlier run stopped in the middle of its switch: ${behind.join(', ')} now follow ${run.activeName} to ${activeColor}`;
      run.log.warning(run.result.recovered);
    } else {
      throw new Error(
        `the Services that select ${appName}'s pods disagree on the active colour (${[...colors]
          .map(([n, c]) => `${n}: ${c}`)
          .join(', ')}); nothing was changed. Point them at one colour, or name the one to follow with active-service`,
      );
    }
  }
  const deployments: LiveState['deployments'] = {};
  if (blue) deployments.blue = blue;
  if (green) deployments.green = green;
  const selectorColor = active?.spec?.selector?.[COLOR_LABEL];
  let activeColor: LiveState['activeColor'] = isColor(selectorColor) ? selectorColor : undefined;
  let legacy: DeploymentObject | undefined;
  if (active && !activeColor && plain) {
    legacy = plain;
    activeColor = 'legacy';
  }
  const previous = annotations[ANNOTATIONS.previousColor];
  const previewColor = annotations[ANNOTATIONS.previewColor];
  const revision = Number(annotations[ANNOTATIONS.revision] ?? 0) || 0;
  const state = Object.fromEntries(Object.entries(annotations).filter(([k]) => k.startsWith('adci.dev/')));
  run.result.activeColor = activeColor;
  run.result.state = state;
  run.result.revision = revision;
  run.result.history = history;
  const pending = Number(annotations[ANNOTATIONS.pendingRevision] ?? 0) || 0;
  return {
    active,
    services,
    activeColor,
    previousColor: isColor(previous) || previous === 'legacy' ? previous : undefined,
    previewColor: isColor(previewColor) ? previewColor : undefined,
    revision,
    newestRevision: Math.max(revision, pending, history[0]?.revision ?? 0),
    deployments,
    legacy,
    state,
    helm: helmOwnership([plain, ...services.map((name) => byName.get(name))]),
  };
}

function replicasFor(run: Run, manifest: KubeObject): number {
  const declared = (manifest.spec as { replicas?: number }).replicas ?? 1;
  if (!run.s.app.hpa) return declared;
  const live = run.live;
  const current =
    live.activeColor === 'legacy'
      ? live.legacy
      : isColor(live.activeColor)
        ? live.deployments[live.activeColor]
        : undefined;
  const liveReplicas = current?.spec?.replicas;
  return liveReplicas && liveReplicas > 0 ? liveReplicas : declared;
}

function otherThan(color: LiveState['activeColor']): Color {
  return color === 'blue' ? 'green' : 'blue';
}

/** What an earlier run left unfinished, in words; undefined when it finished. */
export function unfinished(
  live: LiveState,
): { phase: string; revision: number; by: string; afterSwitch: boolean } | undefined {
  // The phase alone says it: a finished run ends on done, failed, aborted, rolled-back or preview-ready.
  const phase = live.state[ANNOTATIONS.phase];
  if (!phase) return undefined;
  const by = live.state[ANNOTATIONS.runUrl] ?? 'an earlier run';
  if (AFTER_SWITCH.has(phase) || phase === 'drain' || phase === 'baked')
    return { phase, revision: live.revision, by, afterSwitch: true };
  if (BEFORE_SWITCH.has(phase))
    return { phase, revision: Number(live.state[ANNOTATIONS.pendingRevision] ?? 0), by, afterSwitch: false };
  return undefined;
}

/** Sets up the run for bringing `release` up on the idle colour. */
function planRelease(run: Run, release: Release): void {
  const live = run.live;
  run.mode = 'release';
  run.release = release;
  run.learnSecrets(release);
  run.previous = live.activeColor;
  run.target = otherThan(live.activeColor);
  run.revision = live.newestRevision + 1;
  run.replicas = replicasFor(run, release.deployment);
  run.previewSize = Math.min(run.s.previewReplicas ?? run.replicas, run.replicas);
  run.result.image = release.image;
  const target = run.target;
  const deployment = colorDeployment(readCopies(release.deployment, release.configs, target), {
    color: target,
    replicas: run.previewSize,
    revision: run.revision,
    image: release.image,
    hash: release.hash,
  });
  run.deployment = deployment;
  const preview = previewName(run);
  const activeSvc = live.active ?? run.s.app.services.find((s) => s.object.metadata.name === run.activeName)?.object;
  if (preview && activeSvc) {
    const selector = { ...(activeSvc.spec as { selector?: Record<string, string> })?.selector };
    delete selector[COLOR_LABEL];
    run.previewSvc = previewServiceFor(
      activeSvc,
      preview,
      target,
      Object.keys(selector).length ? selector : run.s.app.podLabels,
    );
  }
  const active = live.activeColor;
  run.result.plan = [
    ...describeConfiguration(release, target),
    `apply Deployment/${deployment.metadata.name} (${run.replicas} replicas${
      run.previewSize < run.replicas ? `, ${run.previewSize} while in preview` : ''
    }, image ${release.image}, revision ${run.revision})`,
    ...(run.previewSvc ? [`apply Service/${preview} -> ${target}`] : []),
    `switch ${live.services.join(', ')} ${active ?? '(new)'} -> ${target}`,
    ...(active
      ? [
          `scale ${active === 'legacy' ? run.appName : colorName(run.appName, active)} to 0 after ${seconds(run.s.scaleDownDelayMs)}`,
        ]
      : []),
  ];
}

// ── plan, per action ────────────────────────────────────────────────────────────────────────

function planDeploy(run: Run): string {
  const live = run.live;
  const release = releaseFromManifests(run.s.app, run.s.image, run.s.container);
  run.result.image = release.image;
  const active = live.activeColor;
  const left = unfinished(live);
  const current = isColor(active) ? live.deployments[active] : undefined;
  const same = current?.metadata.annotations?.[ANNOTATIONS.specHash] === release.hash;
  if (run.s.guardRelease && !(isColor(active) && same))
    // A finish of a release in waves never brings a release up: only the one each target holds.
    throw new Error(
      `${notThisRelease(live, current)}; finish only drains the release the waves brought up; nothing was changed`,
    );
  if (isColor(active) && same && left?.afterSwitch) {
    // An earlier run switched this very release and stopped: finish it.
    run.release = release;
    run.learnSecrets(release);
    run.target = active;
    run.previous = live.previousColor;
    run.revision = live.revision;
    run.replicas = current.spec?.replicas ?? 1;
    const switchedAt = Date.parse(live.state[ANNOTATIONS.switchedAt] ?? '');
    const elapsed = Number.isNaN(switchedAt) ? 0 : Date.now() - switchedAt;
    if (left.phase === 'baked' && run.s.holdPrevious) {
      // Waves: this release is already promoted and baked here; the previous colour stays up.
      run.result.result = 'promoted';
      run.result.previousColor = live.previousColor;
      run.result.recovered = `revision ${live.revision} is already live and baked on ${active}; ${describePrevious(run)} stays up until the last wave has baked`;
      run.done = true;
      return run.result.recovered;
    }
    if (left.phase === 'baked') {
      run.mode = 'resume-drain';
      run.result.recovered = `revision ${live.revision} on ${active} was held for a release in waves; finishing it: the drain, then ${describePrevious(run)} goes down`;
    } else if (left.phase === 'drain') {
      run.mode = 'resume-drain';
      run.result.recovered = `found revision ${live.revision} on ${active} verified but not finished (it stopped while draining, ${left.by}); finishing it: the drain, then ${describePrevious(run)} goes down`;
    } else {
      run.mode = 'resume-post';
      run.windowMs = Math.max(0, run.s.postPromotionWindowMs - elapsed);
      run.result.recovered = `found revision ${live.revision} switched to ${active} but never verified (it stopped at ${left.phase}, ${left.by}); finishing it: ${seconds(run.windowMs)} left of the post-promotion window, then the drain and ${describePrevious(run)} goes down`;
    }
    run.log.warning(run.result.recovered);
    return run.result.recovered;
  }
  if (
    isColor(active) &&
    same &&
    current &&
    (current.spec?.replicas ?? 0) > 0 &&
    isAvailable(current, current.spec?.replicas ?? 0)
  ) {
    run.result.result = 'unchanged';
    run.result.previousColor = live.previousColor;
    run.log.info(
      `${release.image} with the same configuration is already active on ${colorName(run.appName, active)} (revision ${live.revision}); nothing to do`,
    );
    run.done = true;
    return 'unchanged';
  }
  if (left) {
    run.result.recovered = left.afterSwitch
      ? `revision ${left.revision} was switched to ${String(active)} but never finished (${left.phase}, ${left.by}); this release replaces it`
      : `found revision ${left.revision || '?'} stopped before the switch (${left.phase}, ${left.by}); traffic stayed on ${String(active ?? 'nothing')}; this run brings ${otherThan(active)} up again`;
    run.log.warning(run.result.recovered);
  }
  if (live.previewColor && live.previewColor === otherThan(active))
    run.log.info(`an unpromoted preview (${live.previewColor}) is replaced by this deploy`);
  planRelease(run, release);
  return `revision ${run.revision} on ${run.target}${run.result.recovered ? ` (${run.result.recovered})` : ''}`;
}

/** What a target serves instead of this release, in words. */
export function notThisRelease(live: LiveState, current: DeploymentObject | undefined): string {
  const image = current?.metadata.annotations?.[ANNOTATIONS.image];
  return live.activeColor
    ? `${live.activeColor} serves revision ${live.revision}${image ? ` (${image})` : ''}, not this release`
    : 'no colour serves traffic, so not this release';
}

function describePrevious(run: Run): string {
  const p = run.previous;
  return p === 'legacy' ? run.appName : p ? colorName(run.appName, p) : 'nothing';
}

function planPromote(run: Run): string {
  const live = run.live;
  const color = live.previewColor;
  if (!color)
    throw new Error(
      `there is no preview to promote: ${run.activeName} has no ${ANNOTATIONS.previewColor} annotation (deploy with auto-promote: false first)`,
    );
  const deployment = live.deployments[color];
  if (!deployment || (deployment.spec?.replicas ?? 0) === 0)
    throw new Error(`the preview ${colorName(run.appName, color)} is not running; deploy again`);
  if (run.s.holdPrevious) {
    // Waves promote the preview they brought up ahead: only if it still holds this release.
    const release = releaseFromManifests(run.s.app, run.s.image, run.s.container);
    const held = deployment.metadata.annotations;
    if (held?.[ANNOTATIONS.specHash] !== release.hash)
      throw new Error(
        `the preview ${colorName(run.appName, color)} holds ${held?.[ANNOTATIONS.image] ?? 'another release'} (revision ${held?.[ANNOTATIONS.revision] ?? '?'}), not this release; nothing was switched`,
      );
  }
  run.mode = 'reuse';
  run.target = color;
  run.previous = live.activeColor;
  run.result.image = deployment.metadata.annotations?.[ANNOTATIONS.image];
  run.revision = Number(deployment.metadata.annotations?.[ANNOTATIONS.revision] ?? live.revision + 1);
  run.replicas = replicasFor(run, run.s.app.deployment.object);
  run.previewSize = deployment.spec?.replicas ?? run.replicas;
  return `promote ${colorName(run.appName, color)} (revision ${run.revision})`;
}

async function planRollback(run: Run): Promise<string> {
  const live = run.live;
  const ns = run.ns;
  if (run.s.toRevision !== undefined) {
    const stored = await readRelease(run.kube, ns, run.appName, run.s.toRevision);
    if (!stored) throw new Error(`revision ${run.s.toRevision} is not in the history of ${run.appName}`);
    run.rollbackOf = run.s.toRevision;
    planRelease(run, stored.release);
    return `deploy revision ${run.s.toRevision} (${stored.entry.image}) again as revision ${run.revision} on ${run.target}`;
  }
  const current = live.activeColor;
  if (run.s.guardRelease) {
    // Waves' global rollback: only a target that holds this release goes back; a re-run is a no-op.
    const release = releaseFromManifests(run.s.app, run.s.image, run.s.container);
    const serving = isColor(current) ? live.deployments[current] : undefined;
    if (serving?.metadata.annotations?.[ANNOTATIONS.specHash] !== release.hash) {
      run.result.result = 'unchanged';
      run.result.previousColor = live.previousColor;
      run.result.image = serving?.metadata.annotations?.[ANNOTATIONS.image];
      run.done = true;
      return `${notThisRelease(live, serving)}; nothing to roll back`;
    }
  }
  const target = live.previousColor;
  if (!isColor(current) || !target)
    throw new Error(`nothing to roll back to: ${run.activeName} records no previous colour`);
  if (target === 'legacy')
    throw new Error('the previous version is the adopted plain Deployment; deploy its image again instead');
  const deployment = live.deployments[target];
  if (!deployment)
    throw new Error(`the previous colour's Deployment ${colorName(run.appName, target)} no longer exists`);
  const held = Number(deployment.metadata.annotations?.[ANNOTATIONS.revision] ?? 0);
  const history = run.result.history ?? [];
  const heldEntry = history.find((e) => e.revision === held);
  const good = (outcome: string): boolean => outcome === 'promoted' || outcome === 'rolled-back';
  if (heldEntry && !good(heldEntry.outcome)) {
    // The idle colour holds a release that never served (a failed deploy came after): go back to
    // the newest release that did, from the history.
    const wanted = history.find((e) => e.revision !== live.revision && good(e.outcome) && e.revision < live.revision);
    if (!wanted) throw new Error(`nothing to roll back to: no earlier promoted release of ${run.appName} is stored`);
    const stored = await readRelease(run.kube, ns, run.appName, wanted.revision);
    if (!stored) throw new Error(`revision ${wanted.revision} is not in the history of ${run.appName}`);
    run.rollbackOf = wanted.revision;
    planRelease(run, stored.release);
    return `${colorName(run.appName, target)} holds revision ${held} (${heldEntry.outcome}); deploying revision ${wanted.revision} again as ${run.revision}`;
  }
  run.mode = 'reuse';
  run.target = target;
  run.previous = current;
  run.revision = held || live.revision;
  run.replicas = Math.max(live.deployments[current]?.spec?.replicas ?? 1, 1);
  run.previewSize = run.replicas;
  run.result.image = deployment.metadata.annotations?.[ANNOTATIONS.image];
  return `back to ${colorName(run.appName, target)} (revision ${run.revision})`;
}

async function plan(run: Run): Promise<string> {
  run.live = await readLive(run);
  switch (run.s.action) {
    case 'deploy':
      return planDeploy(run);
    case 'promote':
      return planPromote(run);
    case 'rollback':
      return planRollback(run);
    case 'abort':
    case 'status':
      return statusOf(run);
  }
}

function statusOf(run: Run): string {
  const live = run.live;
  const r = run.result;
  r.activeColor = live.activeColor;
  r.previousColor = live.previousColor;
  r.previewColor = live.previewColor;
  r.revision = live.revision;
  const active = isColor(live.activeColor) ? live.deployments[live.activeColor] : live.legacy;
  r.image =
    active?.metadata.annotations?.[ANNOTATIONS.image] ?? (active ? imageOf(active, run.s.container) : undefined);
  const left = unfinished(live);
  if (left?.phase === 'baked')
    r.recovered = `revision ${left.revision} is live on ${String(live.activeColor)} and held with ${String(live.previousColor)} up for a release in waves (${left.by}); the waves drain and scale it down after the last wave`;
  else if (left)
    r.recovered = left.afterSwitch
      ? `revision ${left.revision} was switched to ${String(live.activeColor)} but its run stopped at ${left.phase} (${left.by}); deploying the same release again finishes it`
      : `revision ${left.revision || '?'} stopped before the switch (${left.phase}, ${left.by}); traffic is on ${String(live.activeColor ?? 'nothing')}`;
  if (run.s.action === 'status') {
    r.result = 'status';
    run.done = true;
  }
  return `${String(live.activeColor ?? 'nothing')} is live (revision ${live.revision}); ${r.history?.length ?? 0} releases stored`;
}

// ── permissions ──────────────────────────────────────────────────────────────────────────────

export function permissionNeeds(s: Run['s']): PermissionNeed[] {
  const needs: PermissionNeed[] = [
    { verb: 'create', group: 'coordination.k8s.io', resource: 'leases' },
    { verb: 'get', group: 'coordination.k8s.io', resource: 'leases' },
    { verb: 'update', group: 'coordination.k8s.io', resource: 'leases' },
    { verb: 'delete', group: 'coordination.k8s.io', resource: 'leases' },
    { verb: 'list', group: '', resource: 'services' },
    { verb: 'get', group: '', resource: 'services' },
    { verb: 'get', group: 'apps', resource: 'deployments' },
    { verb: 'watch', group: 'apps', resource: 'deployments' },
    { verb: 'list', group: '', resource: 'pods' },
    { verb: 'watch', group: '', resource: 'pods' },
    { verb: 'list', group: 'apps', resource: 'controllerrevisions' },
    { verb: 'patch', group: 'apps', resource: 'controllerrevisions' },
    { verb: 'patch', group: 'apps', resource: 'deployments' },
  ];
  if (s.action !== 'abort') {
    needs.push(
      { verb: 'patch', group: '', resource: 'services' },
      { verb: 'list', group: 'discovery.k8s.io', resource: 'endpointslices' },
      { verb: 'watch', group: 'discovery.k8s.io', resource: 'endpointslices' },
    );
  }
  if (s.action === 'deploy' || s.action === 'rollback') {
    needs.push(
      { verb: 'create', group: 'apps', resource: 'deployments' },
      { verb: 'create', group: '', resource: 'services' },
      { verb: 'get', group: 'apps', resource: 'controllerrevisions' },
      { verb: 'create', group: 'apps', resource: 'controllerrevisions' },
      { verb: 'delete', group: 'apps', resource: 'controllerrevisions' },
      { verb: 'get', group: '', resource: 'secrets' },
      { verb: 'create', group: '', resource: 'secrets' },
      { verb: 'patch', group: '', resource: 'secrets' },
      { verb: 'delete', group: '', resource: 'secrets' },
      { verb: 'list', group: '', resource: 'configmaps' },
      { verb: 'create', group: '', resource: 'configmaps' },
      { verb: 'patch', group: '', resource: 'configmaps' },
      { verb: 'delete', group: '', resource: 'configmaps' },
      { verb: 'list', group: '', resource: 'secrets' },
    );
    for (const other of [...s.app.others, ...(s.app.hpa ? [s.app.hpa] : [])]) {
      const { apiGroup, plural } = resourceOf(other.object.kind ?? '');
      needs.push(
        { verb: 'create', group: apiGroup, resource: plural },
        { verb: 'patch', group: apiGroup, resource: plural },
      );
      if (other.object.kind === 'PodDisruptionBudget')
        needs.push({ verb: 'delete', group: apiGroup, resource: plural });
    }
    if (s.app.hpa) needs.push({ verb: 'delete', group: 'autoscaling', resource: 'horizontalpodautoscalers' });
    if ((s.preChecks && !s.previewUrl) || s.postChecks)
      needs.push({ verb: 'get', group: '', resource: 'services', subresource: 'proxy' });
  }
  return needs;
}

// ── bringing the colour up ───────────────────────────────────────────────────────────────────

/** The colour's objects: configuration copies, PDBs (the target's and the active colour's), the Deployment. */
function colourObjects(run: Run): { copies: KubeObject[]; pdbs: KubeObject[] } {
  const release = run.release as Release;
  const target = run.target as Color;
  const owner = run.live.deployments[target];
  const copies = release.configs.map((c) => {
    const copy = colorConfig(c, run.appName, target, run.revision, release.hash);
    if (owner?.metadata.uid)
      copy.metadata.ownerReferences = [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: owner.metadata.name, uid: owner.metadata.uid },
      ];
    return copy;
  });
  const pdbs: KubeObject[] = [];
  if (release.pdb) {
    pdbs.push(colorPdb(release.pdb, target));
    if (isColor(run.live.activeColor)) pdbs.push(colorPdb(release.pdb, run.live.activeColor));
  }
  return { copies, pdbs };
}

async function validate(run: Run): Promise<string> {
  const release = run.release as Release;
  const { copies, pdbs } = colourObjects(run);
  const target = run.target as Color;
  const hpa = run.s.app.hpa;
  const sourceOf = (object: KubeObject): AppManifests['deployment'] | undefined => {
    const app = run.s.app;
    return [app.deployment, ...app.services, ...app.others, ...(app.hpa ? [app.hpa] : [])].find(
      (o) => o.object.metadata.name === object.metadata.name && o.object.kind === object.kind,
    );
  };
  // Dry runs change nothing, so they run side by side; the first rejection is reported.
  await Promise.all([
    ...release.others.map((o) => dryRun(run, o, sourceOf(o))),
    ...copies.map((o) =>
      dryRun(run, o, sourceOf({ ...o, metadata: { name: o.metadata.labels?.[COPY_OF_LABEL] ?? '' } })),
    ),
    ...pdbs.map((o) => dryRun(run, o, release.pdb ? sourceOf(release.pdb) : undefined)),
    dryRun(run, run.deployment as KubeObject, run.s.app.deployment),
    ...(run.previewSvc ? [dryRun(run, run.previewSvc, undefined)] : []),
    ...run.s.app.services.map((svc) => dryRun(run, serviceFor(svc.object, target, {}), svc)),
    ...(hpa ? [dryRun(run, colorHpa(hpa.object, run.appName, target), hpa)] : []),
  ]);
  if (run.s.dryRun) {
    run.result.result = 'planned';
    for (const line of run.result.plan ?? []) run.log.info(`plan: ${line}`);
    run.done = true;
  }
  return `${run.result.plan?.length ?? 0} steps, validated by a server-side dry run`;
}

/** Server-side dry run; a rejection names the manifest's file and line. */
async function dryRun(run: Run, object: KubeObject, source: AppManifests['deployment'] | undefined): Promise<void> {
  try {
    await run.kube.apply(object, run.ns, { dryRun: true });
  } catch (error) {
    if (error instanceof KubeApiError && error.status !== 403 && !isTransient(error)) {
      const where = source
        ? `${source.file}:${source.line}: ${source.object.kind}/${source.object.metadata.name}`
        : `${object.kind}/${object.metadata.name}`;
      // eslint-disable-next-line preserve-caught-error -- the message carries the server's reason already
      throw new Error(
        `${where} is rejected by the API server: ${run.redact(error.message.replace(/^failed to create typed patch object \([^)]*\): /, ''))}`,
      );
    }
    throw error;
  }
}

async function apply(run: Run): Promise<string> {
  const { kube, ns } = run;
  const target = run.target as Color;
  if (run.mode === 'reuse') {
    // rollback to the idle colour: bring it back to size when it is not.
    const deployment = run.live.deployments[target] as DeploymentObject;
    if ((deployment.spec?.replicas ?? 0) >= run.previewSize && isAvailable(deployment, deployment.spec?.replicas ?? 0))
      return `${deployment.metadata.name} is up`;
    await kube.mergePatch('Deployment', ns, deployment.metadata.name, { spec: { replicas: run.previewSize } });
    return `${deployment.metadata.name} scaled to ${run.previewSize}`;
  }
  const release = run.release as Release;
  const { copies, pdbs } = colourObjects(run);
  void run.record({
    [ANNOTATIONS.phase]: 'apply',
    [ANNOTATIONS.result]: null,
    [ANNOTATIONS.pendingRevision]: String(run.revision),
    [ANNOTATIONS.startedAt]: new Date().toISOString(),
  });
  // The release is stored (pending) alongside the configuration: the pods read it as they start, so
  // it goes before the Deployment, with what is applied in place.
  await Promise.all([
    recordRelease(kube, ns, run.appName, release, {
      revision: run.revision,
      color: target,
      time: new Date().toISOString(),
      run: run.s.run,
      rollbackOf: run.rollbackOf,
    }),
    ...copies.map((o) => kube.apply(o, ns)),
    ...release.others.map((o) => kube.apply(o, ns)),
  ]);
  const applied = await kube.apply<DeploymentObject>(run.deployment as KubeObject, ns);
  const uid = applied.metadata.uid;
  const owned = !!run.live.deployments[target]?.metadata.uid;
  await Promise.all([
    ...pdbs.map((o) => kube.apply(o, ns)),
    ...(run.previewSvc ? [kube.apply(run.previewSvc, ns)] : []),
    // A first copy gets its owner now: the copies go with the colour's Deployment.
    ...(!owned && uid
      ? copies.map((o) =>
          kube.mergePatch(o.kind ?? '', ns, o.metadata.name, {
            metadata: {
              ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: applied.metadata.name, uid }],
            },
          }),
        )
      : []),
    removeStaleCopies(run, target, copies),
    release.pdb ? retirePlainPdb(run, release.pdb) : undefined,
  ]);
  run.result.previewColor = target;
  return `${applied.metadata.name} revision ${run.revision}${copies.length ? `, ${copies.map((c) => c.metadata.name).join(', ')}` : ''}`;
}

/** The colour's copies of configuration the release no longer reads (bounded: nothing piles up). */
async function removeStaleCopies(run: Run, color: Color, keep: KubeObject[]): Promise<void> {
  const names = new Set(keep.map((k) => `${k.kind}/${k.metadata.name}`));
  const selector = { labelSelector: `${APP_LABEL}=${run.appName},${COLOR_LABEL}=${color}` };
  for (const kind of ['ConfigMap', 'Secret'] as const) {
    const listed = await run.kube.list(kind, run.ns, selector);
    await Promise.all(
      listed.items
        .filter((o) => o.metadata.labels?.[COPY_OF_LABEL] && !names.has(`${kind}/${o.metadata.name}`))
        .map((o) => run.kube.delete(kind, run.ns, o.metadata.name)),
    );
  }
}

/** A PDB of the manifests' name that selects both colours (an earlier adci applied it as is) goes once each colour has its own. */
async function retirePlainPdb(run: Run, pdb: KubeObject): Promise<void> {
  const live = await run.kube.get('PodDisruptionBudget', run.ns, pdb.metadata.name);
  const selector = (live?.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector;
  if (live && !selector?.matchLabels?.[COLOR_LABEL])
    await run.kube.delete('PodDisruptionBudget', run.ns, pdb.metadata.name);
}

async function waitReady(run: Run): Promise<string> {
  const target = run.target as Color;
  const name = colorName(run.appName, target);
  const started = run.clock.now();
  const outcome = await waitForAvailable(run.kube, {
    namespace: run.ns,
    deployment: name,
    podSelector:
      run.mode === 'release'
        ? `${COLOR_LABEL}=${target},${REVISION_LABEL}=${run.revision}`
        : `${COLOR_LABEL}=${target}`,
    replicas: run.previewSize,
    timeoutMs: run.remaining(),
    pullGraceMs: PULL_GRACE_MS,
    unschedulableGraceMs: 10_000,
    clock: run.clock,
    signal: run.signal,
    onPods: (pods) => (run.result.pods = pods),
  });
  run.ready = outcome;
  run.result.pods = outcome.pods;
  run.result.readySeconds = (outcome.availableAt - started) / 1000;
  return `${outcome.pods.length} pods ready`;
}

async function previewCheck(run: Run): Promise<string> {
  const target = run.target as Color;
  return run.withAnalysis('pre', target, async (signal) => {
    const url =
      run.s.previewUrl ?? (run.previewSvc ? serviceProxyUrl(run.kube.server, run.ns, run.previewSvc) : undefined);
    run.result.previewUrl = url;
    if (!run.s.preChecks || !url) return 'no pre-promotion checks';
    const outcome = await run.check('pre', run.s.preChecks, url, signal);
    if (!outcome.passed) throw new Error(`pre-promotion checks failed on ${target}: ${await failedSummary(outcome)}`);
    return `${outcome.counts.passed} passed against ${run.previewSize} pod${run.previewSize === 1 ? '' : 's'}`;
  });
}

/** The preview ran smaller than the full size: scale it to the full size and wait until it is all available. */
async function scaleUp(run: Run): Promise<string> {
  const target = run.target as Color;
  const name = colorName(run.appName, target);
  await run.kube.mergePatch('Deployment', run.ns, name, { spec: { replicas: run.replicas } });
  run.previewSize = run.replicas;
  await waitReady(run);
  return `${name} scaled to ${run.replicas}, all available`;
}

async function holdPreview(run: Run): Promise<string> {
  const target = run.target as Color;
  await Promise.all([
    run.record({ [ANNOTATIONS.phase]: 'preview-ready', [ANNOTATIONS.previewColor]: target }),
    run.outcome('preview'),
  ]);
  run.result.result = 'preview-ready';
  run.result.activeColor = run.live.activeColor;
  run.result.revision = run.revision;
  run.log.info(
    `${colorName(run.appName, target)} is ready as a preview; run again with action: promote to switch traffic`,
  );
  run.done = true;
  return `${target} waits for promote`;
}

// ── moving traffic ───────────────────────────────────────────────────────────────────────────

async function switchTraffic(run: Run): Promise<string> {
  const target = run.target as Color;
  const live = run.live;
  await run.flushRecords();
  const annotations = run.stateAnnotations({
    [ANNOTATIONS.activeColor]: target,
    [ANNOTATIONS.previousColor]: run.previous ?? '',
    [ANNOTATIONS.revision]: String(run.revision),
    [ANNOTATIONS.phase]: 'switch',
    [ANNOTATIONS.switchedAt]: new Date().toISOString(),
  });
  const { kube, ns } = run;
  const existing: string[] = [];
  const created: KubeObject[] = [];
  for (const name of live.services) {
    const present = name === run.activeName ? live.active : await kube.get<ServiceObject>('Service', ns, name);
    if (present) existing.push(name);
    else {
      const manifest = run.s.app.services.find((s) => s.object.metadata.name === name);
      if (manifest) created.push(serviceFor(manifest.object, target, name === run.activeName ? annotations : {}));
    }
  }
  // One merge patch per Service, all at once; the active one carries the new state in the same
  // write as its selector, so what the Service says and where it sends traffic never disagree.
  const active = existing.includes(run.activeName) ? [run.activeName] : [];
  await Promise.all([
    switchServices(
      kube,
      ns,
      existing.filter((name) => name !== run.activeName),
      target,
      {},
    ),
    switchServices(kube, ns, active, target, {
      ...annotations,
      [ANNOTATIONS.previewColor]: null,
      [ANNOTATIONS.pendingRevision]: null,
      [ANNOTATIONS.result]: null,
    }),
    ...created.map((svc) => kube.apply(svc, ns)),
  ]);
  if (!live.active) live.active = await kube.get<ServiceObject>('Service', ns, run.activeName);
  const switched = run.clock.now();
  run.switchedAt = switched;
  if (run.ready) run.result.switchLatencyMs = switched - run.ready.lastPodReadyAt;
  run.result.activeColor = target;
  run.result.previousColor = run.previous;
  run.result.revision = run.revision;
  run.result.previewColor = undefined;
  return `${live.services.join(', ')} -> ${target}`;
}

async function verify(run: Run): Promise<string> {
  const target = run.target as Color;
  const started = run.switchedAt ?? run.clock.now();
  const [deployment, newPods] = await Promise.all([
    run.kube.get<DeploymentObject>('Deployment', run.ns, colorName(run.appName, target)),
    run.podNames(target),
  ]);
  const desired = deployment?.spec?.replicas ?? 1;
  const reports = await verifyEndpoints(
    run.kube,
    run.ns,
    run.live.services,
    (pod) => newPods.has(pod),
    desired,
    VERIFY_TIMEOUT_MS,
  );
  run.result.endpoints = reports;
  run.result.switchSeconds = (run.clock.now() - started) / 1000;
  run.result.activeColor = target;
  return reports.map((r) => `${r.service}: ${r.readyNew} ready ${target} endpoints, 0 others`).join('; ');
}

async function postCheck(run: Run): Promise<string> {
  const target = run.target as Color;
  void run.record({ [ANNOTATIONS.phase]: 'post-check' });
  return run.withAnalysis('post', target, (signal) => postPromotionWindow(run, target, signal));
}

async function postPromotionWindow(run: Run, color: Color, signal: AbortSignal): Promise<string> {
  const windowMs = run.windowMs;
  const windowEnd = run.clock.now() + windowMs;
  const firstSeen = new Map<string, number>();
  let rounds = 0;
  const url = run.s.postChecks ? await activeProxyUrl(run) : undefined;
  do {
    signal.throwIfAborted();
    const pods = await run.kube.list<PodObject>('Pod', run.ns, { labelSelector: `${COLOR_LABEL}=${color}` });
    const failure = podFailure(pods.items, run.clock.now(), firstSeen, { pullGraceMs: 0, unschedulableGraceMs: 0 });
    if (failure) throw new Error(`after the switch, ${failure.message}`);
    const notReady = pods.items.filter((p) => !p.metadata.deletionTimestamp && !summarisePod(p).ready);
    if (notReady.length) throw new Error(`after the switch, pod ${notReady[0]?.metadata.name} is not ready`);
    if (run.s.postChecks && url) {
      const outcome = await run.check('post', run.s.postChecks, url, signal);
      rounds++;
      if (!outcome.passed) throw new Error(`post-promotion checks failed on ${color}: ${await failedSummary(outcome)}`);
    }
    const left = windowEnd - run.clock.now();
    if (left > 0) await run.clock.sleep(Math.min(left, run.s.postChecks ? 2000 : 1000), signal).catch(() => undefined);
  } while (run.clock.now() < windowEnd);
  return run.s.postChecks
    ? `${rounds} rounds of checks passed over ${seconds(windowMs)}`
    : `pods healthy for ${seconds(windowMs)}`;
}

async function activeProxyUrl(run: Run): Promise<string | undefined> {
  const svc = await run.kube.get<ServiceObject>('Service', run.ns, run.activeName);
  return svc ? serviceProxyUrl(run.kube.server, run.ns, svc) : undefined;
}

async function drain(run: Run): Promise<string> {
  void run.record({ [ANNOTATIONS.phase]: 'drain' });
  await run.clock.sleep(run.s.scaleDownDelayMs, run.signal);
  return seconds(run.s.scaleDownDelayMs);
}

async function scaleDown(run: Run): Promise<string> {
  const target = run.target as Color;
  const previous = run.previous;
  const done: string[] = [];
  const rolledBack = run.s.action === 'rollback';
  const outcome = rolledBack ? 'rolled-back' : 'promoted';
  const scale = async (): Promise<void> => {
    if (previous === 'legacy') {
      await run.kube.mergePatch('Deployment', run.ns, run.appName, {
        spec: { replicas: 0 },
        metadata: { annotations: { [ANNOTATIONS.adoptedBy]: colorName(run.appName, target) } },
      });
      done.push(run.appName);
    } else if (previous) {
      await run.scaleColor(previous, 0);
      done.push(colorName(run.appName, previous));
    }
  };
  // Independent writes: the old colour's scale, the HPA move and the recorded state.
  const [, , , , pruned] = await Promise.all([
    scale(),
    syncHpa(run, target, previous),
    run.record({ [ANNOTATIONS.phase]: 'done', [ANNOTATIONS.result]: outcome }),
    run.outcome(outcome),
    pruneHistory(run.kube, run.ns, run.appName, run.s.historyLimit).catch((error: unknown) => {
      run.log.debug(`could not prune the history: ${errorMessage(error)}`);
      return 0;
    }),
  ]);
  run.result.result = rolledBack ? 'rolled-back' : 'promoted';
  return `${done.length ? `${done.join(', ')} scaled to 0` : 'nothing to scale down'}${pruned ? `; ${pruned} old releases removed from the history` : ''}`;
}

/** The HPA follows the active colour: the new colour's is applied, the old colour's removed. */
async function syncHpa(run: Run, active: Color, previous: Color | 'legacy' | undefined): Promise<void> {
  const hpa = run.s.app.hpa?.object;
  if (!hpa) return;
  const old = isColor(previous)
    ? colorName(hpa.metadata.name, previous)
    : previous === 'legacy'
      ? hpa.metadata.name
      : undefined;
  await Promise.all([
    run.kube.apply(colorHpa(hpa, run.appName, active), run.ns),
    old ? run.kube.delete('HorizontalPodAutoscaler', run.ns, old) : undefined,
  ]);
}

/** Waves: the release stays live with the previous colour up, until the last wave has baked. */
async function hold(run: Run): Promise<string> {
  await Promise.all([
    run.record({ [ANNOTATIONS.phase]: 'baked', [ANNOTATIONS.result]: 'promoted' }),
    run.outcome('promoted'),
  ]);
  run.result.result = 'promoted';
  return `${describePrevious(run)} stays up until the last wave has baked`;
}

async function abortPreview(run: Run): Promise<string> {
  const color = run.live.previewColor;
  run.result.activeColor = run.live.activeColor;
  run.result.result = 'aborted';
  if (!color) {
    run.log.info('there is no unpromoted preview; nothing to abort');
    return 'no preview';
  }
  const revision = Number(run.live.deployments[color]?.metadata.annotations?.[ANNOTATIONS.revision] ?? 0);
  await run.scaleColor(color, 0);
  run.revision = revision;
  await Promise.all([
    run.record({ [ANNOTATIONS.previewColor]: null, [ANNOTATIONS.phase]: 'aborted', [ANNOTATIONS.result]: 'aborted' }),
    run.outcome('aborted'),
  ]);
  return `${colorName(run.appName, color)} scaled to 0`;
}

// ── the declared plans ───────────────────────────────────────────────────────────────────────

const releasing = (run: Run): boolean => run.mode === 'release';
const bringingUp = (run: Run): boolean => run.mode === 'release' || run.mode === 'reuse';
const switched = (run: Run): boolean => run.mode !== 'resume-drain';

const STEP = {
  plan: { name: 'plan', run: plan, onFailure: 'stop' },
  validate: { name: 'validate', run: validate, onFailure: 'stop', when: releasing },
  apply: { name: 'apply', run: apply, onFailure: 'abandon', when: bringingUp },
  waitReady: { name: 'wait-ready', run: waitReady, onFailure: 'abandon', when: bringingUp },
  previewCheck: {
    name: 'preview-check',
    run: previewCheck,
    onFailure: 'abandon',
    when: (run) => releasing(run) && !!(run.s.preChecks || run.s.preAnalysis || run.previewSvc),
  },
  scaleUp: {
    name: 'scale-up',
    run: scaleUp,
    onFailure: 'abandon',
    when: (run) => bringingUp(run) && run.previewSize < run.replicas,
  },
  holdPreview: {
    name: 'preview-ready',
    run: holdPreview,
    onFailure: 'abandon',
    when: (run) => releasing(run) && !run.s.autoPromote,
  },
  // A cancel reaches these only before they start (once started they finish): before the switch
  // nothing moved; before the verification, a re-run verifies and finishes.
  switch: {
    name: 'switch',
    run: switchTraffic,
    onFailure: 'revert',
    onCancel: 'abandon',
    finishOnCancel: true,
    when: bringingUp,
  },
  verify: {
    name: 'verify-endpoints',
    run: verify,
    onFailure: 'revert',
    onCancel: 'resume',
    finishOnCancel: true,
    when: switched,
  },
  postCheck: { name: 'post-check', run: postCheck, onFailure: 'revert', onCancel: 'resume', when: switched },
  hold: { name: 'hold', run: hold, onFailure: 'resume', finishOnCancel: true, when: (run) => !!run.s.holdPrevious },
  drain: { name: 'drain', run: drain, onFailure: 'resume', when: (run) => !run.s.holdPrevious },
  scaleDown: {
    name: 'scale-down',
    run: scaleDown,
    onFailure: 'resume',
    finishOnCancel: true,
    when: (run) => !run.s.holdPrevious,
  },
  abort: { name: 'abort', run: abortPreview, onFailure: 'stop' },
} satisfies Record<string, Step<Run>>;

/**
 * What each action does, in order. A step skipped by its `when` is not shown. The compensation
 * of each step (what its failure or cancellation does) is declared in STEP above.
 */
export const PLANS: Record<DeployAction, readonly Step<Run>[]> = {
  deploy: [
    STEP.plan,
    STEP.validate,
    STEP.apply,
    STEP.waitReady,
    STEP.previewCheck,
    STEP.holdPreview,
    STEP.scaleUp,
    STEP.switch,
    STEP.verify,
    STEP.postCheck,
    STEP.hold,
    STEP.drain,
    STEP.scaleDown,
  ],
  promote: [
    STEP.plan,
    STEP.waitReady,
    STEP.scaleUp,
    STEP.switch,
    STEP.verify,
    STEP.postCheck,
    STEP.hold,
    STEP.drain,
    STEP.scaleDown,
  ],
  rollback: [
    STEP.plan,
    STEP.validate,
    STEP.apply,
    STEP.waitReady,
    STEP.previewCheck,
    STEP.scaleUp,
    STEP.switch,
    STEP.verify,
    STEP.postCheck,
    STEP.drain,
    STEP.scaleDown,
  ],
  abort: [STEP.plan, STEP.abort],
  status: [STEP.plan],
};

/**
 * After a deploy that serves traffic (promoted, or unchanged): a Helm release that still owns the
 * app's objects gets them marked keep (so its `helm uninstall` leaves them), and a warning says
 * how to retire it. Never fails the deploy.
 */
export async function adoptHelm(run: Run): Promise<void> {
  const live = run.live as LiveState | undefined;
  if (!live?.helm || (run.result.result !== 'promoted' && run.result.result !== 'unchanged')) return;
  const applied = [...run.s.app.others, ...(run.s.app.hpa ? [run.s.app.hpa] : [])];
  const keep = [
    ...live.services.map((name) => `Service/${name}`),
    ...applied.map((o) => `${o.object.kind}/${o.object.metadata.name}`),
  ];
  const adoption = await adoptHelmRelease(run.kube, live.helm, keep, run.appName);
  run.result.helm = adoption;
  if (adoption.error) run.log.warning(`Helm release ${adoption.release}: could not mark it: ${adoption.error}`);
  if (adoption.advice) run.log.warning(adoption.advice);
}

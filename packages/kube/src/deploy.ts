// The blue-green state machine. Each phase is a small function with one job; `runBlueGreen` is
// the only place that decides what comes next. State is recorded on the cluster (annotations on
// the Services and colour Deployments), so a re-run, rollback, cancel or crash can see it.
import { hostname } from 'node:os';
import { errorMessage, silentLogger, systemClock, type Clock, type Logger } from '@adci/common';
import { describeFailure, type ChecksDocument, type SmokeResult } from '@adci/probe';
import type { AnalysisDocument, AnalysisResult } from '@adci/analysis';
import { analysisVars, defaultAnalysisRunner, type AnalysisRunner } from './checks.ts';
import { isStatus, isTransient, KubeApiError, resourceOf } from './client.ts';
import type { KubeObject, KubePort } from './port.ts';
import { colorDeployment, colorHpa, imageOf, previewServiceFor, serviceFor, specHash, withImage } from './colors.ts';
import { acquireLock, type HeldLock } from './lock.ts';
import { adoptHelmRelease, helmOwnership, type HelmAdoption, type HelmOwnership } from './helm.ts';
import { selectorMatches, type AppManifests } from './manifests.ts';
import { checkPermissions, type PermissionNeed } from './permissions.ts';
import {
  isAvailable,
  podFailure,
  summarisePod,
  waitForAvailable,
  type DeploymentObject,
  type PodObject,
  type PodSummary,
} from './readiness.ts';
import { ANNOTATIONS, COLOR_LABEL, REVISION_LABEL, colorName, isColor, type Color, type Phase } from './state.ts';
import {
  annotate,
  serviceProxyUrl,
  switchServices,
  verifyEndpoints,
  type EndpointReport,
  type ServiceObject,
} from './traffic.ts';

export type DeployAction = 'deploy' | 'promote' | 'rollback' | 'abort' | 'status';
export type DeployOutcome =
  'promoted' | 'rolled-back' | 'aborted' | 'preview-ready' | 'unchanged' | 'failed' | 'status' | 'planned';

export interface RunFacts {
  commit?: string;
  runUrl?: string;
  /** Who holds the lock, shown to a waiting run: a run URL or user, plus host and pid. */
  holder?: string;
}

export interface BlueGreenSettings {
  action: DeployAction;
  app: AppManifests;
  namespace: string;
  image?: string;
  container?: string;
  /** The Service that carries the state annotations (default: the manifests' first Service). */
  activeService?: string;
  /** Created and pointed at the new colour; defaulted to `<active>-preview` when pre-promotion checks exist. */
  previewService?: string;
  /** How checks reach the preview; default the API server's service proxy. */
  previewUrl?: string;
  /** How post-promotion checks reach the active Service; default the service proxy. */
  activeUrl?: string;
  preChecks?: ChecksDocument;
  postChecks?: ChecksDocument;
  /** Metric analyses run alongside the checks of the same phase; a failure counts as a failed check. */
  preAnalysis?: AnalysisDocument;
  postAnalysis?: AnalysisDocument;
  /** Overrides the analysis files' `prometheus:`. */
  prometheusUrl?: string;
  prometheusToken?: string;
  /** The analysis-vars input: placeholder values besides the deploy's own (never one of those). */
  analysisVars?: Record<string, string>;
  autoPromote: boolean;
  postPromotionWindowMs: number;
  scaleDownDelayMs: number;
  timeoutMs: number;
  lockTimeoutMs: number;
  dryRun: boolean;
  /** How long verification of endpoints may take after the switch. */
  verifyTimeoutMs?: number;
  /** Grace for transient image pull errors before they are fatal. */
  pullGraceMs?: number;
  run: RunFacts;
}

/** Runs a checks document against a base URL (packages/probe through the adapter's transport). */
export type CheckRunner = (
  phase: 'pre' | 'post',
  document: ChecksDocument,
  baseUrl: string,
  signal: AbortSignal,
) => Promise<SmokeResult>;

export interface BlueGreenPorts {
  kube: KubePort;
  logger?: Logger;
  clock?: Clock;
  signal?: AbortSignal;
  runChecks?: CheckRunner;
  /** Runs a metric analysis (default: @adci/analysis against the settings' Prometheus). */
  runAnalysis?: AnalysisRunner;
  /** Called as each phase starts and ends (the adapter groups its log, the CLI prints progress). */
  onPhase?: (phase: PhaseRecord) => void;
  /** Called once the lock is held, so a post: step can release it after a cancel. */
  onLock?: (lock: { namespace: string; name: string; holder: string }) => void;
}

export interface PhaseRecord {
  name: Phase;
  startedAt: number;
  endedAt?: number;
  outcome?: 'ok' | 'failed' | 'skipped' | 'cancelled';
  detail?: string;
}

export interface BlueGreenResult {
  action: DeployAction;
  result: DeployOutcome;
  app: string;
  namespace: string;
  activeColor?: Color | 'legacy';
  previousColor?: Color | 'legacy';
  previewColor?: Color;
  revision?: number;
  image?: string;
  previewUrl?: string;
  services: string[];
  /** From apply to available. */
  readySeconds?: number;
  /** From the switch patch to verified endpoints. */
  switchSeconds?: number;
  /** From the last new pod seen Ready to the switch patch answered. */
  switchLatencyMs?: number;
  phases: PhaseRecord[];
  pods: PodSummary[];
  endpoints: EndpointReport[];
  checks: { phase: 'pre' | 'post'; result: SmokeResult }[];
  analyses: { phase: 'pre' | 'post'; result: AnalysisResult }[];
  /** Why the deploy failed or rolled back. */
  error?: string;
  /** The lock was waited for: who held it. */
  waitedFor?: string;
  plan?: string[];
  state?: Record<string, string>;
  /** A Helm release that owned the app's objects: what was marked, and what to do with it (helm.ts). */
  helm?: HelmAdoption;
  failed: boolean;
}

const INTERRUPTED = 'the run was cancelled';

class Cancelled extends Error {
  constructor() {
    super(INTERRUPTED);
    this.name = 'Cancelled';
  }
}

interface LiveState {
  active?: ServiceObject;
  /** Every Service (manifest or live) that selects the app's pods, in a stable order. */
  services: string[];
  activeColor?: Color | 'legacy';
  previousColor?: Color | 'legacy';
  previewColor?: Color;
  revision: number;
  deployments: Partial<Record<Color, DeploymentObject>>;
  legacy?: DeploymentObject;
  /** The Helm release that owns the live Deployment or Services, if any. */
  helm?: HelmOwnership;
}

export async function runBlueGreen(settings: BlueGreenSettings, ports: BlueGreenPorts): Promise<BlueGreenResult> {
  const run = new BlueGreenRun(settings, ports);
  return run.execute();
}

class BlueGreenRun {
  private readonly s: BlueGreenSettings;
  private readonly kube: KubePort;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly signal: AbortSignal;
  private readonly ports: BlueGreenPorts;
  private readonly appName: string;
  private readonly activeName: string;
  private readonly result: BlueGreenResult;
  private lock?: HeldLock;
  /** The queue of state records on the active Service (see record()). */
  private recorded: Promise<void> = Promise.resolve();
  private readonly deadline: number;

  constructor(settings: BlueGreenSettings, ports: BlueGreenPorts) {
    this.s = settings;
    this.ports = ports;
    this.kube = ports.kube;
    this.log = ports.logger ?? silentLogger;
    this.clock = ports.clock ?? systemClock;
    this.signal = ports.signal ?? new AbortController().signal;
    this.appName = settings.app.deployment.object.metadata.name;
    this.activeName =
      settings.activeService ??
      settings.app.services[0]?.object.metadata.name ??
      settings.app.deployment.object.metadata.name;
    this.deadline = this.clock.now() + settings.timeoutMs;
    this.result = {
      action: settings.action,
      result: 'failed',
      app: this.appName,
      namespace: settings.namespace,
      services: [],
      phases: [],
      pods: [],
      endpoints: [],
      checks: [],
      analyses: [],
      failed: false,
    };
  }

  // ── the driver ────────────────────────────────────────────────────────────────────────────

  async execute(): Promise<BlueGreenResult> {
    try {
      if (this.s.action !== 'status' && !this.s.dryRun) {
        // The permission review and the lock are independent round trips: they run side by side.
        // Missing permissions win (they say what to grant) and stop a lock wait at once; a lock taken
        // meanwhile is released in `finally` like any other.
        const permissionsFailed = new AbortController();
        const [permissions, lock] = await Promise.allSettled([
          this.phase('permissions', () => this.checkPermissions()).catch((error: unknown) => {
            permissionsFailed.abort(error);
            throw error;
          }),
          this.phase('lock', async () => {
            this.lock = await acquireLock(this.kube, {
              namespace: this.s.namespace,
              app: this.appName,
              holder: this.holder(),
              timeoutMs: this.s.lockTimeoutMs,
              logger: this.log,
              clock: this.clock,
              signal: AbortSignal.any([this.signal, permissionsFailed.signal]),
            });
            this.ports.onLock?.({ namespace: this.s.namespace, name: this.lock.name, holder: this.lock.holder });
            return `held as ${this.lock.holder}`;
          }),
        ]);
        if (permissions.status === 'rejected') throw permissions.reason;
        if (lock.status === 'rejected') throw lock.reason;
      }
      const live = await this.phase('plan', () => this.readLive());
      switch (this.s.action) {
        case 'deploy':
          await this.deploy(live);
          await this.adoptHelm(live);
          break;
        case 'promote':
          await this.promote(live);
          break;
        case 'rollback':
          await this.rollback(live);
          break;
        case 'abort':
          await this.abortPreview(live);
          break;
        case 'status':
          this.status(live);
          break;
      }
    } catch (error) {
      this.result.failed = true;
      this.result.error ??= error instanceof Cancelled || this.signal.aborted ? INTERRUPTED : errorMessage(error);
      if (this.result.result !== 'rolled-back') this.result.result = 'failed';
    } finally {
      await this.recorded;
      if (this.lock) {
        const lock = this.lock;
        await this.phase(
          'unlock',
          async () => {
            await lock.release();
            return `released ${lock.name}`;
          },
          { ignoreSignal: true },
        ).catch((error: unknown) => this.log.warning(`could not release the lock: ${errorMessage(error)}`));
      }
    }
    return this.result;
  }

  private holder(): string {
    const who = this.s.run.holder ?? this.s.run.runUrl ?? 'adci';
    return `${who} (${hostname()} pid ${process.pid})`.slice(0, 250);
  }

  private async phase<T>(name: Phase, work: () => Promise<T>, options: { ignoreSignal?: boolean } = {}): Promise<T> {
    if (!options.ignoreSignal && this.signal.aborted) throw new Cancelled();
    const record: PhaseRecord = { name, startedAt: this.clock.now() };
    this.result.phases.push(record);
    this.ports.onPhase?.(record);
    try {
      const value = await work();
      record.outcome = 'ok';
      if (typeof value === 'string') record.detail = value;
      return value;
    } catch (error) {
      record.outcome = this.signal.aborted ? 'cancelled' : 'failed';
      record.detail = this.signal.aborted ? INTERRUPTED : errorMessage(error);
      if (this.signal.aborted && !(error instanceof KubeApiError)) throw new Cancelled();
      throw error;
    } finally {
      record.endedAt = this.clock.now();
      this.ports.onPhase?.(record);
    }
  }

  private remaining(): number {
    return Math.max(1000, this.deadline - this.clock.now());
  }

  // ── reading the cluster ────────────────────────────────────────────────────────────────────

  private async readLive(): Promise<LiveState> {
    const ns = this.s.namespace;
    const podLabels = this.s.app.podLabels;
    const manifestServices = this.s.app.services.map((s) => s.object.metadata.name);
    // The reads are independent: one round trip's worth of latency instead of four.
    const [listed, blue, green, plain] = await Promise.all([
      this.kube.list<ServiceObject>('Service', ns),
      this.kube.get<DeploymentObject>('Deployment', ns, colorName(this.appName, 'blue')),
      this.kube.get<DeploymentObject>('Deployment', ns, colorName(this.appName, 'green')),
      this.kube.get<DeploymentObject>('Deployment', ns, this.appName),
    ]);
    if (
      this.s.activeService &&
      !manifestServices.includes(this.s.activeService) &&
      !listed.items.some((svc) => svc.metadata.name === this.s.activeService)
    ) {
      throw new Error(`active-service ${this.s.activeService} is neither in the manifests nor in namespace ${ns}`);
    }
    const preview = this.previewName();
    const liveMatching = listed.items
      .filter((svc) => svc.metadata.name !== preview && !svc.metadata.annotations?.[ANNOTATIONS.previewColor])
      .filter((svc) => selectorMatches(svc.spec?.selector, podLabels))
      .map((svc) => svc.metadata.name);
    const services = [...new Set([this.activeName, ...manifestServices, ...liveMatching])];
    this.result.services = services;
    const byName = new Map(listed.items.map((svc) => [svc.metadata.name, svc]));
    const active = byName.get(this.activeName);

    // Every live switched Service must point at the same colour, or traffic is already mixed.
    const colors = new Map<string, string>();
    for (const name of services) {
      const svc = byName.get(name);
      if (svc) colors.set(name, svc.spec?.selector?.[COLOR_LABEL] ?? 'none');
    }
    const distinct = new Set(colors.values());
    if (distinct.size > 1) {
      throw new Error(
        `the Services that select ${this.appName}'s pods disagree on the active colour (${[...colors]
          .map(([n, c]) => `${n}: ${c}`)
          .join(', ')}); nothing was changed. Point them at one colour, or name the one to follow with active-service`,
      );
    }
    const deployments: LiveState['deployments'] = {};
    if (blue) deployments.blue = blue;
    if (green) deployments.green = green;
    const annotations = active?.metadata.annotations ?? {};
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
    this.result.activeColor = activeColor;
    this.result.state = Object.fromEntries(Object.entries(annotations).filter(([k]) => k.startsWith('adci.dev/')));
    this.result.revision = revision;
    return {
      active,
      services,
      activeColor,
      previousColor: isColor(previous) || previous === 'legacy' ? previous : undefined,
      previewColor: isColor(previewColor) ? previewColor : undefined,
      revision,
      deployments,
      legacy,
      helm: helmOwnership([plain, ...services.map((name) => byName.get(name))]),
    };
  }

  /**
   * After a deploy that serves traffic (promoted, or unchanged): a Helm release that still owns the
   * app's objects gets them marked keep (so its `helm uninstall` leaves them), and a warning says
   * how to retire it. Never fails the deploy.
   */
  private async adoptHelm(live: LiveState): Promise<void> {
    if (!live.helm || (this.result.result !== 'promoted' && this.result.result !== 'unchanged')) return;
    const applied = [...this.s.app.others, ...(this.s.app.hpa ? [this.s.app.hpa] : [])];
    const keep = [
      ...live.services.map((name) => `Service/${name}`),
      ...applied.map((o) => `${o.object.kind}/${o.object.metadata.name}`),
    ];
    const adoption = await adoptHelmRelease(this.kube, live.helm, keep, this.appName);
    this.result.helm = adoption;
    if (adoption.error) this.log.warning(`Helm release ${adoption.release}: could not mark it: ${adoption.error}`);
    if (adoption.advice) this.log.warning(adoption.advice);
  }

  private previewName(): string | undefined {
    if (this.s.previewService) return this.s.previewService;
    if (this.s.preChecks && !this.s.previewUrl) return `${this.activeName}-preview`;
    return undefined;
  }

  private stateAnnotations(extra: Record<string, string>): Record<string, string> {
    const now = new Date().toISOString();
    const out: Record<string, string> = { [ANNOTATIONS.updatedAt]: now, ...extra };
    if (this.s.run.commit) out[ANNOTATIONS.commit] = this.s.run.commit;
    if (this.s.run.runUrl) out[ANNOTATIONS.runUrl] = this.s.run.runUrl;
    return out;
  }

  /**
   * Records the phase on the active Service, when it exists (best effort: never fails a deploy).
   * Records are written one after another in call order (a queue), so a caller on the critical path
   * may go on without waiting (`void this.record(…)`); the switch and the unlock wait for the queue.
   */
  private record(live: LiveState, annotations: Record<string, string | null>): Promise<void> {
    if (!live.active) return this.recorded;
    const stamped = { [ANNOTATIONS.updatedAt]: new Date().toISOString(), ...annotations };
    this.recorded = this.recorded.then(async () => {
      try {
        await annotate(this.kube, 'Service', this.s.namespace, this.activeName, stamped);
      } catch (error) {
        this.log.debug(`could not record state: ${errorMessage(error)}`);
      }
    });
    return this.recorded;
  }

  // ── permissions ────────────────────────────────────────────────────────────────────────────

  private async checkPermissions(): Promise<string> {
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
    ];
    if (this.s.action !== 'abort') {
      needs.push(
        { verb: 'patch', group: '', resource: 'services' },
        { verb: 'list', group: 'discovery.k8s.io', resource: 'endpointslices' },
        { verb: 'watch', group: 'discovery.k8s.io', resource: 'endpointslices' },
      );
    }
    needs.push({ verb: 'patch', group: 'apps', resource: 'deployments' });
    if (this.s.action === 'deploy') {
      needs.push(
        { verb: 'create', group: 'apps', resource: 'deployments' },
        { verb: 'create', group: '', resource: 'services' },
      );
      for (const other of [...this.s.app.others, ...(this.s.app.hpa ? [this.s.app.hpa] : [])]) {
        const { apiGroup, plural } = resourceOf(other.object.kind ?? '');
        needs.push(
          { verb: 'create', group: apiGroup, resource: plural },
          { verb: 'patch', group: apiGroup, resource: plural },
        );
      }
      if (this.s.app.hpa) needs.push({ verb: 'delete', group: 'autoscaling', resource: 'horizontalpodautoscalers' });
      if ((this.s.preChecks && !this.s.previewUrl) || (this.s.postChecks && !this.s.activeUrl)) {
        needs.push({ verb: 'get', group: '', resource: 'services', subresource: 'proxy' });
      }
    }
    await checkPermissions(this.kube, this.s.namespace, needs);
    return `${needs.length} permissions checked`;
  }

  // ── deploy ─────────────────────────────────────────────────────────────────────────────────

  private async deploy(live: LiveState): Promise<void> {
    const ns = this.s.namespace;
    const manifest = withImage(this.s.app.deployment.object, this.s.image, this.s.container);
    const image = imageOf(manifest, this.s.container);
    const hash = specHash(manifest);
    this.result.image = image;
    const activeColor = live.activeColor;
    const newColor: Color = activeColor === 'blue' ? 'green' : 'blue';
    const revision = live.revision + 1;

    // Same spec already active and available: nothing to do.
    if (isColor(activeColor)) {
      const current = live.deployments[activeColor];
      if (
        current?.metadata.annotations?.[ANNOTATIONS.specHash] === hash &&
        (current.spec?.replicas ?? 0) > 0 &&
        isAvailable(current, current.spec?.replicas ?? 0)
      ) {
        this.result.result = 'unchanged';
        this.result.activeColor = activeColor;
        this.result.previousColor = live.previousColor;
        this.result.revision = live.revision;
        this.log.info(
          `${image} is already active on ${colorName(this.appName, activeColor)} (revision ${live.revision}); nothing to do`,
        );
        return;
      }
    }
    if (live.previewColor && live.previewColor === newColor) {
      this.log.info(`an unpromoted preview (${live.previewColor}) is replaced by this deploy`);
    }

    const replicas = this.replicasFor(manifest, live);
    const deployment = colorDeployment(manifest, { color: newColor, replicas, revision, image, hash });
    const preview = this.previewName();
    const activeSvc =
      live.active ?? this.s.app.services.find((s) => s.object.metadata.name === this.activeName)?.object;
    const previewSvc =
      preview && activeSvc
        ? previewServiceFor(activeSvc, preview, newColor, this.serviceSelector(activeSvc))
        : undefined;
    const others = this.s.app.others.map((o) => o.object);

    // Everything is validated by the server (unknown fields, types, immutable selectors)
    // before anything changes.
    const plan = [
      ...others.map((o) => `apply ${o.kind}/${o.metadata.name}`),
      `apply Deployment/${deployment.metadata.name} (${replicas} replicas, image ${image}, revision ${revision})`,
      ...(previewSvc ? [`apply Service/${preview} -> ${newColor}`] : []),
      `switch ${live.services.join(', ')} ${activeColor ?? '(new)'} -> ${newColor}`,
      ...(activeColor
        ? [
            `scale ${activeColor === 'legacy' ? this.appName : colorName(this.appName, activeColor)} to 0 after ${Math.round(this.s.scaleDownDelayMs / 1000)}s`,
          ]
        : []),
    ];
    this.result.plan = plan;
    await this.phase('validate', async () => {
      // Dry runs change nothing, so they run side by side; the first rejection is reported.
      const hpa = this.s.app.hpa;
      await Promise.all([
        ...others.map((object) => this.validate(object, this.sourceOf(object))),
        this.validate(deployment, this.s.app.deployment),
        ...(previewSvc ? [this.validate(previewSvc, undefined)] : []),
        ...this.s.app.services.map((svc) => this.validate(serviceFor(svc.object, newColor, {}), svc)),
        ...(hpa ? [this.validate(colorHpa(hpa.object, this.appName, newColor), hpa)] : []),
      ]);
      return `${plan.length} steps, validated by a server-side dry run`;
    });
    if (this.s.dryRun) {
      this.result.result = 'planned';
      for (const line of plan) this.log.info(`plan: ${line}`);
      return;
    }

    // apply
    const readyStart = this.clock.now();
    void this.record(live, { [ANNOTATIONS.phase]: 'apply', [ANNOTATIONS.startedAt]: new Date().toISOString() });
    await this.phase('apply', async () => {
      for (const object of others) await this.kube.apply(object, ns);
      await this.kube.apply(deployment, ns);
      if (previewSvc) await this.kube.apply(previewSvc, ns);
      return `${deployment.metadata.name} revision ${revision}`;
    });
    this.result.previewColor = newColor;

    // From here until the switch, any failure leaves traffic where it is and scales the new colour down.
    try {
      const ready = await this.phase('wait-ready', async () => {
        const outcome = await waitForAvailable(this.kube, {
          namespace: ns,
          deployment: deployment.metadata.name,
          podSelector: `${COLOR_LABEL}=${newColor},${REVISION_LABEL}=${revision}`,
          replicas,
          timeoutMs: this.remaining(),
          pullGraceMs: this.s.pullGraceMs ?? 20_000,
          unschedulableGraceMs: 10_000,
          clock: this.clock,
          signal: this.signal,
          onPods: (pods) => (this.result.pods = pods),
        });
        this.result.pods = outcome.pods;
        this.result.readySeconds = (outcome.availableAt - readyStart) / 1000;
        return outcome;
      });
      if (this.s.preChecks || this.s.preAnalysis || previewSvc) {
        await this.phase('preview-check', () =>
          this.withAnalysis('pre', newColor, revision, async () => {
            const url =
              this.s.previewUrl ?? (previewSvc ? serviceProxyUrl(this.kube.server, ns, previewSvc) : undefined);
            this.result.previewUrl = url;
            if (!this.s.preChecks || !url) return 'no pre-promotion checks';
            const outcome = await this.check('pre', this.s.preChecks, url);
            if (!outcome.passed)
              throw new Error(`pre-promotion checks failed on ${newColor}: ${failedSummary(outcome)}`);
            return `${outcome.counts.passed} passed`;
          }),
        );
      }
      if (!this.s.autoPromote) {
        await this.record(live, { [ANNOTATIONS.phase]: 'preview-ready', [ANNOTATIONS.previewColor]: newColor });
        this.result.result = 'preview-ready';
        this.result.activeColor = activeColor;
        this.result.revision = revision;
        this.log.info(
          `${colorName(this.appName, newColor)} is ready as a preview; run again with action: promote to switch traffic`,
        );
        return;
      }
      if (this.signal.aborted) throw new Cancelled();
      await this.promoteColor(live, newColor, revision, ready.lastPodReadyAt);
    } catch (error) {
      if (this.result.phases.some((p) => p.name === 'switch' && p.outcome === 'ok')) throw error;
      await this.scaleDownQuietly(newColor, 'the new colour failed before the switch; traffic was not moved');
      await this.record(live, {
        [ANNOTATIONS.phase]: 'failed',
        [ANNOTATIONS.previewColor]: null,
        [ANNOTATIONS.result]: 'failed',
      });
      this.result.activeColor = activeColor;
      throw error;
    }
  }

  private serviceSelector(svc: ServiceObject): Record<string, string> {
    const selector = { ...(svc.spec?.selector ?? this.s.app.podLabels) };
    delete selector[COLOR_LABEL];
    return selector;
  }

  private replicasFor(manifest: KubeObject, live: LiveState): number {
    const declared = (manifest.spec as { replicas?: number }).replicas ?? 1;
    if (!this.s.app.hpa) return declared;
    const current =
      live.activeColor === 'legacy'
        ? live.legacy
        : isColor(live.activeColor)
          ? live.deployments[live.activeColor]
          : undefined;
    const liveReplicas = current?.spec?.replicas;
    return liveReplicas && liveReplicas > 0 ? liveReplicas : declared;
  }

  /** Server-side dry run; a rejection names the manifest's file and line. */
  private async validate(
    object: KubeObject,
    source: { object: KubeObject; file: string; line: number } | undefined,
  ): Promise<void> {
    try {
      await this.kube.apply(object, this.s.namespace, { dryRun: true });
    } catch (error) {
      if (error instanceof KubeApiError && error.status !== 403 && !isTransient(error)) {
        const where = source
          ? `${source.file}:${source.line}: ${source.object.kind}/${source.object.metadata.name}`
          : `${object.kind}/${object.metadata.name}`;
        // eslint-disable-next-line preserve-caught-error -- the message carries the server's reason already
        throw new Error(
          `${where} is rejected by the API server: ${error.message.replace(/^failed to create typed patch object \([^)]*\): /, '')}`,
        );
      }
      throw error;
    }
  }

  private sourceOf(object: KubeObject): AppManifests['deployment'] | undefined {
    const app = this.s.app;
    return [app.deployment, ...app.services, ...app.others, ...(app.hpa ? [app.hpa] : [])].find(
      (o) => o.object === object,
    );
  }

  /**
   * Runs `work` (the phase's checks) and the phase's metric analysis side by side: the first to
   * fail fails the phase (and stops the other), so a failed analysis rolls back as a failed check does.
   */
  private async withAnalysis(
    phase: 'pre' | 'post',
    color: Color,
    revision: number,
    work: (signal: AbortSignal) => Promise<string>,
  ): Promise<string> {
    const document = phase === 'pre' ? this.s.preAnalysis : this.s.postAnalysis;
    if (!document) return work(this.signal);
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(this.signal.reason);
    this.signal.addEventListener('abort', onAbort, { once: true });
    const runner = this.ports.runAnalysis ?? defaultAnalysisRunner(this.s, this.log, this.clock);
    const vars = analysisVars(
      this.result.image ?? this.s.image,
      color,
      this.s.namespace,
      revision,
      this.appName,
      this.s.analysisVars,
    );
    this.log.info(`${phase}-promotion analysis ${document.source} on ${color}`);
    const analysis = runner(phase, document, vars, stop.signal, this.remaining()).then((result) => {
      this.result.analyses.push({ phase, result });
      if (!result.passed) throw new Error(`${phase}-promotion analysis failed on ${color}: ${result.message}`);
      return `analysis passed (${result.metrics.map((m) => m.name).join(', ')})`;
    });
    try {
      const [detail, analysed] = await Promise.all([work(stop.signal), analysis]);
      return `${detail}; ${analysed}`;
    } finally {
      stop.abort(new Error('phase ended'));
      this.signal.removeEventListener('abort', onAbort);
      await analysis.catch(() => undefined);
    }
  }

  private async check(phase: 'pre' | 'post', document: ChecksDocument, url: string): Promise<SmokeResult> {
    if (!this.ports.runChecks) throw new Error('no check runner was given');
    const outcome = await this.ports.runChecks(phase, document, url, this.signal);
    this.result.checks.push({ phase, result: outcome });
    return outcome;
  }

  /**
   * switch → verify-endpoints → post-check → drain → scale-down. A failure after the switch
   * switches back while the old colour is still up.
   */
  private async promoteColor(
    live: LiveState,
    newColor: Color,
    revision: number,
    lastPodReadyAt: number | undefined,
  ): Promise<void> {
    const ns = this.s.namespace;
    const previous = live.activeColor;
    // What the endpoint verification compares against, read alongside the switch (off the critical path).
    const expected = Promise.all([
      this.kube.get<DeploymentObject>('Deployment', ns, colorName(this.appName, newColor)),
      this.podNames(newColor),
    ]);
    expected.catch(() => undefined); // awaited below; a failure there fails the verification
    await this.recorded;
    const switchAnnotations = this.stateAnnotations({
      [ANNOTATIONS.activeColor]: newColor,
      [ANNOTATIONS.previousColor]: previous ?? '',
      [ANNOTATIONS.revision]: String(revision),
      [ANNOTATIONS.phase]: 'switch',
    });
    const switchStart = this.clock.now();
    await this.phase(
      'switch',
      async () => {
        await this.ensureServices(live, newColor, switchAnnotations);
        return `${live.services.join(', ')} -> ${newColor}`;
      },
      { ignoreSignal: true },
    );
    const switched = this.clock.now();
    if (lastPodReadyAt !== undefined) this.result.switchLatencyMs = switched - lastPodReadyAt;
    this.result.activeColor = newColor;
    this.result.previousColor = previous;
    this.result.revision = revision;
    this.result.previewColor = undefined;
    try {
      await this.phase(
        'verify-endpoints',
        async () => {
          const [deployment, newPods] = await expected;
          const desired = deployment?.spec?.replicas ?? 1;
          const reports = await verifyEndpoints(
            this.kube,
            ns,
            live.services,
            (pod) => newPods.has(pod),
            desired,
            this.s.verifyTimeoutMs ?? 60_000,
          );
          this.result.endpoints = reports;
          this.result.switchSeconds = (this.clock.now() - switchStart) / 1000;
          return reports.map((r) => `${r.service}: ${r.readyNew} ready ${newColor} endpoints, 0 others`).join('; ');
        },
        { ignoreSignal: true },
      );
      void this.record(live, { [ANNOTATIONS.phase]: 'post-check' });
      await this.phase('post-check', () =>
        this.withAnalysis('post', newColor, revision, (signal) => this.postPromotionWindow(newColor, signal)),
      );
    } catch (error) {
      const reason = errorMessage(error instanceof Cancelled ? new Error(INTERRUPTED) : error);
      if (error instanceof Cancelled || this.signal.aborted) {
        // Verified and cancelled during the window: the new colour stays active, the old one stays up.
        await this.record(live, { [ANNOTATIONS.phase]: 'cancelled' });
        throw error;
      }
      this.result.error = reason;
      await this.revert(live, newColor, previous, reason);
      return;
    }
    if (this.signal.aborted) {
      await this.record(live, { [ANNOTATIONS.phase]: 'cancelled' });
      throw new Cancelled();
    }
    await this.phase('drain', async () => {
      void this.record(live, { [ANNOTATIONS.phase]: 'drain' });
      await this.clock.sleep(this.s.scaleDownDelayMs, this.signal);
      return `${Math.round(this.s.scaleDownDelayMs / 1000)}s`;
    }).catch(async (error: unknown) => {
      await this.record(live, { [ANNOTATIONS.phase]: 'cancelled' });
      throw error;
    });
    await this.phase(
      'scale-down',
      async () => {
        const done: string[] = [];
        const scaleDown = async (): Promise<void> => {
          if (previous === 'legacy') {
            await this.kube.mergePatch('Deployment', ns, this.appName, {
              spec: { replicas: 0 },
              metadata: { annotations: { [ANNOTATIONS.adoptedBy]: colorName(this.appName, newColor) } },
            });
            done.push(this.appName);
          } else if (previous) {
            await this.scaleColor(previous, 0);
            done.push(colorName(this.appName, previous));
          }
        };
        // Independent writes: the old colour's scale, the HPA move and the recorded state.
        await Promise.all([
          scaleDown(),
          this.syncHpa(newColor, previous),
          this.record(live, { [ANNOTATIONS.phase]: 'done', [ANNOTATIONS.result]: 'promoted' }),
        ]);
        return done.length ? `${done.join(', ')} scaled to 0` : 'nothing to scale down';
      },
      { ignoreSignal: true },
    );
    this.result.result = 'promoted';
  }

  /** Creates missing Services (first deploy) with the colour; patches the colour key on the rest. */
  private async ensureServices(live: LiveState, color: Color, annotations: Record<string, string>): Promise<void> {
    const ns = this.s.namespace;
    const existing: string[] = [];
    const created: KubeObject[] = [];
    for (const name of live.services) {
      const present = name === this.activeName ? live.active : await this.kube.get<ServiceObject>('Service', ns, name);
      if (present) existing.push(name);
      else {
        const manifest = this.s.app.services.find((s) => s.object.metadata.name === name);
        if (manifest) created.push(serviceFor(manifest.object, color, name === this.activeName ? annotations : {}));
      }
    }
    // One merge patch per Service, all at once; the active one carries the new state in the same
    // write as its selector, so what the Service says and where it sends traffic never disagree.
    const active = existing.includes(this.activeName) ? [this.activeName] : [];
    await Promise.all([
      switchServices(
        this.kube,
        ns,
        existing.filter((name) => name !== this.activeName),
        color,
        {},
      ),
      switchServices(this.kube, ns, active, color, { ...annotations, [ANNOTATIONS.previewColor]: null }),
      ...created.map((svc) => this.kube.apply(svc, ns)),
    ]);
    if (!live.active) live.active = await this.kube.get<ServiceObject>('Service', ns, this.activeName);
  }

  private async postPromotionWindow(color: Color, signal: AbortSignal = this.signal): Promise<string> {
    const windowEnd = this.clock.now() + this.s.postPromotionWindowMs;
    const firstSeen = new Map<string, number>();
    let rounds = 0;
    const url = this.s.postChecks ? (this.s.activeUrl ?? (await this.activeProxyUrl())) : undefined;
    do {
      if (signal.aborted) throw new Cancelled();
      const pods = await this.kube.list<PodObject>('Pod', this.s.namespace, {
        labelSelector: `${COLOR_LABEL}=${color}`,
      });
      const failure = podFailure(pods.items, this.clock.now(), firstSeen, { pullGraceMs: 0, unschedulableGraceMs: 0 });
      if (failure) throw new Error(`after the switch, ${failure.message}`);
      const notReady = pods.items.filter((p) => !p.metadata.deletionTimestamp && !summarisePod(p).ready);
      if (notReady.length) throw new Error(`after the switch, pod ${notReady[0]?.metadata.name} is not ready`);
      if (this.s.postChecks && url) {
        const outcome = await this.check('post', this.s.postChecks, url);
        rounds++;
        if (!outcome.passed) throw new Error(`post-promotion checks failed on ${color}: ${failedSummary(outcome)}`);
      }
      const left = windowEnd - this.clock.now();
      if (left > 0)
        await this.clock.sleep(Math.min(left, this.s.postChecks ? 2000 : 1000), signal).catch(() => undefined);
    } while (this.clock.now() < windowEnd);
    return this.s.postChecks
      ? `${rounds} rounds of checks passed over ${Math.round(this.s.postPromotionWindowMs / 1000)}s`
      : `pods healthy for ${Math.round(this.s.postPromotionWindowMs / 1000)}s`;
  }

  private async activeProxyUrl(): Promise<string | undefined> {
    const svc = await this.kube.get<ServiceObject>('Service', this.s.namespace, this.activeName);
    return svc ? serviceProxyUrl(this.kube.server, this.s.namespace, svc) : undefined;
  }

  /** Switches back to `previous` (still up), verifies, and scales the failed colour down. */
  private async revert(
    live: LiveState,
    failed: Color,
    previous: LiveState['activeColor'],
    reason: string,
  ): Promise<void> {
    const ns = this.s.namespace;
    this.log.warning(`rolling back: ${reason}`);
    await this.recorded; // a queued record must not land after the rollback's own
    await this.phase(
      'rollback',
      async () => {
        if (!previous) {
          // First deploy: nothing to go back to. Leave the Service on the only version there is.
          throw new Error(`${reason}; this was the first deploy, so there is no previous version to roll back to`);
        }
        const annotations = this.stateAnnotations({
          [ANNOTATIONS.activeColor]: previous,
          [ANNOTATIONS.previousColor]: failed,
          [ANNOTATIONS.revision]: String(live.revision),
          [ANNOTATIONS.phase]: 'rolled-back',
          [ANNOTATIONS.result]: 'rolled-back',
        });
        await switchServices(this.kube, ns, live.services, previous === 'legacy' ? undefined : previous, {});
        await annotate(this.kube, 'Service', ns, this.activeName, annotations);
        this.result.activeColor = previous;
        this.result.previousColor = failed;
        this.result.revision = live.revision;
        this.result.result = 'rolled-back';
        if (previous !== 'legacy') {
          const oldPods = await this.podNames(previous);
          const desired = live.deployments[previous]?.spec?.replicas ?? 1;
          this.result.endpoints = await verifyEndpoints(
            this.kube,
            ns,
            live.services,
            (pod) => oldPods.has(pod),
            desired,
            this.s.verifyTimeoutMs ?? 60_000,
          );
        }
        // Connections still open to the failed colour get the drain delay to finish.
        await this.clock.sleep(this.s.scaleDownDelayMs).catch(() => undefined);
        await this.scaleColor(failed, 0);
        return `traffic back on ${previous}; ${colorName(this.appName, failed)} scaled to 0`;
      },
      { ignoreSignal: true },
    );
    throw new Error(`rolled back to ${previous}: ${reason}`);
  }

  private async podNames(color: Color): Promise<Set<string>> {
    const pods = await this.kube.list<PodObject>('Pod', this.s.namespace, { labelSelector: `${COLOR_LABEL}=${color}` });
    return new Set(pods.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name));
  }

  private async scaleColor(color: Color, replicas: number): Promise<void> {
    try {
      await this.kube.mergePatch('Deployment', this.s.namespace, colorName(this.appName, color), {
        spec: { replicas },
      });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  private async scaleDownQuietly(color: Color, why: string): Promise<void> {
    try {
      await this.scaleColor(color, 0);
      this.log.warning(`${colorName(this.appName, color)} scaled to 0: ${why}`);
    } catch (error) {
      this.log.warning(`could not scale ${colorName(this.appName, color)} down: ${errorMessage(error)}`);
    }
  }

  /** The HPA follows the active colour: the new colour's is applied, the old colour's removed. */
  private async syncHpa(active: Color, previous: LiveState['activeColor']): Promise<void> {
    const hpa = this.s.app.hpa?.object;
    if (!hpa) return;
    const old = isColor(previous)
      ? colorName(hpa.metadata.name, previous)
      : previous === 'legacy'
        ? hpa.metadata.name
        : undefined;
    await Promise.all([
      this.kube.apply(colorHpa(hpa, this.appName, active), this.s.namespace),
      old ? this.kube.delete('HorizontalPodAutoscaler', this.s.namespace, old) : undefined,
    ]);
  }

  // ── promote, rollback, abort, status ───────────────────────────────────────────────────────

  private async promote(live: LiveState): Promise<void> {
    const color = live.previewColor;
    if (!color)
      throw new Error(
        `there is no preview to promote: ${this.activeName} has no ${ANNOTATIONS.previewColor} annotation (deploy with auto-promote: false first)`,
      );
    const deployment = live.deployments[color];
    const replicas = deployment?.spec?.replicas ?? 0;
    if (!deployment || replicas === 0)
      throw new Error(`the preview ${colorName(this.appName, color)} is not running; deploy again`);
    this.result.image = deployment.metadata.annotations?.[ANNOTATIONS.image];
    const revision = Number(deployment.metadata.annotations?.[ANNOTATIONS.revision] ?? live.revision + 1);
    const ready = await this.phase('wait-ready', async () =>
      waitForAvailable(this.kube, {
        namespace: this.s.namespace,
        deployment: deployment.metadata.name,
        podSelector: `${COLOR_LABEL}=${color},${REVISION_LABEL}=${revision}`,
        replicas,
        timeoutMs: this.remaining(),
        pullGraceMs: this.s.pullGraceMs ?? 20_000,
        unschedulableGraceMs: 10_000,
        clock: this.clock,
        signal: this.signal,
      }),
    );
    this.result.pods = ready.pods;
    await this.promoteColor(live, color, revision, undefined);
  }

  private async rollback(live: LiveState): Promise<void> {
    const current = live.activeColor;
    const target = live.previousColor;
    if (!isColor(current) || !target)
      throw new Error(`nothing to roll back to: ${this.activeName} records no previous colour`);
    const ns = this.s.namespace;
    if (target === 'legacy')
      throw new Error('the previous version is the adopted plain Deployment; deploy its image again instead');
    const deployment = live.deployments[target];
    if (!deployment)
      throw new Error(`the previous colour's Deployment ${colorName(this.appName, target)} no longer exists`);
    const replicas = Math.max(live.deployments[current]?.spec?.replicas ?? 1, 1);
    if ((deployment.spec?.replicas ?? 0) === 0 || !isAvailable(deployment, deployment.spec?.replicas ?? 0)) {
      await this.phase('apply', async () => {
        await this.kube.mergePatch('Deployment', ns, deployment.metadata.name, { spec: { replicas } });
        return `${deployment.metadata.name} scaled to ${replicas}`;
      });
      await this.phase('wait-ready', () =>
        waitForAvailable(this.kube, {
          namespace: ns,
          deployment: deployment.metadata.name,
          podSelector: `${COLOR_LABEL}=${target}`,
          replicas,
          timeoutMs: this.remaining(),
          pullGraceMs: this.s.pullGraceMs ?? 20_000,
          unschedulableGraceMs: 10_000,
          clock: this.clock,
          signal: this.signal,
        }).then((r) => {
          this.result.pods = r.pods;
          return `${r.pods.length} pods ready`;
        }),
      );
    }
    const revision = Number(deployment.metadata.annotations?.[ANNOTATIONS.revision] ?? live.revision);
    this.result.image = deployment.metadata.annotations?.[ANNOTATIONS.image];
    await this.promoteColor({ ...live, activeColor: current }, target, revision, undefined);
    if (this.result.result === 'promoted') {
      this.result.result = 'rolled-back';
      await this.record(live, { [ANNOTATIONS.result]: 'rolled-back' });
    }
  }

  private async abortPreview(live: LiveState): Promise<void> {
    const color = live.previewColor;
    if (!color) {
      this.result.result = 'aborted';
      this.log.info('there is no unpromoted preview; nothing to abort');
      return;
    }
    await this.phase('abort', async () => {
      await this.scaleColor(color, 0);
      await this.record(live, {
        [ANNOTATIONS.previewColor]: null,
        [ANNOTATIONS.phase]: 'aborted',
        [ANNOTATIONS.result]: 'aborted',
      });
      return `${colorName(this.appName, color)} scaled to 0`;
    });
    this.result.activeColor = live.activeColor;
    this.result.result = 'aborted';
  }

  private status(live: LiveState): void {
    this.result.result = 'status';
    this.result.activeColor = live.activeColor;
    this.result.previousColor = live.previousColor;
    this.result.previewColor = live.previewColor;
    this.result.revision = live.revision;
    const active = isColor(live.activeColor) ? live.deployments[live.activeColor] : live.legacy;
    this.result.image =
      active?.metadata.annotations?.[ANNOTATIONS.image] ?? (active ? imageOf(active, this.s.container) : undefined);
  }
}

function failedSummary(result: SmokeResult): string {
  const failed = result.checks.filter((c) => c.outcome === 'failed').map((c) => `${c.name}: ${describeFailure(c)}`);
  const thresholds = (result.load?.thresholds ?? [])
    .filter((t) => !t.passed)
    .map((t) => `threshold ${t.threshold} (actual ${t.actual})`);
  return [...failed, ...thresholds].join('; ') || 'failed';
}

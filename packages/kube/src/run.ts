// One blue-green run: the context every step reads and writes (settings, ports, what the plan
// found on the cluster, the release and colour in hand, the result), the phase recorder, the
// queue of state records on the active Service, and the compensations a step's failure leads to
// (machine.ts says which one; this file says what each does).
import { hostname } from 'node:os';
import {
  Redactor,
  errorMessage,
  isSecretParameterName,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
} from '@adci/common';
import type { SmokeResult, ChecksDocument } from '@adci/probe';
import { analysisVars, defaultAnalysisRunner } from './checks.ts';
import { isStatus, KubeApiError } from './client.ts';
import { diagnose, diagnosisLine } from './diagnose.ts';
import type { HelmOwnership } from './helm.ts';
import { setOutcome } from './history.ts';
import { Cancelled, CANCELLED, failureMessage, type Compensation, type Driven } from './machine.ts';
import type { BlueGreenPorts, BlueGreenResult, BlueGreenSettings, PhaseRecord } from './model.ts';
import type { KubeObject, KubePort } from './port.ts';
import type { AvailableResult, DeploymentObject, PodObject } from './readiness.ts';
import { podSpecOf, type Release } from './release.ts';
import { ANNOTATIONS, COLOR_LABEL, colorName, type Color, type Phase } from './state.ts';
import { annotate, switchServices, verifyEndpoints, type ServiceObject } from './traffic.ts';

/** How long endpoint verification may take after a switch. */
export const VERIFY_TIMEOUT_MS = 60_000;
/** Grace for image pull errors before they are fatal (a registry hiccup). */
export const PULL_GRACE_MS = 20_000;

export interface LiveState {
  active?: ServiceObject;
  /** Every Service (manifest or live) that selects the app's pods, in a stable order. */
  services: string[];
  activeColor?: Color | 'legacy';
  previousColor?: Color | 'legacy';
  previewColor?: Color;
  revision: number;
  /** The newest revision number used anywhere (state or history): the next release takes the one after. */
  newestRevision: number;
  deployments: Partial<Record<Color, DeploymentObject>>;
  legacy?: DeploymentObject;
  /** The active Service's adci.dev/* annotations. */
  state: Record<string, string>;
  /** The Helm release that owns the live Deployment or Services, if any. */
  helm?: HelmOwnership;
}

/**
 * What the plan decided the run does:
 * - `release`: bring up a release on the idle colour and go through the whole safe sequence;
 * - `reuse`: the idle colour already holds the wanted release (rollback, promote): scale it and switch;
 * - `resume-post`: an earlier run switched this release and stopped: verify, finish the window, drain, scale down;
 * - `resume-drain`: an earlier run verified this release and stopped while draining: drain and scale down.
 */
export type Mode = 'release' | 'reuse' | 'resume-post' | 'resume-drain';

export class Run implements Driven {
  readonly s: BlueGreenSettings;
  readonly kube: KubePort;
  readonly log: Logger;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly ports: BlueGreenPorts;
  readonly appName: string;
  readonly activeName: string;
  readonly result: BlueGreenResult;
  readonly deadline: number;
  readonly redactor = new Redactor();
  done = false;
  /** The queue of state records on the active Service (see record()). */
  private recorded: Promise<void> = Promise.resolve();

  // What the plan found and decided.
  live!: LiveState;
  mode: Mode = 'release';
  /** The release being brought up (release mode), or the one the target colour holds. */
  release?: Release;
  /** The colour that is brought up and switched to. */
  target?: Color;
  /** The colour that served traffic when the run began (switched back to on a revert). */
  previous?: Color | 'legacy';
  revision = 0;
  replicas = 1;
  /** Size while the pre-promotion checks run. */
  previewSize = 1;
  /** The colour Deployment as applied. */
  deployment?: KubeObject;
  previewSvc?: KubeObject;
  ready?: AvailableResult;
  /** When the switch happened (clock time), for the post-promotion window. */
  switchedAt?: number;
  /** Remaining post-promotion window for a resumed release. */
  windowMs: number;
  /** For a rollback to a stored release: the revision it deploys again. */
  rollbackOf?: number;

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
    this.windowMs = settings.postPromotionWindowMs;
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

  get ns(): string {
    return this.s.namespace;
  }

  holder(): string {
    const who = this.s.run.holder ?? this.s.run.runUrl ?? 'adci';
    return `${who} (${hostname()} pid ${process.pid})`.slice(0, 250);
  }

  remaining(): number {
    return Math.max(1000, this.deadline - this.clock.now());
  }

  async phase<T>(name: Phase, work: () => Promise<T>, options: { finishOnCancel?: boolean } = {}): Promise<T> {
    if (!options.finishOnCancel && this.signal.aborted) throw new Cancelled();
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
      record.detail = this.signal.aborted ? CANCELLED : this.redact(errorMessage(error));
      if (this.signal.aborted && !(error instanceof KubeApiError)) throw new Cancelled();
      throw error;
    } finally {
      record.endedAt = this.clock.now();
      this.ports.onPhase?.(record);
    }
  }

  /** Masks the configuration's Secret values and the adapter's secrets. */
  redact(text: string): string {
    const own = this.redactor.redact(text);
    return this.ports.redact ? this.ports.redact(own) : own;
  }

  /** Registers what the release's pods are given as secrets: Secret values and secret-named env values. */
  learnSecrets(release: Release): void {
    for (const config of release.configs.filter((c) => c.kind === 'Secret')) {
      const { data, stringData } = config as { data?: Record<string, string>; stringData?: Record<string, string> };
      for (const value of Object.values(data ?? {})) this.redactor.add(Buffer.from(value, 'base64').toString('utf8'));
      for (const value of Object.values(stringData ?? {})) this.redactor.add(value);
    }
    for (const container of podSpecOf(release.deployment).containers ?? []) {
      for (const env of container.env ?? [])
        if (env.value && isSecretParameterName(env.name)) this.redactor.add(env.value);
    }
  }

  stateAnnotations(extra: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = { [ANNOTATIONS.updatedAt]: new Date().toISOString(), ...extra };
    if (this.s.run.commit) out[ANNOTATIONS.commit] = this.s.run.commit;
    if (this.s.run.runUrl) out[ANNOTATIONS.runUrl] = this.s.run.runUrl;
    return out;
  }

  /**
   * Records state on the active Service, when it exists (best effort: never fails a deploy).
   * Records are written one after another in call order (a queue), so a caller on the critical path
   * may go on without waiting (`void this.record(…)`); the switch and the unlock wait for the queue.
   */
  record(annotations: Record<string, string | null>): Promise<void> {
    if (!this.live?.active) return this.recorded;
    const stamped = { [ANNOTATIONS.updatedAt]: new Date().toISOString(), ...annotations };
    this.recorded = this.recorded.then(async () => {
      try {
        await annotate(this.kube, 'Service', this.ns, this.activeName, stamped);
      } catch (error) {
        this.log.debug(`could not record state: ${errorMessage(error)}`);
      }
    });
    return this.recorded;
  }

  flushRecords(): Promise<void> {
    return this.recorded;
  }

  /** Sets the stored release's outcome (best effort). */
  async outcome(outcome: string): Promise<void> {
    if (!this.revision || this.mode === 'reuse' || this.s.dryRun) return;
    await setOutcome(this.kube, this.ns, this.appName, this.revision, outcome).catch((error: unknown) => {
      if (!isStatus(error, 404))
        this.log.debug(`could not record the outcome of revision ${this.revision}: ${errorMessage(error)}`);
    });
  }

  async podNames(color: Color): Promise<Set<string>> {
    const pods = await this.kube.list<PodObject>('Pod', this.ns, { labelSelector: `${COLOR_LABEL}=${color}` });
    return new Set(pods.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name));
  }

  async scaleColor(color: Color, replicas: number): Promise<void> {
    try {
      await this.kube.mergePatch('Deployment', this.ns, colorName(this.appName, color), { spec: { replicas } });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  async scaleDownQuietly(color: Color, why: string): Promise<void> {
    try {
      await this.scaleColor(color, 0);
      this.log.warning(`${colorName(this.appName, color)} scaled to 0: ${why}`);
    } catch (error) {
      this.log.warning(`could not scale ${colorName(this.appName, color)} down: ${errorMessage(error)}`);
    }
  }

  async check(phase: 'pre' | 'post', document: ChecksDocument, url: string, signal: AbortSignal): Promise<SmokeResult> {
    if (!this.ports.runChecks) throw new Error('no check runner was given');
    const outcome = await this.ports.runChecks(phase, document, url, signal);
    this.result.checks.push({ phase, result: outcome });
    return outcome;
  }

  /**
   * Runs `work` (the phase's checks) and the phase's metric analysis side by side: the first to
   * fail fails the phase (and stops the other), so a failed analysis rolls back as a failed check does.
   */
  async withAnalysis(
    phase: 'pre' | 'post',
    color: Color,
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
      this.ns,
      this.revision,
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

  /** Reads why the colour's containers fail into the result; the line for the error message. */
  async diagnose(color: Color): Promise<string | undefined> {
    const found = await diagnose(this.kube, this.ns, `${COLOR_LABEL}=${color}`, (text) => this.redact(text));
    if (!found) return undefined;
    this.result.diagnosis = found;
    return diagnosisLine(found);
  }

  // ── compensations (machine.ts decides which; these do it) ───────────────────────────────

  async compensate(kind: Compensation, error: unknown, step: Phase): Promise<never> {
    const reason = this.redact(failureMessage(error, this.signal.aborted));
    switch (kind) {
      case 'stop':
        throw error;
      case 'abandon':
        return this.abandon(error, reason, step);
      case 'revert':
        return this.revert(error, reason);
      case 'resume':
        await this.record({ [ANNOTATIONS.result]: 'interrupted' });
        this.log.warning(
          `stopped during ${step}: ${reason}. Traffic stays on ${this.target}; run the same deploy again to finish it`,
        );
        throw error;
    }
  }

  /** Before the switch: traffic never moved. The new colour goes down (after abort-scale-down-delay). */
  private async abandon(error: unknown, reason: string, step: Phase): Promise<never> {
    const color = this.target;
    this.result.activeColor = this.live?.activeColor;
    if (!color || this.mode !== 'release' || !this.deployment) {
      if (color && this.mode === 'reuse' && this.s.action === 'rollback') await this.scaleDownQuietly(color, reason);
      throw error;
    }
    const cancelled = error instanceof Cancelled;
    let message = reason;
    if (!cancelled && ['apply', 'wait-ready', 'scale-up', 'preview-check'].includes(step)) {
      const why = await this.diagnose(color).catch(() => undefined);
      if (why && !reason.includes('no log')) message = `${reason}; ${why}`;
    }
    this.result.error = message;
    await this.phase(
      'abort',
      async () => {
        const delay = this.s.abortScaleDownDelayMs;
        if (delay > 0 && !cancelled) {
          this.log.warning(
            `${colorName(this.appName, color)} stays up for ${Math.round(delay / 1000)}s (abort-scale-down-delay) for debugging; traffic stays on ${this.live.activeColor ?? 'nothing'}`,
          );
          await this.record({ [ANNOTATIONS.phase]: 'failed', [ANNOTATIONS.result]: 'failed' });
          await this.clock.sleep(delay, this.signal).catch(() => undefined);
        }
        await this.scaleDownQuietly(color, 'the new colour failed before the switch; traffic was not moved');
        await Promise.all([
          this.record({
            [ANNOTATIONS.phase]: cancelled ? 'aborted' : 'failed',
            [ANNOTATIONS.previewColor]: null,
            [ANNOTATIONS.pendingRevision]: null,
            [ANNOTATIONS.result]: cancelled ? 'aborted' : 'failed',
          }),
          this.outcome(cancelled ? 'aborted' : 'failed'),
        ]);
        return `${colorName(this.appName, color)} scaled to 0; traffic stays on ${this.live.activeColor ?? 'nothing'}`;
      },
      { finishOnCancel: true },
    );
    if (cancelled) throw error;
    throw new Error(message);
  }

  /** After the switch: back to the previous colour (still up), verified; the failed colour goes down. */
  async revert(error: unknown, reason: string): Promise<never> {
    const failed = this.target;
    const previous = this.previous;
    const live = this.live;
    this.log.warning(`rolling back: ${reason}`);
    let message = reason;
    if (failed && !(error instanceof Cancelled)) {
      const why = await this.diagnose(failed).catch(() => undefined);
      if (why) message = `${reason}; ${why}`;
    }
    this.result.error = message;
    await this.flushRecords(); // a queued record must not land after the rollback's own
    await this.phase(
      'rollback',
      async () => {
        if (!previous || !failed) {
          // First deploy: nothing to go back to. Leave the Service on the only version there is.
          throw new Error(`${message}; this was the first deploy, so there is no previous version to roll back to`);
        }
        const annotations = this.stateAnnotations({
          [ANNOTATIONS.activeColor]: previous,
          [ANNOTATIONS.previousColor]: failed,
          [ANNOTATIONS.revision]: String(live.revision),
          [ANNOTATIONS.phase]: 'rolled-back',
          [ANNOTATIONS.result]: 'rolled-back',
        });
        await switchServices(this.kube, this.ns, live.services, previous === 'legacy' ? undefined : previous, {});
        await annotate(this.kube, 'Service', this.ns, this.activeName, annotations);
        this.result.activeColor = previous;
        this.result.previousColor = failed;
        this.result.revision = live.revision;
        this.result.result = 'rolled-back';
        if (previous !== 'legacy') {
          const oldPods = await this.podNames(previous);
          const desired = live.deployments[previous]?.spec?.replicas ?? 1;
          this.result.endpoints = await verifyEndpoints(
            this.kube,
            this.ns,
            live.services,
            (pod) => oldPods.has(pod),
            desired,
            VERIFY_TIMEOUT_MS,
          );
        }
        // Connections still open to the failed colour get the drain delay to finish; a failed colour
        // may also stay up for debugging (abort-scale-down-delay), whichever is longer.
        const delay = Math.max(this.s.scaleDownDelayMs, this.s.abortScaleDownDelayMs);
        await this.clock.sleep(delay).catch(() => undefined);
        await Promise.all([this.scaleColor(failed, 0), this.outcome('rolled-back')]);
        return `traffic back on ${previous}; ${colorName(this.appName, failed)} scaled to 0`;
      },
      { finishOnCancel: true },
    );
    throw new Error(`rolled back to ${previous}: ${message}`);
  }
}

export async function failedSummary(result: SmokeResult): Promise<string> {
  // Loaded here, not with the engine: the probe engine that produced `result` has loaded it already.
  const { describeFailure } = await import('@adci/probe');
  const failed = result.checks.filter((c) => c.outcome === 'failed').map((c) => `${c.name}: ${describeFailure(c)}`);
  const thresholds = (result.load?.thresholds ?? [])
    .filter((t) => !t.passed)
    .map((t) => `threshold ${t.threshold} (actual ${t.actual})`);
  return [...failed, ...thresholds].join('; ') || 'failed';
}

// Waits until a colour's Deployment is really available (observedGeneration caught up, every
// replica updated and available, so minReadySeconds is honoured), by watching rather than
// polling; fails fast, naming pod, container, reason and message, when its pods cannot start.
import type { Clock } from '@adci/common';
import type { KubeObject, KubePort } from './port.ts';

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string; message?: string };
    terminated?: { reason?: string; exitCode?: number; message?: string };
  };
  lastState?: { terminated?: { reason?: string; exitCode?: number; message?: string } };
}

export interface PodObject extends KubeObject {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

export interface DeploymentObject extends KubeObject {
  spec?: {
    replicas?: number;
    minReadySeconds?: number;
    progressDeadlineSeconds?: number;
    selector?: { matchLabels?: Record<string, string> };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** The pods of a colour could not start: the first reason found, ready to show a user. */
export class PodStartError extends Error {
  readonly pod: string;
  readonly container: string | undefined;
  readonly reason: string;
  constructor(pod: string, container: string | undefined, reason: string, message: string | undefined) {
    super(`pod ${pod}${container ? `, container ${container}` : ''}: ${reason}${message ? `: ${message}` : ''}`);
    this.name = 'PodStartError';
    this.pod = pod;
    this.container = container;
    this.reason = reason;
  }
}

/** Waiting reasons that never fix themselves. */
const FATAL_WAITING = new Set([
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RunContainerError',
]);
/** Pull errors can be transient (a registry hiccup): fatal once they last longer than the grace. */
const PULL_ERRORS = new Set(['ErrImagePull', 'ImagePullBackOff']);

export interface PodSummary {
  name: string;
  ready: boolean;
  restarts: number;
  phase: string;
  reason?: string;
}

export function summarisePod(pod: PodObject): PodSummary {
  const statuses = pod.status?.containerStatuses ?? [];
  const waiting = [...(pod.status?.initContainerStatuses ?? []), ...statuses].find((s) => s.state?.waiting?.reason);
  return {
    name: pod.metadata.name,
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    restarts: statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0),
    phase: pod.status?.phase ?? 'Unknown',
    reason: waiting?.state?.waiting?.reason,
  };
}

export interface FailFastOptions {
  /** How long a transient pull or config error (see podFailure) may last before it is fatal. */
  pullGraceMs: number;
  /** How long a pod may stay unschedulable. */
  unschedulableGraceMs: number;
}

/** The first fatal condition among the pods, or undefined. `firstSeen` remembers transient ones. */
export function podFailure(
  pods: Iterable<PodObject>,
  nowMs: number,
  firstSeen: Map<string, number>,
  options: FailFastOptions,
): PodStartError | undefined {
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const name = pod.metadata.name;
    for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = status.state?.waiting;
      if (!waiting?.reason) continue;
      if (waiting.reason === 'CreateContainerConfigError' && /failed to sync .*cache/i.test(waiting.message ?? ''))
        continue;
      // The kubelet retries config errors. Most are for good (a Secret or key that does not exist),
      // but a refusal by the Node authorizer, whose graph lags a new pod's binding, or an API timeout
      // clears up by itself: those get the same grace as a transient pull error.
      if (
        waiting.reason === 'CreateContainerConfigError' &&
        /is forbidden|no relationship found|timeout|timed out|connection refused/i.test(waiting.message ?? '')
      ) {
        const key = `${name}/${status.name}/config`;
        const since = firstSeen.get(key) ?? nowMs;
        firstSeen.set(key, since);
        if (nowMs - since >= options.pullGraceMs)
          return new PodStartError(name, status.name, waiting.reason, waiting.message);
        continue;
      }
      if (FATAL_WAITING.has(waiting.reason)) {
        const last = status.lastState?.terminated;
        const detail =
          waiting.reason === 'CrashLoopBackOff' && last
            ? `exited with code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}${last.message ? `: ${last.message.trim().slice(-300)}` : ''}; restarted ${status.restartCount ?? 0} times`
            : waiting.message;
        return new PodStartError(name, status.name, waiting.reason, detail);
      }
      if (PULL_ERRORS.has(waiting.reason)) {
        const key = `${name}/${status.name}/pull`;
        const since = firstSeen.get(key) ?? nowMs;
        firstSeen.set(key, since);
        // A registry that says the image does not exist (or may not be read) has answered for
        // good; anything else (timeouts, 5xx) gets the grace.
        const definite =
          /not found|manifest unknown|does not exist|pull access denied|unauthorized|not in the image map/i.test(
            waiting.message ?? '',
          );
        if (definite || nowMs - since >= options.pullGraceMs) {
          return new PodStartError(name, status.name, waiting.reason, waiting.message);
        }
      }
    }
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
      const key = `${name}/unschedulable`;
      const since = firstSeen.get(key) ?? nowMs;
      firstSeen.set(key, since);
      if (nowMs - since >= options.unschedulableGraceMs)
        return new PodStartError(name, undefined, 'Unschedulable', scheduled.message);
    }
  }
  return undefined;
}

export function isAvailable(deployment: DeploymentObject | undefined, desired: number): boolean {
  if (!deployment) return false;
  const status = deployment.status ?? {};
  return (
    (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 1) &&
    (status.updatedReplicas ?? 0) >= desired &&
    (status.availableReplicas ?? 0) >= desired &&
    (status.replicas ?? 0) === desired &&
    !(status.unavailableReplicas ?? 0)
  );
}

export function deadlineExceeded(deployment: DeploymentObject | undefined): string | undefined {
  const progressing = deployment?.status?.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return progressing.message ?? 'ProgressDeadlineExceeded';
  }
  return undefined;
}

export interface WaitAvailableOptions extends FailFastOptions {
  namespace: string;
  deployment: string;
  /** Label selector of the new pods (colour and revision). */
  podSelector: string;
  replicas: number;
  timeoutMs: number;
  clock: Clock;
  signal?: AbortSignal;
  onPods?: (pods: PodSummary[]) => void;
}

export interface AvailableResult {
  /** Clock time at which the last new pod was seen Ready. */
  lastPodReadyAt: number;
  availableAt: number;
  pods: PodSummary[];
}

export class WaitReadyTimeoutError extends Error {
  constructor(deployment: string, timeoutMs: number, pods: PodSummary[]) {
    const state = pods.map((p) => `${p.name} ${p.ready ? 'ready' : (p.reason ?? p.phase)}`).join(', ') || 'no pods';
    super(
      `Deployment ${deployment} was not available after ${Math.round(timeoutMs / 1000)}s (timeout); pods: ${state}`,
    );
    this.name = 'WaitReadyTimeoutError';
  }
}

export async function waitForAvailable(kube: KubePort, options: WaitAvailableOptions): Promise<AvailableResult> {
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  let pods = new Map<string, PodObject>();
  let lastPodReadyAt: number | undefined;
  const firstSeen = new Map<string, number>();
  let failure: PodStartError | undefined;
  const fail = (error: Error): void => {
    failure ??= error as PodStartError;
    controller.abort(error);
  };
  const evaluatePods = (): void => {
    const error = podFailure(pods.values(), options.clock.now(), firstSeen, options);
    if (error) fail(error);
  };
  // Pull and scheduling graces expire without an event: re-judge the pods we hold every second.
  const ticker = setInterval(evaluatePods, 500);
  const timer = setTimeout(
    () => fail(new WaitReadyTimeoutError(options.deployment, options.timeoutMs, [...pods.values()].map(summarisePod))),
    options.timeoutMs,
  );
  try {
    const podWatch = kube
      .watchUntil<PodObject, never>(
        'Pod',
        options.namespace,
        { labelSelector: options.podSelector },
        (current) => {
          pods = current;
          const live = [...current.values()].filter((p) => !p.metadata.deletionTimestamp);
          const ready = live.filter((p) => summarisePod(p).ready).length;
          if (ready >= options.replicas && lastPodReadyAt === undefined) lastPodReadyAt = options.clock.now();
          if (ready < options.replicas) lastPodReadyAt = undefined;
          options.onPods?.(live.map(summarisePod));
          evaluatePods();
          return undefined;
        },
        controller.signal,
      )
      .catch((error: unknown) => {
        if (!controller.signal.aborted) fail(error as Error);
      });
    const available = await kube.watchUntil<DeploymentObject, number>(
      'Deployment',
      options.namespace,
      { fieldSelector: `metadata.name=${options.deployment}` },
      (current) => {
        const deployment = current.get(options.deployment);
        const exceeded = deadlineExceeded(deployment);
        if (exceeded) {
          evaluatePods();
          fail(failure ?? new PodStartError(options.deployment, undefined, 'ProgressDeadlineExceeded', exceeded));
          return undefined;
        }
        return isAvailable(deployment, options.replicas) ? options.clock.now() : undefined;
      },
      controller.signal,
    );
    controller.abort(new Error('available'));
    await podWatch;
    const live = [...pods.values()].filter((p) => !p.metadata.deletionTimestamp);
    return { lastPodReadyAt: lastPodReadyAt ?? available, availableAt: available, pods: live.map(summarisePod) };
  } catch (error) {
    if (failure) throw failure;
    throw error;
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

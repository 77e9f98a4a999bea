// MemoryKube: the KubePort in memory, for the engine's unit tests. An API server's store and answers
// (404/409/422, resourceVersions, watches) plus simulated Deployment, ReplicaSet, EndpointSlice, PDB
// and garbage-collector controllers on a virtual clock, pods scripted by image, permissions, fault
// injection, call hooks and a call log, so every step runs in milliseconds without a cluster.
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '@adci/common';
import { KubeApiError, resourceOf, supportedKind } from './client.ts';
import type { KubeObject, KubePort, ListResult, ResourceRule, Selectors, WatchEvent } from './port.ts';

// ---------------------------------------------------------------------------------------------
// Virtual time

interface Timer {
  at: number;
  seq: number;
  /** A controller's next event: it does not by itself make time move. */
  background: boolean;
  fire: () => void;
}

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Virtual time. `sleep` resolves when time reaches its end. Time moves by `advance`, or (autoAdvance,
 * the default) by itself to the next timer whenever someone waits on it: a `sleep`, or a watch that
 * MemoryKube holds open. So a 10-minute rollout takes microseconds, yet time stands still while the
 * code under test does something else (an HTTP check, a computation) and waits on neither.
 */
export class VirtualClock implements Clock {
  readonly autoAdvance: boolean;
  private time: number;
  private timers: Timer[] = [];
  private seq = 0;
  private holds = 0;
  private stepping = false;

  constructor(options: { start?: number; autoAdvance?: boolean } = {}) {
    this.time = options.start ?? 0;
    this.autoAdvance = options.autoAdvance ?? true;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.timer(ms, signal, false);
  }

  /** A sleep; `background` ones (a controller's next event) do not count as someone waiting. */
  timer(ms: number, signal: AbortSignal | undefined, background: boolean): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(signal?.reason as Error);
      };
      const timer: Timer = {
        at: this.time + Math.max(0, ms),
        seq: this.seq++,
        background,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.schedule();
    });
  }

  /** Someone waits (a watch): time may move by itself until the returned function is called. */
  hold(): () => void {
    this.holds++;
    this.schedule();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
    };
  }

  /** Timers not yet fired (sleeps and controller events). */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing the timers due on the way in order and letting each one's continuation run. */
  async advance(ms: number): Promise<void> {
    const target = this.time + Math.max(0, ms);
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > target) break;
      this.fireDue(next.at);
      await nextMacrotask();
    }
    this.time = target;
    await nextMacrotask();
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }

  private fireDue(at: number): void {
    this.time = Math.max(this.time, at);
    const due = this.timers.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.fire();
  }

  private schedule(): void {
    if (!this.autoAdvance || this.stepping) return;
    this.stepping = true;
    // After the current macrotask: everything the code under test could do without time passing is done.
    setImmediate(() => {
      this.stepping = false;
      if (this.holds === 0 && !this.timers.some((t) => !t.background)) return;
      const next = this.earliest();
      if (!next) return;
      this.fireDue(next.at);
      this.schedule();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Public test-facing types

/** How the containers running an image behave (MemoryKube.script). Default: ready after podReadyMs. */
export interface ImageScript {
  /** Ready this long after the container started (default: the podReadyMs option). */
  readyAfterMs?: number;
  /** Runs, but its readiness probe never passes. */
  neverReady?: boolean;
  /** Ready, then unready from this clock time on (the clock's now(), ms). */
  unreadyAt?: number;
  /** Ready, then unready this long after it became ready. */
  unreadyAfterMs?: number;
  /** Starts, exits after `afterMs` (default 1000), is restarted with back-off: CrashLoopBackOff. */
  crash?: { exitCode?: number; reason?: string; message?: string; afterMs?: number };
  /** Cannot be pulled: ErrImagePull after `afterMs` (default 0), ImagePullBackOff 5 s later. */
  pullError?: { message?: string; afterMs?: number };
  /** CreateContainerConfigError with this message (missing ConfigMaps and Secrets are detected anyway). */
  configError?: string;
  /** The pod cannot be scheduled (PodScheduled False, Unschedulable) with this message. */
  unschedulable?: string;
  /** Log lines of the current instance (of a crash-looping container: its last run). */
  logs?: string[];
  /** Log lines of the previous, terminated instance (default: `logs`). */
  previousLogs?: string[];
}

export type Verb =
  | 'get'
  | 'list'
  | 'watch'
  | 'apply'
  | 'mergePatch'
  | 'create'
  | 'replace'
  | 'delete'
  | 'podLogs'
  | 'rulesReview'
  | 'canI';

/** One call through the port, in the order made. */
export interface KubeCall {
  seq: number;
  /** Clock time when it was made. */
  at: number;
  verb: Verb;
  kind: string;
  namespace: string;
  name?: string;
  dryRun: boolean;
  subresource?: string;
  selectors?: Selectors;
  /** What was sent (apply/create/replace: the object; mergePatch: the patch; delete: the options). */
  body?: unknown;
  /** A write that reached the store (not dry-run, not failed; an unchanged object counts). */
  written: boolean;
  /** The error the caller received. */
  error?: unknown;
}

/** Which calls a fault or hook applies to; every given field must match. */
export interface CallMatch {
  verb?: Verb | Verb[];
  kind?: string;
  name?: string;
  namespace?: string;
  dryRun?: boolean;
  subresource?: string;
  where?: (call: KubeCall) => boolean;
}

export type FaultError = Error | ((call: KubeCall) => Error);

export interface FaultOptions {
  /** Serve the call (the write happens), then answer with the error: a lost response. */
  afterServe?: boolean;
}

export type CallHook = (call: KubeCall) => void | Promise<void>;

export interface MemoryKubeOptions {
  /** Drives the controllers and scripted pods; default a new VirtualClock (auto-advancing). */
  clock?: Clock;
  /** How long a healthy container takes from start to ready (default 1000). */
  podReadyMs?: number;
  /** How long a new pod takes to be scheduled and have its containers start (default 0). */
  podStartMs?: number;
  /** How long a deleted pod stays Terminating (default 0: it goes at once). */
  podTerminationMs?: number;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Gone',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A KubeApiError as the real client would raise it for `status`. */
export function kubeError(status: number, reason?: string, message?: string): KubeApiError {
  const why = reason ?? REASONS[status] ?? String(status);
  return new KubeApiError(status, why, message ?? `injected ${status} ${why}`);
}

/** What node:https raises when the connection fails: an error with a code (isTransient says yes). */
export function networkError(message = 'connect ECONNREFUSED 127.0.0.1:6443'): Error {
  return Object.assign(new Error(message), { code: 'ECONNREFUSED' });
}

// ---------------------------------------------------------------------------------------------
// Helpers: kinds, cloning, merging, selectors

type Json = Record<string, unknown>;

const clone = <T>(value: T): T => structuredClone(value);
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Kinds the engine needs, in case KubeClient's table lacks them (it lists ControllerRevision now). */
const EXTRA_KINDS: Record<string, { group: string; plural: string }> = {
  ControllerRevision: { group: 'apps/v1', plural: 'controllerrevisions' },
};
const KNOWN_KINDS = [
  'Deployment',
  'ReplicaSet',
  'Service',
  'Pod',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'Event',
  'Namespace',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'EndpointSlice',
  'Lease',
  'Ingress',
  'NetworkPolicy',
  'Role',
  'RoleBinding',
  'ControllerRevision',
];
/** Kinds whose status only the controllers (or the status subresource) write. */
const STATUS_KINDS = new Set([
  'Deployment',
  'ReplicaSet',
  'Service',
  'Pod',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'Namespace',
]);
/** Kinds whose metadata.generation counts spec changes. */
const GENERATION_KINDS = new Set(['Deployment', 'ReplicaSet', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']);

interface KindInfo {
  apiVersion: string;
  plural: string;
  apiGroup: string;
  namespaced: boolean;
}

function kindInfo(kind: string): KindInfo {
  const extra = supportedKind(kind) ? undefined : EXTRA_KINDS[kind];
  if (extra) {
    return {
      apiVersion: extra.group,
      plural: extra.plural,
      apiGroup: extra.group.split('/')[0] ?? '',
      namespaced: true,
    };
  }
  // Unsupported kinds throw the real client's error, so a test catches a kind the engine cannot use for real.
  const { group, plural, apiGroup } = resourceOf(kind);
  return { apiVersion: group, plural, apiGroup, namespaced: kind !== 'Namespace' };
}

/** `deployments.apps "web"`, as the API server names an object in its messages. */
function ref(kind: string, name: string): string {
  const { plural, apiGroup } = kindInfo(kind);
  return `${plural}${apiGroup ? `.${apiGroup}` : ''} "${name}"`;
}

function notFound(kind: string, name: string): KubeApiError {
  return new KubeApiError(404, 'NotFound', `${ref(kind, name)} not found`);
}

function conflict(
  kind: string,
  name: string,
  detail = 'the object has been modified; please apply your changes to the latest version and try again',
): KubeApiError {
  return new KubeApiError(409, 'Conflict', `Operation cannot be fulfilled on ${ref(kind, name)}: ${detail}`);
}

function invalid(kind: string, name: string, causes: string[]): KubeApiError {
  const { apiGroup } = kindInfo(kind);
  return new KubeApiError(
    422,
    'Invalid',
    `${kind}${apiGroup ? `.${apiGroup}` : ''} "${name}" is invalid: ${causes.join(', ')}`,
  );
}

/** JSON with sorted keys: equal objects give equal text whatever order their keys were set in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

const shortHash = (value: unknown, length = 10): string =>
  createHash('sha256').update(canonical(value)).digest('hex').slice(0, length);

/** RFC 7386: objects merge, null deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: Json = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** Server-side apply, approximated: drop what the previous apply set and this one does not, then merge. */
function prune(target: Json, previous: Json, applied: Json): void {
  for (const [key, value] of Object.entries(previous)) {
    const mine = target[key];
    if (isObject(value) && isObject(mine)) {
      // A map the apply no longer sends loses only the keys the apply set (an annotation a
      // controller added stays), and goes when nothing else is left in it.
      const now = applied[key];
      prune(mine, value, isObject(now) ? now : {});
      if (!(key in applied) && Object.keys(mine).length === 0) delete target[key];
    } else if (!(key in applied)) delete target[key];
  }
}

function mergeInto(target: Json, applied: Json): void {
  for (const [key, value] of Object.entries(applied)) {
    if (value === null) delete target[key];
    else if (isObject(value) && isObject(target[key])) mergeInto(target[key], value);
    else target[key] = clone(value);
  }
}

type Requirement = { key: string; op: 'in' | 'notin' | 'exists' | 'absent'; values: string[] };

function parseLabelSelector(selector: string | undefined): Requirement[] {
  const requirements: Requirement[] = [];
  for (const raw of (selector ?? '').split(/,(?![^(]*\))/)) {
    const term = raw.trim();
    if (!term) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const values = (m[3] ?? '').split(',').map((v) => v.trim());
      requirements.push({ key: m[1] ?? '', op: m[2] === 'in' ? 'in' : 'notin', values });
    } else if ((m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(term))) {
      requirements.push({ key: m[1] ?? '', op: m[2] === '!=' ? 'notin' : 'in', values: [m[3] ?? ''] });
    } else if ((m = /^!([^\s!=(),]+)$/.exec(term))) {
      requirements.push({ key: m[1] ?? '', op: 'absent', values: [] });
    } else if (/^[^\s!=(),]+$/.test(term)) {
      requirements.push({ key: term, op: 'exists', values: [] });
    } else {
      throw new KubeApiError(400, 'BadRequest', `unable to parse requirement: ${term}`);
    }
  }
  return requirements;
}

function labelsMatch(requirements: Requirement[], labels: Record<string, string> | undefined): boolean {
  return requirements.every(({ key, op, values }) => {
    const value = labels?.[key];
    switch (op) {
      case 'in':
        return value !== undefined && values.includes(value);
      case 'notin':
        return value === undefined || !values.includes(value);
      case 'exists':
        return value !== undefined;
      case 'absent':
        return value === undefined;
    }
  });
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A LabelSelector object (Deployment, PDB); an empty one selects everything, as in Kubernetes. */
function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const requirements: Requirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    op: 'in',
    values: [value],
  }));
  for (const e of selector.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'absent' } as const)[e.operator as 'In'];
    requirements.push({ key: e.key, op, values: e.values ?? [] });
  }
  return labelsMatch(requirements, labels);
}

const FIELD_PATHS: Record<string, (o: KubeObject) => unknown> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace ?? '',
  'status.phase': (o) => (o.status as Json | undefined)?.phase,
  'spec.nodeName': (o) => (o.spec as Json | undefined)?.nodeName,
};

function parseFieldSelector(selector: string | undefined): ((o: KubeObject) => boolean)[] {
  const tests: ((o: KubeObject) => boolean)[] = [];
  for (const raw of (selector ?? '').split(',')) {
    const term = raw.trim();
    if (!term) continue;
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    const path = m?.[1] ?? '';
    const read = FIELD_PATHS[path];
    if (!m || !read) throw new KubeApiError(400, 'BadRequest', `field label not supported: ${path || term}`);
    const value = m[3] ?? '';
    const negate = m[2] === '!=';
    tests.push((o) => {
      const field = read(o);
      return (typeof field === 'string' ? field === value : value === '') !== negate;
    });
  }
  return tests;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function intOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(typeof value === 'string' ? value : '');
  if (!m) return Number(value) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

// ---------------------------------------------------------------------------------------------
// Object shapes the controllers read

interface Container {
  name: string;
  image?: string;
  envFrom?: { configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }[];
  env?: {
    name: string;
    valueFrom?: {
      configMapKeyRef?: { name: string; key: string; optional?: boolean };
      secretKeyRef?: { name: string; key: string; optional?: boolean };
    };
  }[];
}

interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: {
    configMap?: { name: string; optional?: boolean };
    secret?: { secretName: string; optional?: boolean };
    projected?: {
      sources?: { configMap?: { name: string; optional?: boolean }; secret?: { name: string; optional?: boolean } }[];
    };
  }[];
  nodeName?: string;
}

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: PodSpec;
}

interface Workload extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: LabelSelector;
    template?: Template;
    minReadySeconds?: number;
    progressDeadlineSeconds?: number;
    revisionHistoryLimit?: number;
    paused?: boolean;
    strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  };
  status?: Json;
}

interface Pod extends KubeObject {
  spec?: PodSpec;
  status?: Json;
}

interface ContainerView {
  status: Json;
  ready: boolean;
  /** Running or crash-looping: the container got past pulling and configuration. */
  started: boolean;
  /** An init container that completed. */
  done: boolean;
  readySince?: number;
}

interface PodRuntime {
  createdAt: number;
  /** Per container: when it started (past pulling and configuration). */
  started: Map<string, number>;
  ip?: string;
  readySince?: number;
  ready: boolean;
  deleteAt?: number;
}

interface DeploymentRuntime {
  signature: string;
  progressAt: number;
  available?: string;
  availableAt: number;
}

const TEMPLATE_HASH = 'pod-template-hash';
const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
const NODE = 'memory-node';
const USER = 'system:serviceaccount:ci:adci';
const RBAC_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const SUBRESOURCES: Record<string, string[]> = {
  Deployment: ['scale', 'status'],
  ReplicaSet: ['scale', 'status'],
  Pod: ['log', 'status', 'eviction'],
  Service: ['proxy', 'status'],
};
const CRASH_BACKOFF_S = [10, 20, 40, 80, 160];

interface Watcher {
  kind: string;
  namespace: string;
  matches: (o: KubeObject) => boolean;
  known: Set<string>;
  push: (event: WatchEvent<KubeObject>) => void;
}

interface Fault {
  match: CallMatch;
  error: FaultError;
  remaining: number;
  afterServe: boolean;
}

interface Hook {
  match: CallMatch;
  hook: CallHook;
  when: 'before' | 'after';
  once: boolean;
}

// ---------------------------------------------------------------------------------------------
// MemoryKube

/**
 * An API server and the controllers a blue-green release relies on, in memory. Objects, resource
 * versions and watches behave as on a real cluster; Deployments roll out through ReplicaSets into
 * pods whose behaviour `script` sets per image; Services get EndpointSlices; owners' deletion
 * cascades. Calls are logged in `calls`; `failNext`/`failAlways` inject errors; `onCall` runs test
 * code at a given call; `deny` removes a permission.
 */
export class MemoryKube implements KubePort {
  readonly server = 'https://memory.invalid';
  readonly clock: Clock;
  /** Every call through the port, in order. */
  readonly calls: KubeCall[] = [];
  /** SelfSubjectRulesReview answers with rules (true), or with none, like an authorizer that cannot list them. */
  rulesReviewSupported = true;

  private readonly podReadyMs: number;
  private readonly podStartMs: number;
  private readonly podTerminationMs: number;
  private readonly virtual: VirtualClock | undefined;
  private readonly epoch: number;
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly lastApplied = new Map<string, Json>();
  private readonly pods = new Map<string, PodRuntime>();
  private readonly deployments = new Map<string, DeploymentRuntime>();
  private readonly podCounters = new Map<string, number>();
  private readonly scripts: { image: string | RegExp; script: ImageScript }[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly denied = new Set<string>();
  private faults: Fault[] = [];
  private hooks: Hook[] = [];
  private readonly wakeups = new Set<number>();
  private readonly scheduled = new Set<number>();
  private readonly closed = new AbortController();
  private resourceVersion = 0;
  private nextIp = 10;
  private seq = 0;
  private reconcilePending = false;
  private reconciling = false;
  private changed = false;
  private controllerFailure: Error | undefined;

  constructor(options: MemoryKubeOptions = {}) {
    this.clock = options.clock ?? new VirtualClock();
    this.virtual = this.clock instanceof VirtualClock ? this.clock : undefined;
    this.podReadyMs = options.podReadyMs ?? 1000;
    this.podStartMs = options.podStartMs ?? 0;
    this.podTerminationMs = options.podTerminationMs ?? 0;
    this.epoch = Date.now() - this.clock.now();
  }

  // ----- test API -----------------------------------------------------------------------------

  /** Sets how containers running `image` (exact, or a RegExp) behave; read live, later scripts win. */
  script(image: string | RegExp, script: ImageScript): this {
    this.scripts.unshift({ image, script });
    this.kick();
    return this;
  }

  /** The next `times` (default 1) matching calls fail with `error`. Returns a function that removes the fault. */
  failNext(match: CallMatch, error: FaultError, options: FaultOptions & { times?: number } = {}): () => void {
    const fault: Fault = { match, error, remaining: options.times ?? 1, afterServe: options.afterServe ?? false };
    this.faults.push(fault);
    return () => {
      this.faults = this.faults.filter((f) => f !== fault);
    };
  }

  /** Every matching call fails with `error` until the returned function is called. */
  failAlways(match: CallMatch, error: FaultError, options: FaultOptions = {}): () => void {
    return this.failNext(match, error, { ...options, times: Infinity });
  }

  /** Runs `hook` when a matching call is made (`before` it is served, the default, or `after`). */
  onCall(match: CallMatch, hook: CallHook, options: { when?: 'before' | 'after'; once?: boolean } = {}): () => void {
    const entry: Hook = { match, hook, when: options.when ?? 'before', once: options.once ?? false };
    this.hooks.push(entry);
    return () => {
      this.hooks = this.hooks.filter((h) => h !== entry);
    };
  }

  clearFaults(): void {
    this.faults = [];
    this.hooks = [];
  }

  /** Takes a permission away (`resource` may name a subresource: `deployments/scale`; `*` for any verb). */
  deny(verb: string, group: string, resource: string): this {
    this.denied.add(`${verb} ${group} ${resource}`);
    return this;
  }

  allow(verb: string, group: string, resource: string): this {
    this.denied.delete(`${verb} ${group} ${resource}`);
    return this;
  }

  /** Puts objects in the store as an earlier `apply` would have, without a call in the log. */
  load(objects: KubeObject[], namespace: string): this {
    for (const object of objects) {
      const kind = object.kind ?? '';
      const ns = kindInfo(kind).namespaced ? namespace : '';
      const prev = this.stored(kind, ns, object.metadata.name);
      const result = this.persist(kind, ns, this.applied(object, ns, prev), prev, { dryRun: false });
      this.lastApplied.set(result.metadata.uid ?? '', this.applyBody(object, kind));
    }
    return this;
  }

  /** A deep copy of the stored object (undefined when absent). */
  snapshot<T extends KubeObject = KubeObject>(kind: string, namespace: string, name: string): T | undefined {
    const object = this.stored(kind, kindInfo(kind).namespaced ? namespace : '', name);
    return object ? (this.typed(object) as T) : undefined;
  }

  /** Deep copies of the stored objects of a kind (optionally in a namespace, matching a label selector). */
  objects<T extends KubeObject = KubeObject>(kind: string, namespace?: string, labelSelector?: string): T[] {
    const requirements = parseLabelSelector(labelSelector);
    return [...(this.store.get(kind)?.values() ?? [])]
      .filter((o) => namespace === undefined || (o.metadata.namespace ?? '') === namespace)
      .filter((o) => labelsMatch(requirements, o.metadata.labels))
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
      .map((o) => this.typed(o) as T);
  }

  /** The calls that wrote to an object (not dry-run, served), in order. */
  writesTo(kind: string, name: string): KubeCall[] {
    return this.calls.filter((c) => c.written && c.kind === kind && c.name === name);
  }

  /** Every write that reached the store, in order. */
  writes(): KubeCall[] {
    return this.calls.filter((c) => c.written);
  }

  /**
   * Evicts a pod as the policy/v1 Eviction API would: refused (429) when a PodDisruptionBudget that
   * selects a ready pod allows no disruption.
   */
  evict(namespace: string, name: string): void {
    const pod = this.stored('Pod', namespace, name);
    if (!pod) throw notFound('Pod', name);
    this.reconcileNow();
    const ready = this.pods.get(pod.metadata.uid ?? '')?.ready ?? false;
    for (const pdb of this.inNamespace('PodDisruptionBudget', namespace)) {
      if (!selectorMatches((pdb.spec as { selector?: LabelSelector } | undefined)?.selector, pod.metadata.labels)) {
        continue;
      }
      const allowed = Number((pdb.status as Json | undefined)?.disruptionsAllowed ?? 0);
      if (ready && allowed < 1) {
        throw new KubeApiError(
          429,
          'TooManyRequests',
          `Cannot evict pod as it would violate the pod's disruption budget. The disruption budget ${pdb.metadata.name} needs ${String((pdb.status as Json).desiredHealthy)} healthy pods and has ${String((pdb.status as Json).currentHealthy)} currently`,
        );
      }
    }
    this.deletePod(pod);
    this.kick();
  }

  /** Lets the controllers and pending watch events run to quiet, without moving time. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await nextMacrotask();
  }

  /** Moves virtual time (VirtualClock) or sleeps on the given clock. */
  async advance(ms: number): Promise<void> {
    if (this.virtual) await this.virtual.advance(ms);
    else await this.clock.sleep(ms);
    await this.settle();
  }

  /** Stops the controllers' timers (needed only with a real clock). */
  close(): void {
    this.closed.abort(new Error('MemoryKube closed'));
  }

  // ----- KubePort -----------------------------------------------------------------------------

  async get<T extends KubeObject>(kind: string, namespace: string, name: string): Promise<T | undefined> {
    return this.call({ verb: 'get', kind, namespace, name }, () => {
      const ns = this.ns(kind, namespace);
      this.authorize('get', kind, ns, name);
      const object = this.stored(kind, ns, name);
      return object ? (this.typed(object) as T) : undefined;
    });
  }

  async list<T extends KubeObject>(kind: string, namespace: string, selectors: Selectors = {}): Promise<ListResult<T>> {
    return this.call({ verb: 'list', kind, namespace, selectors }, () => this.listNow<T>(kind, namespace, selectors));
  }

  async apply<T extends KubeObject>(
    object: KubeObject,
    namespace: string,
    options: { dryRun?: boolean } = {},
  ): Promise<T> {
    const kind = object.kind ?? '';
    const name = object.metadata?.name;
    const dryRun = options.dryRun ?? false;
    return this.call({ verb: 'apply', kind, namespace, name, dryRun, body: clone(object) }, (call) => {
      const ns = this.ns(kind, namespace);
      const prev = this.stored(kind, ns, name);
      this.authorize('patch', kind, ns, name);
      if (!prev) this.authorize('create', kind, ns, name);
      const version = object.metadata.resourceVersion;
      if (prev && version && version !== prev.metadata.resourceVersion) throw conflict(kind, name);
      const result = this.persist(kind, ns, this.applied(object, ns, prev), prev, { dryRun });
      if (!dryRun) {
        this.lastApplied.set(result.metadata.uid ?? '', this.applyBody(object, kind));
        call.written = true;
      }
      return this.typed(result) as T;
    });
  }

  async mergePatch<T extends KubeObject>(
    kind: string,
    namespace: string,
    name: string,
    patch: unknown,
    options: { dryRun?: boolean; subresource?: string } = {},
  ): Promise<T> {
    const dryRun = options.dryRun ?? false;
    const subresource = options.subresource;
    return this.call({ verb: 'mergePatch', kind, namespace, name, dryRun, subresource, body: clone(patch) }, (call) => {
      const ns = this.ns(kind, namespace);
      this.authorize('patch', kind, ns, name, subresource);
      const prev = this.stored(kind, ns, name);
      if (!prev) throw notFound(kind, name);
      const body = isObject(patch) ? patch : {};
      const version = (body.metadata as Json | undefined)?.resourceVersion;
      if (typeof version === 'string' && version !== prev.metadata.resourceVersion) throw conflict(kind, name);
      let next: KubeObject;
      if (subresource === undefined) {
        next = applyMergePatch(prev, patch) as KubeObject;
        next.metadata.resourceVersion = prev.metadata.resourceVersion;
      } else if (subresource === 'status') {
        next = { ...clone(prev), status: applyMergePatch(prev.status, body.status) };
      } else if (subresource === 'scale' && (kind === 'Deployment' || kind === 'ReplicaSet')) {
        const replicas = (body.spec as Json | undefined)?.replicas;
        next = clone(prev);
        if (typeof replicas === 'number') (next.spec as Json).replicas = replicas;
      } else {
        throw new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');
      }
      const result = this.persist(kind, ns, next, prev, { dryRun, status: subresource === 'status' });
      call.written = !dryRun;
      if (subresource === 'scale') return this.scaleOf(result) as unknown as T;
      return this.typed(result) as T;
    });
  }

  async create<T extends KubeObject>(object: KubeObject, namespace: string): Promise<T> {
    const kind = object.kind ?? '';
    const name = object.metadata?.name;
    return this.call({ verb: 'create', kind, namespace, name, body: clone(object) }, (call) => {
      const ns = this.ns(kind, namespace);
      this.authorize('create', kind, ns, name);
      if (this.stored(kind, ns, name)) {
        throw new KubeApiError(409, 'AlreadyExists', `${ref(kind, name)} already exists`);
      }
      const next = clone(object);
      next.metadata.namespace = ns;
      const result = this.persist(kind, ns, next, undefined, { dryRun: false });
      call.written = true;
      return this.typed(result) as T;
    });
  }

  async replace<T extends KubeObject>(object: KubeObject, namespace: string): Promise<T> {
    const kind = object.kind ?? '';
    const name = object.metadata?.name;
    return this.call({ verb: 'replace', kind, namespace, name, body: clone(object) }, (call) => {
      const ns = this.ns(kind, namespace);
      this.authorize('update', kind, ns, name);
      const prev = this.stored(kind, ns, name);
      if (!prev) throw notFound(kind, name);
      const version = object.metadata.resourceVersion;
      if (version && version !== prev.metadata.resourceVersion) throw conflict(kind, name);
      const next = clone(object);
      next.metadata.resourceVersion = prev.metadata.resourceVersion;
      const result = this.persist(kind, ns, next, prev, { dryRun: false });
      call.written = true;
      return this.typed(result) as T;
    });
  }

  async delete(kind: string, namespace: string, name: string, body?: unknown): Promise<boolean> {
    return this.call({ verb: 'delete', kind, namespace, name, body: clone(body) }, (call) => {
      const ns = this.ns(kind, namespace);
      this.authorize('delete', kind, ns, name);
      const prev = this.stored(kind, ns, name);
      if (!prev) return false;
      const preconditions = (body as { preconditions?: { resourceVersion?: string; uid?: string } } | undefined)
        ?.preconditions;
      if (preconditions?.resourceVersion && preconditions.resourceVersion !== prev.metadata.resourceVersion) {
        throw conflict(
          kind,
          name,
          `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${prev.metadata.resourceVersion}`,
        );
      }
      if (preconditions?.uid && preconditions.uid !== prev.metadata.uid) {
        throw conflict(
          kind,
          name,
          `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${prev.metadata.uid}`,
        );
      }
      if (kind === 'Pod') this.deletePod(prev);
      else this.remove(prev);
      call.written = true;
      this.kick();
      return true;
    });
  }

  async watchUntil<T extends KubeObject, R>(
    kind: string,
    namespace: string,
    selectors: Selectors,
    onChange: (objects: Map<string, T>, event?: WatchEvent<T>) => R | undefined,
    signal: AbortSignal,
  ): Promise<R> {
    const requirements = parseLabelSelector(selectors.labelSelector);
    const fields = parseFieldSelector(selectors.fieldSelector);
    const objects = new Map<string, T>();
    // Events queue from the moment of the list on, as a real watch resumes from the list's resourceVersion.
    const queue: WatchEvent<KubeObject>[] = [];
    let wake = (): void => undefined;
    const watcher: Watcher = {
      kind,
      namespace: '',
      matches: (o) => labelsMatch(requirements, o.metadata.labels) && fields.every((f) => f(o)),
      known: new Set(),
      push: (event) => {
        queue.push(event);
        wake();
      },
    };
    try {
      const listed = await this.call({ verb: 'watch', kind, namespace, selectors }, () => {
        this.authorize('watch', kind, this.ns(kind, namespace), undefined);
        const result = this.listNow<T>(kind, namespace, selectors);
        watcher.namespace = this.ns(kind, namespace);
        for (const item of result.items) watcher.known.add(item.metadata.name);
        this.watchers.add(watcher);
        return result;
      });
      for (const item of listed.items) objects.set(item.metadata.name, item);
      const first = onChange(objects);
      if (first !== undefined) {
        this.watchers.delete(watcher);
        return first;
      }
      signal.throwIfAborted();
    } catch (error) {
      this.watchers.delete(watcher);
      throw error;
    }
    return new Promise<R>((resolve, reject) => {
      const release = this.virtual?.hold() ?? ((): void => undefined);
      let draining = false;
      let done = false;
      const finish = (settle: () => void): void => {
        if (done) return;
        done = true;
        this.watchers.delete(watcher);
        signal.removeEventListener('abort', onAbort);
        release();
        settle();
      };
      const onAbort = (): void => finish(() => reject(signal.reason as Error));
      const drain = (): void => {
        draining = false;
        while (queue.length > 0 && !done) {
          const event = queue.shift() as WatchEvent<T>;
          if (event.type === 'DELETED') objects.delete(event.object.metadata.name);
          else objects.set(event.object.metadata.name, event.object);
          try {
            const result = onChange(objects, event);
            if (result !== undefined) finish(() => resolve(result));
          } catch (error) {
            finish(() => reject(error instanceof Error ? error : new Error(String(error))));
          }
        }
      };
      wake = () => {
        if (draining || done) return;
        draining = true;
        queueMicrotask(drain);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      wake();
    });
  }

  async rulesReview(namespace: string): Promise<ResourceRule[]> {
    return this.call({ verb: 'rulesReview', kind: 'SelfSubjectRulesReview', namespace }, () => {
      if (!this.rulesReviewSupported) return [];
      const rules: ResourceRule[] = [
        {
          verbs: ['create'],
          apiGroups: ['authorization.k8s.io'],
          resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
        },
      ];
      if (this.denied.size === 0) return [...rules, { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }];
      // RBAC rules only grant: with anything denied, list what is left, resource by resource.
      for (const kind of KNOWN_KINDS) {
        if (!supportedKind(kind) && !EXTRA_KINDS[kind]) continue;
        const { plural, apiGroup } = kindInfo(kind);
        for (const resource of [plural, ...(SUBRESOURCES[kind] ?? []).map((s) => `${plural}/${s}`)]) {
          const verbs = RBAC_VERBS.filter((verb) => !this.isDenied(verb, apiGroup, resource));
          if (verbs.length > 0) rules.push({ verbs, apiGroups: [apiGroup], resources: [resource] });
        }
      }
      return rules;
    });
  }

  async canI(verb: string, group: string, resource: string, namespace: string, subresource?: string): Promise<boolean> {
    return this.call(
      { verb: 'canI', kind: resource, namespace, subresource, body: { verb, group } },
      () => !this.isDenied(verb, group, subresource ? `${resource}/${subresource}` : resource),
    );
  }

  async podLogs(
    namespace: string,
    pod: string,
    container: string,
    options: { tailLines: number; previous?: boolean },
  ): Promise<string> {
    return this.call({ verb: 'podLogs', kind: 'Pod', namespace, name: pod, subresource: 'log' }, () => {
      this.authorize('get', 'Pod', namespace, pod, 'log');
      const object: Pod | undefined = this.stored('Pod', namespace, pod);
      if (!object) throw notFound('Pod', pod);
      const spec = [...(object.spec?.initContainers ?? []), ...(object.spec?.containers ?? [])].find(
        (c) => c.name === container,
      );
      if (!spec) throw new KubeApiError(400, 'BadRequest', `container ${container} is not valid for pod ${pod}`);
      const statuses = [
        ...((object.status?.initContainerStatuses as Json[] | undefined) ?? []),
        ...((object.status?.containerStatuses as Json[] | undefined) ?? []),
      ];
      const status = statuses.find((s) => s.name === container);
      const script = this.scriptFor(spec.image);
      const restarts = Number(status?.restartCount ?? 0);
      let lines: string[];
      if (options.previous) {
        if (restarts === 0) {
          throw new KubeApiError(
            400,
            'BadRequest',
            `previous terminated container "${container}" in pod "${pod}" not found`,
          );
        }
        lines = script.previousLogs ?? script.logs ?? [];
      } else {
        const waiting = (status?.state as { waiting?: { reason?: string } } | undefined)?.waiting;
        // A container that never ran has no log; a crash-looping one answers with its last run's.
        if (!status || (waiting && waiting.reason !== 'CrashLoopBackOff')) {
          throw new KubeApiError(
            400,
            'BadRequest',
            `container "${container}" in pod "${pod}" is waiting to start: ${waiting?.reason ?? 'ContainerCreating'}`,
          );
        }
        lines = script.logs ?? [];
      }
      const kept = options.tailLines > 0 ? lines.slice(-options.tailLines) : options.tailLines === 0 ? [] : lines;
      return kept.length > 0 ? `${kept.join('\n')}\n` : '';
    });
  }

  // ----- the call pipeline --------------------------------------------------------------------

  /** Logs the call, runs hooks and faults around `serve`, as the real client's one request would. */
  private async call<R>(
    request: Omit<KubeCall, 'seq' | 'at' | 'written' | 'dryRun'> & { dryRun?: boolean },
    serve: (call: KubeCall) => R,
  ): Promise<R> {
    const call: KubeCall = {
      ...request,
      dryRun: request.dryRun ?? false,
      seq: ++this.seq,
      at: this.clock.now(),
      written: false,
    };
    this.calls.push(call);
    try {
      if (this.controllerFailure) throw this.controllerFailure;
      await this.runHooks(call, 'before');
      const fault = this.takeFault(call);
      if (fault && !fault.afterServe) throw this.faultError(fault, call);
      const result = serve(call);
      await this.runHooks(call, 'after');
      if (fault) throw this.faultError(fault, call);
      // Answers arrive asynchronously, after controllers that the call woke had a chance to run.
      await Promise.resolve();
      return result;
    } catch (error) {
      call.error = error;
      throw error;
    }
  }

  private matches(match: CallMatch, call: KubeCall): boolean {
    const verbs = match.verb === undefined ? undefined : Array.isArray(match.verb) ? match.verb : [match.verb];
    return (
      (verbs === undefined || verbs.includes(call.verb)) &&
      (match.kind === undefined || match.kind === call.kind) &&
      (match.name === undefined || match.name === call.name) &&
      (match.namespace === undefined || match.namespace === call.namespace) &&
      (match.dryRun === undefined || match.dryRun === call.dryRun) &&
      (match.subresource === undefined || match.subresource === call.subresource) &&
      (match.where === undefined || match.where(call))
    );
  }

  private async runHooks(call: KubeCall, when: 'before' | 'after'): Promise<void> {
    for (const entry of [...this.hooks]) {
      if (entry.when !== when || !this.matches(entry.match, call)) continue;
      if (entry.once) this.hooks = this.hooks.filter((h) => h !== entry);
      await entry.hook(call);
    }
  }

  private takeFault(call: KubeCall): Fault | undefined {
    const fault = this.faults.find((f) => f.remaining > 0 && this.matches(f.match, call));
    if (!fault) return undefined;
    fault.remaining--;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }

  private faultError(fault: Fault, call: KubeCall): Error {
    return typeof fault.error === 'function' ? fault.error(call) : fault.error;
  }

  private isDenied(verb: string, group: string, resource: string): boolean {
    return this.denied.has(`${verb} ${group} ${resource}`) || this.denied.has(`* ${group} ${resource}`);
  }

  private authorize(verb: string, kind: string, namespace: string, name: string | undefined, sub?: string): void {
    const { plural, apiGroup } = kindInfo(kind);
    const resource = sub ? `${plural}/${sub}` : plural;
    const verbs = verb === 'watch' ? ['list', 'watch'] : [verb];
    for (const v of verbs) {
      if (!this.isDenied(v, apiGroup, resource)) continue;
      throw new KubeApiError(
        403,
        'Forbidden',
        `${name ? ref(kind, name) : plural} is forbidden: User "${USER}" cannot ${v} resource "${resource}" in API group "${apiGroup}" in the namespace "${namespace}"`,
      );
    }
  }

  // ----- the store ----------------------------------------------------------------------------

  private ns(kind: string, namespace: string): string {
    return kindInfo(kind).namespaced ? namespace : '';
  }

  private stored(kind: string, namespace: string, name: string | undefined): KubeObject | undefined {
    return name === undefined ? undefined : this.store.get(kind)?.get(`${namespace}/${name}`);
  }

  private inNamespace(kind: string, namespace: string): KubeObject[] {
    return [...(this.store.get(kind)?.values() ?? [])].filter((o) => (o.metadata.namespace ?? '') === namespace);
  }

  /** What a caller gets: a copy (kind and apiVersion are on every stored object). */
  private typed(object: KubeObject): KubeObject {
    return clone(object);
  }

  private listNow<T extends KubeObject>(kind: string, namespace: string, selectors: Selectors): ListResult<T> {
    const ns = this.ns(kind, namespace);
    this.authorize('list', kind, ns, undefined);
    const requirements = parseLabelSelector(selectors.labelSelector);
    const fields = parseFieldSelector(selectors.fieldSelector);
    const items = this.inNamespace(kind, ns)
      .filter((o) => labelsMatch(requirements, o.metadata.labels) && fields.every((f) => f(o)))
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
      .map((o) => this.typed(o) as T);
    return { items, resourceVersion: String(this.resourceVersion) };
  }

  /** What an apply sends, as remembered for the next apply's pruning (no status, no server fields). */
  private applyBody(object: KubeObject, kind: string): Json {
    const body = clone(object) as Json;
    if (STATUS_KINDS.has(kind)) delete body.status;
    const metadata = { ...(body.metadata as Json) };
    for (const key of ['resourceVersion', 'uid', 'generation', 'creationTimestamp', 'managedFields'])
      delete metadata[key];
    body.metadata = metadata;
    return body;
  }

  /** The object an apply would leave: the stored one, minus what the last apply set and this one does not, merged. */
  private applied(object: KubeObject, namespace: string, prev: KubeObject | undefined): KubeObject {
    const kind = object.kind ?? '';
    const body = this.applyBody(object, kind);
    (body.metadata as Json).namespace = namespace;
    if (!prev) return body as KubeObject;
    const next = clone(prev) as Json;
    prune(next, this.lastApplied.get(prev.metadata.uid ?? '') ?? {}, body);
    mergeInto(next, body);
    return next as KubeObject;
  }

  private iso(ms: number): string {
    return new Date(this.epoch + ms).toISOString().replace(/\.\d+Z$/, 'Z');
  }

  /**
   * Validates, defaults and stores a write; returns the stored object (unchanged objects keep their
   * resourceVersion and raise no event, as on a real server). `status`: the write may set status.
   */
  private persist(
    kind: string,
    namespace: string,
    object: KubeObject,
    prev: KubeObject | undefined,
    options: { dryRun: boolean; status?: boolean; internal?: boolean },
  ): KubeObject {
    const info = kindInfo(kind);
    const next = clone(object);
    next.kind = kind;
    next.apiVersion = info.apiVersion;
    next.metadata = { ...next.metadata };
    if (info.namespaced) next.metadata.namespace = namespace;
    else delete next.metadata.namespace;
    if (STATUS_KINDS.has(kind) && !options.status) {
      if (prev?.status !== undefined) next.status = clone(prev.status);
      else delete next.status;
    }
    if (!options.internal) {
      this.defaults(kind, next, prev);
      this.validate(kind, next, prev);
    }
    const now = this.clock.now();
    next.metadata.uid = prev?.metadata.uid ?? randomUUID();
    next.metadata.creationTimestamp = prev?.metadata.creationTimestamp ?? this.iso(now);
    if (prev?.metadata.deletionTimestamp) next.metadata.deletionTimestamp = prev.metadata.deletionTimestamp;
    if (GENERATION_KINDS.has(kind)) {
      const before = prev?.metadata.generation ?? 0;
      next.metadata.generation = prev && canonical(prev.spec) === canonical(next.spec) ? before : before + 1;
    }
    next.metadata.resourceVersion = prev?.metadata.resourceVersion;
    if (prev && canonical(prev) === canonical(next)) return prev;
    if (options.dryRun) return next;
    next.metadata.resourceVersion = String(++this.resourceVersion);
    let byName = this.store.get(kind);
    if (!byName) this.store.set(kind, (byName = new Map<string, KubeObject>()));
    byName.set(`${namespace}/${next.metadata.name}`, next);
    this.changed = true;
    this.emit(prev ? 'MODIFIED' : 'ADDED', next);
    this.kick();
    return next;
  }

  private remove(object: KubeObject): void {
    const kind = object.kind ?? '';
    const byName = this.store.get(kind);
    const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (!byName?.has(key)) return;
    byName.delete(key);
    this.lastApplied.delete(object.metadata.uid ?? '');
    this.pods.delete(object.metadata.uid ?? '');
    this.deployments.delete(object.metadata.uid ?? '');
    this.changed = true;
    // A deletion is a new resourceVersion too; the watch event carries it.
    const gone = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.resourceVersion) } };
    this.emit('DELETED', gone);
    this.kick();
  }

  private emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void {
    const namespace = object.metadata.namespace ?? '';
    for (const watcher of this.watchers) {
      if (watcher.kind !== object.kind || watcher.namespace !== namespace) continue;
      const name = object.metadata.name;
      const was = watcher.known.has(name);
      // A label change that takes an object out of a selected set reads as DELETED, as from a real watch.
      const is = type !== 'DELETED' && watcher.matches(object);
      if (is) watcher.known.add(name);
      else watcher.known.delete(name);
      if (is) watcher.push({ type: was ? 'MODIFIED' : 'ADDED', object: this.typed(object) });
      else if (was) watcher.push({ type: 'DELETED', object: this.typed(object) });
    }
  }

  private defaults(kind: string, next: KubeObject, prev: KubeObject | undefined): void {
    const spec = (next.spec ?? {}) as Json;
    if (kind === 'Deployment') {
      spec.replicas ??= 1;
      spec.progressDeadlineSeconds ??= 600;
      spec.revisionHistoryLimit ??= 10;
      spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
      next.spec = spec;
    } else if (kind === 'Service') {
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      const prevIp = ((prev?.spec ?? {}) as Json).clusterIP;
      spec.clusterIP ??= prevIp ?? `10.96.0.${(this.nextIp++ % 250) + 1}`;
      const prevPorts = (((prev?.spec ?? {}) as Json).ports ?? []) as Json[];
      spec.ports = ((spec.ports ?? []) as Json[]).map((port, i) => ({
        protocol: 'TCP',
        targetPort: port.port,
        ...(spec.type === 'NodePort' || spec.type === 'LoadBalancer'
          ? { nodePort: prevPorts[i]?.nodePort ?? 30000 + (this.nextIp++ % 2000) }
          : {}),
        ...port,
      }));
      next.spec = spec;
    } else if (kind === 'Secret') {
      // stringData is write-only: the server folds it into data.
      const stringData = next.stringData as Record<string, string> | undefined;
      if (stringData) {
        const data = { ...((next.data ?? {}) as Record<string, string>) };
        for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(value).toString('base64');
        next.data = data;
        delete next.stringData;
      }
      next.type ??= 'Opaque';
    }
  }

  private validate(kind: string, next: KubeObject, prev: KubeObject | undefined): void {
    const name = next.metadata.name;
    const causes: string[] = [];
    if (!name) throw new KubeApiError(400, 'BadRequest', 'name is required');
    if (!NAME.test(name) || name.length > 253) {
      causes.push(
        `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      );
    }
    const labelCauses = (path: string, labels: Record<string, string> | undefined): void => {
      for (const [key, value] of Object.entries(labels ?? {})) {
        if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
          causes.push(
            `${path}: Invalid value: "${String(value)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters) [${key}]`,
          );
        }
      }
    };
    labelCauses('metadata.labels', next.metadata.labels);
    for (const [i, owner] of (next.metadata.ownerReferences ?? []).entries()) {
      if (!owner.uid || !owner.name || !owner.kind || !owner.apiVersion) {
        causes.push(`metadata.ownerReferences[${i}]: Invalid value: apiVersion, kind, name and uid are required`);
      }
    }
    if (kind === 'Deployment' || kind === 'ReplicaSet') {
      const spec = (next.spec ?? {}) as NonNullable<Workload['spec']>;
      const selector = spec.selector;
      const templateLabels = spec.template?.metadata?.labels;
      labelCauses('spec.template.metadata.labels', templateLabels);
      if (!selector || (!Object.keys(selector.matchLabels ?? {}).length && !selector.matchExpressions?.length)) {
        causes.push('spec.selector: Required value');
      } else if (!selectorMatches(selector, templateLabels)) {
        causes.push(
          `spec.template.metadata.labels: Invalid value: ${JSON.stringify(templateLabels ?? {})}: \`selector\` does not match template \`labels\``,
        );
      }
      const before = (prev?.spec as { selector?: unknown } | undefined)?.selector;
      if (prev && canonical(before) !== canonical(selector)) {
        causes.push(`spec.selector: Invalid value: ${JSON.stringify(selector)}: field is immutable`);
      }
      const containers = spec.template?.spec?.containers ?? [];
      if (containers.length === 0) causes.push('spec.template.spec.containers: Required value');
      containers.forEach((c, i) => {
        if (!c.name) causes.push(`spec.template.spec.containers[${i}].name: Required value`);
        if (!c.image) causes.push(`spec.template.spec.containers[${i}].image: Required value`);
      });
      if (typeof spec.replicas === 'number' && spec.replicas < 0) {
        causes.push(`spec.replicas: Invalid value: ${spec.replicas}: must be greater than or equal to 0`);
      }
    } else if (kind === 'ConfigMap' || kind === 'Secret') {
      if (prev?.immutable === true) {
        if (next.immutable !== true) causes.push('immutable: Forbidden: field is immutable when `immutable` is set');
        if (
          canonical(prev.data) !== canonical(next.data) ||
          canonical(prev.binaryData) !== canonical(next.binaryData)
        ) {
          causes.push('data: Forbidden: field is immutable when `immutable` is set');
        }
      }
    } else if (kind === 'ControllerRevision') {
      if (typeof next.revision !== 'number') causes.push('revision: Required value');
      if (prev && canonical(prev.data) !== canonical(next.data)) causes.push('data: Invalid value: field is immutable');
    } else if (kind === 'Pod') {
      if (!(next.spec as PodSpec | undefined)?.containers?.length) causes.push('spec.containers: Required value');
    }
    if (causes.length > 0) throw invalid(kind, name, causes);
  }

  private scaleOf(object: KubeObject): KubeObject {
    return {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: {
        name: object.metadata.name,
        namespace: object.metadata.namespace,
        resourceVersion: object.metadata.resourceVersion,
        uid: object.metadata.uid,
      },
      spec: { replicas: (object.spec as Json | undefined)?.replicas },
      status: { replicas: (object.status as Json | undefined)?.replicas ?? 0 },
    };
  }

  // ----- the controllers ----------------------------------------------------------------------

  private kick(): void {
    // Writes made by the controllers themselves are picked up by the pass loop in reconcileNow.
    if (this.reconcilePending || this.reconciling) return;
    this.reconcilePending = true;
    queueMicrotask(() => this.reconcileNow());
  }

  /** Runs every controller until nothing changes, then arranges to wake at the next scripted event. */
  private reconcileNow(): void {
    this.reconcilePending = false;
    if (this.controllerFailure || this.reconciling) return;
    this.reconciling = true;
    try {
      for (let pass = 0; pass < 50; pass++) {
        this.changed = false;
        this.collectGarbage();
        for (const d of this.all('Deployment')) this.syncDeployment(d);
        for (const rs of this.all('ReplicaSet')) this.syncReplicaSet(rs);
        for (const pod of this.all('Pod')) this.syncPod(pod);
        for (const rs of this.all('ReplicaSet')) this.syncReplicaSetStatus(rs);
        for (const d of this.all('Deployment')) this.syncDeploymentStatus(d);
        for (const svc of this.all('Service')) this.syncEndpointSlices(svc);
        for (const pdb of this.all('PodDisruptionBudget')) this.syncPdb(pdb);
        if (!this.changed) break;
      }
      this.scheduleWakeups();
    } catch (error) {
      // A bug in the simulation: every later call reports it rather than a test hanging.
      this.controllerFailure = error instanceof Error ? error : new Error(String(error));
    } finally {
      this.reconciling = false;
    }
  }

  private wakeAt(at: number): void {
    if (Number.isFinite(at) && at > this.clock.now()) this.wakeups.add(at);
  }

  private scheduleWakeups(): void {
    const now = this.clock.now();
    for (const at of this.wakeups) {
      this.wakeups.delete(at);
      if (this.scheduled.has(at) || at <= now) continue;
      this.scheduled.add(at);
      const sleeping = this.virtual
        ? this.virtual.timer(at - now, this.closed.signal, true)
        : this.clock.sleep(at - now, this.closed.signal);
      sleeping.then(
        () => {
          this.scheduled.delete(at);
          this.kick();
        },
        () => this.scheduled.delete(at),
      );
    }
  }

  private all(kind: string): KubeObject[] {
    return [...(this.store.get(kind)?.values() ?? [])];
  }

  private ownedBy(kind: string, namespace: string, uid: string | undefined): KubeObject[] {
    return this.inNamespace(kind, namespace).filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === uid));
  }

  /** Internal write of a controller: no validation, status allowed, no call logged. */
  private put(object: KubeObject, prev: KubeObject | undefined): KubeObject {
    return this.persist(object.kind ?? '', object.metadata.namespace ?? '', object, prev, {
      dryRun: false,
      status: true,
      internal: true,
    });
  }

  /** Objects whose every owner is gone go too (background propagation). */
  private collectGarbage(): void {
    const uids = new Set<string>();
    for (const byName of this.store.values()) for (const o of byName.values()) uids.add(o.metadata.uid ?? '');
    for (const byName of this.store.values()) {
      for (const o of [...byName.values()]) {
        const owners = o.metadata.ownerReferences ?? [];
        if (owners.length === 0 || owners.some((r) => uids.has(r.uid))) continue;
        if (o.kind === 'Pod') this.deletePod(o);
        else this.remove(o);
      }
    }
  }

  private deletePod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) return;
    if (this.podTerminationMs <= 0) {
      this.remove(pod);
      return;
    }
    const runtime = this.runtime(pod);
    runtime.deleteAt = this.clock.now() + this.podTerminationMs;
    const next = clone(pod);
    next.metadata.deletionTimestamp = this.iso(this.clock.now());
    next.metadata.deletionGracePeriodSeconds = Math.ceil(this.podTerminationMs / 1000);
    this.put(next, pod);
    this.wakeAt(runtime.deleteAt);
  }

  private runtime(pod: Pod): PodRuntime {
    const uid = pod.metadata.uid ?? '';
    let runtime = this.pods.get(uid);
    if (!runtime) {
      runtime = { createdAt: this.clock.now(), started: new Map(), ready: false };
      this.pods.set(uid, runtime);
    }
    return runtime;
  }

  private scriptFor(image: string | undefined): ImageScript {
    const found = this.scripts.find((s) =>
      typeof s.image === 'string' ? s.image === image : s.image.test(image ?? ''),
    );
    return found?.script ?? {};
  }

  private isPodAvailable(pod: Pod, minReadySeconds: number): boolean {
    const runtime = this.pods.get(pod.metadata.uid ?? '');
    if (!runtime?.ready || runtime.readySince === undefined || pod.metadata.deletionTimestamp) return false;
    const at = runtime.readySince + minReadySeconds * 1000;
    if (this.clock.now() >= at) return true;
    this.wakeAt(at);
    return false;
  }

  private livePods(owner: KubeObject): Pod[] {
    return this.ownedBy('Pod', owner.metadata.namespace ?? '', owner.metadata.uid).filter(
      (p) => !p.metadata.deletionTimestamp,
    );
  }

  private setReplicas(rs: Workload, replicas: number): void {
    if ((rs.spec?.replicas ?? 0) === replicas) return;
    const next = clone(rs);
    next.spec = { ...next.spec, replicas };
    this.put(next, rs);
  }

  private syncDeployment(d: Workload): void {
    const spec = d.spec ?? {};
    const ns = d.metadata.namespace ?? '';
    const desired = spec.replicas ?? 1;
    const hash = shortHash(spec.template);
    const owned = this.ownedBy('ReplicaSet', ns, d.metadata.uid) as Workload[];
    const revisionOf = (rs: KubeObject): number => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0);
    let newRs = owned.find((rs) => rs.metadata.labels?.[TEMPLATE_HASH] === hash);
    const old = owned.filter((rs) => rs !== newRs).sort((a, b) => revisionOf(a) - revisionOf(b));
    const revision = Math.max(0, ...owned.map(revisionOf)) + (newRs ? 0 : 1);
    if (!newRs) {
      const name = `${d.metadata.name}-${hash}`;
      const labels = { ...spec.template?.metadata?.labels, [TEMPLATE_HASH]: hash };
      newRs = this.put(
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name,
            namespace: ns,
            labels,
            annotations: { [REVISION_ANNOTATION]: String(revision) },
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'Deployment',
                name: d.metadata.name,
                uid: d.metadata.uid ?? '',
                controller: true,
              },
            ],
          },
          spec: {
            replicas: 0,
            minReadySeconds: spec.minReadySeconds ?? 0,
            selector: {
              matchLabels: { ...spec.selector?.matchLabels, [TEMPLATE_HASH]: hash },
              matchExpressions: spec.selector?.matchExpressions,
            },
            template: { ...clone(spec.template), metadata: { ...spec.template?.metadata, labels } },
          },
        },
        undefined,
      );
    } else if (revisionOf(newRs) < Math.max(0, ...old.map(revisionOf))) {
      // Back to an older template (a rollback): its ReplicaSet becomes the newest revision again.
      const next = clone(newRs);
      next.metadata.annotations = { ...next.metadata.annotations, [REVISION_ANNOTATION]: String(revision + 1) };
      newRs = this.put(next, newRs);
    }
    const dRevision = newRs.metadata.annotations?.[REVISION_ANNOTATION] ?? '1';
    if (d.metadata.annotations?.[REVISION_ANNOTATION] !== dRevision) {
      const next = clone(d);
      next.metadata.annotations = { ...next.metadata.annotations, [REVISION_ANNOTATION]: dRevision };
      this.put(next, d);
    }
    if (spec.paused) return;

    const minReady = spec.minReadySeconds ?? 0;
    const available = (rs: Workload): number =>
      this.livePods(rs).filter((p) => this.isPodAvailable(p, minReady)).length;
    const replicasOf = (rs: Workload): number => rs.spec?.replicas ?? 0;
    if (spec.strategy?.type === 'Recreate') {
      for (const rs of old) this.setReplicas(rs, 0);
      const oldPods = old.some((rs) => this.ownedBy('Pod', ns, rs.metadata.uid).length > 0);
      this.setReplicas(newRs, oldPods ? 0 : desired);
    } else if (old.every((rs) => replicasOf(rs) === 0)) {
      this.setReplicas(newRs, desired);
    } else {
      // RollingUpdate, as the Deployment controller does it: surge the new ReplicaSet, then scale
      // the old ones down as far as availability allows, the unhealthy ones first.
      const surge = intOrPercent(spec.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true);
      let maxUnavailable = intOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
      if (surge === 0 && maxUnavailable === 0) maxUnavailable = 1;
      let fresh: Workload = newRs;
      const rsAll = (): Workload[] => [fresh, ...old];
      const total = (): number => rsAll().reduce((n, rs) => n + replicasOf(rs), 0);
      const current = replicasOf(newRs);
      if (current > desired) this.setReplicas(newRs, desired);
      else if (current < desired) {
        const room = desired + surge - total();
        if (room > 0) this.setReplicas(newRs, Math.min(desired, current + room));
      }
      fresh = this.stored('ReplicaSet', ns, newRs.metadata.name) as Workload;
      const minAvailable = desired - maxUnavailable;
      const newUnavailable = replicasOf(fresh) - available(fresh);
      let maxScaledDown = total() - minAvailable - newUnavailable;
      if (maxScaledDown > 0) {
        for (const [i, rs] of old.entries()) {
          const unhealthy = replicasOf(rs) - available(rs);
          const n = Math.min(Math.max(0, unhealthy), maxScaledDown);
          if (n > 0) {
            this.setReplicas(rs, replicasOf(rs) - n);
            old[i] = this.stored('ReplicaSet', ns, rs.metadata.name) as Workload;
            maxScaledDown -= n;
          }
        }
        let excess = rsAll().reduce((n, rs) => n + available(rs), 0) - minAvailable;
        for (const [i, rs] of old.entries()) {
          if (excess <= 0) break;
          const n = Math.min(replicasOf(rs), excess);
          if (n > 0) {
            this.setReplicas(rs, replicasOf(rs) - n);
            old[i] = this.stored('ReplicaSet', ns, rs.metadata.name) as Workload;
            excess -= n;
          }
        }
      }
    }
    // revisionHistoryLimit: old, empty ReplicaSets beyond it go.
    const empty = old.filter((rs) => replicasOf(rs) === 0 && this.ownedBy('Pod', ns, rs.metadata.uid).length === 0);
    for (const rs of empty.slice(0, Math.max(0, empty.length - (spec.revisionHistoryLimit ?? 10)))) this.remove(rs);
  }

  private syncReplicaSet(rs: Workload): void {
    const ns = rs.metadata.namespace ?? '';
    const want = rs.spec?.replicas ?? 0;
    const pods = this.livePods(rs);
    for (let i = pods.length; i < want; i++) {
      const counter = this.podCounters.get(rs.metadata.uid ?? '') ?? 0;
      this.podCounters.set(rs.metadata.uid ?? '', counter + 1);
      const template = rs.spec?.template ?? {};
      this.put(
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${rs.metadata.name}-${counter}`,
            namespace: ns,
            generateName: `${rs.metadata.name}-`,
            labels: { ...template.metadata?.labels },
            ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: rs.metadata.name,
                uid: rs.metadata.uid ?? '',
                controller: true,
              },
            ],
          },
          spec: clone(template.spec ?? {}),
          status: { phase: 'Pending' },
        },
        undefined,
      );
    }
    if (pods.length > want) {
      // The ReplicaSet controller deletes unready pods first, then the newest.
      const victims = [...pods].sort((a, b) => {
        const ra = this.pods.get(a.metadata.uid ?? '')?.ready ? 1 : 0;
        const rb = this.pods.get(b.metadata.uid ?? '')?.ready ? 1 : 0;
        return (
          ra - rb ||
          (this.pods.get(b.metadata.uid ?? '')?.createdAt ?? 0) - (this.pods.get(a.metadata.uid ?? '')?.createdAt ?? 0)
        );
      });
      for (const pod of victims.slice(0, pods.length - want)) this.deletePod(pod);
    }
  }

  private syncReplicaSetStatus(rs: Workload): void {
    const pods = this.livePods(rs);
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const status = {
      replicas: pods.length,
      ...(pods.some((p) => this.pods.get(p.metadata.uid ?? '')?.ready)
        ? { readyReplicas: pods.filter((p) => this.pods.get(p.metadata.uid ?? '')?.ready).length }
        : {}),
      ...(pods.some((p) => this.isPodAvailable(p, minReady))
        ? { availableReplicas: pods.filter((p) => this.isPodAvailable(p, minReady)).length }
        : {}),
      observedGeneration: rs.metadata.generation ?? 1,
    };
    if (canonical(status) !== canonical(rs.status)) this.put({ ...clone(rs), status }, rs);
  }

  private syncDeploymentStatus(d: Workload): void {
    const spec = d.spec ?? {};
    const ns = d.metadata.namespace ?? '';
    const now = this.clock.now();
    const desired = spec.replicas ?? 1;
    const hash = shortHash(spec.template);
    const owned = this.ownedBy('ReplicaSet', ns, d.metadata.uid) as Workload[];
    const newRs = owned.find((rs) => rs.metadata.labels?.[TEMPLATE_HASH] === hash);
    const minReady = spec.minReadySeconds ?? 0;
    const pods = owned.flatMap((rs) => this.livePods(rs));
    const replicas = pods.length;
    const updated = newRs ? this.livePods(newRs).length : 0;
    const ready = pods.filter((p) => this.pods.get(p.metadata.uid ?? '')?.ready).length;
    const available = pods.filter((p) => this.isPodAvailable(p, minReady)).length;
    const totalSpec = owned.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
    const unavailable = Math.max(0, totalSpec - available);
    const maxUnavailable = intOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);

    let runtime = this.deployments.get(d.metadata.uid ?? '');
    const signature = `${hash}|${totalSpec}|${updated}|${ready}|${available}|${replicas}`;
    if (!runtime) {
      runtime = { signature, progressAt: now, availableAt: now };
      this.deployments.set(d.metadata.uid ?? '', runtime);
    } else if (runtime.signature !== signature) {
      runtime.signature = signature;
      runtime.progressAt = now;
    }
    const complete = updated === desired && replicas === desired && available === desired && totalSpec === desired;
    const rsName = newRs?.metadata.name ?? `${d.metadata.name}-${hash}`;
    let progressing: Json;
    const deadline = runtime.progressAt + (spec.progressDeadlineSeconds ?? 600) * 1000;
    if (complete) {
      progressing = {
        type: 'Progressing',
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        message: `ReplicaSet "${rsName}" has successfully progressed.`,
      };
    } else if (now >= deadline && !spec.paused) {
      progressing = {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: `ReplicaSet "${rsName}" has timed out progressing.`,
      };
    } else {
      this.wakeAt(deadline);
      progressing = {
        type: 'Progressing',
        status: 'True',
        reason: 'ReplicaSetUpdated',
        message: `ReplicaSet "${rsName}" is progressing.`,
      };
    }
    progressing.lastUpdateTime = progressing.lastTransitionTime = this.iso(runtime.progressAt);
    const isAvailable = available >= desired - maxUnavailable;
    const availableState = isAvailable ? 'True' : 'False';
    if (runtime.available !== availableState) {
      runtime.available = availableState;
      runtime.availableAt = now;
    }
    const availableCondition = isAvailable
      ? {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        }
      : {
          type: 'Available',
          status: 'False',
          reason: 'MinimumReplicasUnavailable',
          message: 'Deployment does not have minimum availability.',
        };
    const status: Json = {
      observedGeneration: d.metadata.generation ?? 1,
      ...(replicas ? { replicas } : {}),
      ...(updated ? { updatedReplicas: updated } : {}),
      ...(ready ? { readyReplicas: ready } : {}),
      ...(available ? { availableReplicas: available } : {}),
      ...(unavailable ? { unavailableReplicas: unavailable } : {}),
      conditions: [
        {
          ...availableCondition,
          lastUpdateTime: this.iso(runtime.availableAt),
          lastTransitionTime: this.iso(runtime.availableAt),
        },
        progressing,
      ],
    };
    if (canonical(status) !== canonical(d.status)) this.put({ ...clone(d), status }, d);
  }

  /** Why a container cannot start for want of configuration (what the kubelet would say), if it cannot. */
  private missingConfig(namespace: string, container: Container): string | undefined {
    const data = (kind: string, name: string): Json | undefined => {
      const object = this.stored(kind, namespace, name);
      return object ? { ...(object.data as Json | undefined), ...(object.binaryData as Json | undefined) } : undefined;
    };
    for (const source of container.envFrom ?? []) {
      if (source.configMapRef && !source.configMapRef.optional && !data('ConfigMap', source.configMapRef.name)) {
        return `configmap "${source.configMapRef.name}" not found`;
      }
      if (source.secretRef && !source.secretRef.optional && !data('Secret', source.secretRef.name)) {
        return `secret "${source.secretRef.name}" not found`;
      }
    }
    for (const env of container.env ?? []) {
      for (const [kind, key] of [
        ['ConfigMap', env.valueFrom?.configMapKeyRef],
        ['Secret', env.valueFrom?.secretKeyRef],
      ] as const) {
        if (!key || key.optional) continue;
        const values = data(kind, key.name);
        if (!values) return `${kind.toLowerCase()} "${key.name}" not found`;
        if (!(key.key in values)) return `couldn't find key ${key.key} in ${kind} ${namespace}/${key.name}`;
      }
    }
    return undefined;
  }

  /** Volumes whose ConfigMap or Secret does not exist keep the pod in ContainerCreating (FailedMount). */
  private volumesMissing(namespace: string, spec: PodSpec | undefined): boolean {
    const absent = (kind: string, name: string, optional?: boolean): boolean =>
      !optional && !this.stored(kind, namespace, name);
    return (spec?.volumes ?? []).some(
      (v) =>
        (v.configMap && absent('ConfigMap', v.configMap.name, v.configMap.optional)) ||
        (v.secret && absent('Secret', v.secret.secretName, v.secret.optional)) ||
        (v.projected?.sources ?? []).some(
          (s) =>
            (s.configMap && absent('ConfigMap', s.configMap.name, s.configMap.optional)) ||
            (s.secret && absent('Secret', s.secret.name, s.secret.optional)),
        ),
    );
  }

  private containerView(
    pod: Pod,
    runtime: PodRuntime,
    container: Container,
    init: boolean,
    blocked: boolean,
  ): ContainerView {
    const now = this.clock.now();
    const script = this.scriptFor(container.image);
    const base = { name: container.name, image: container.image ?? '', imageID: '', lastState: {}, restartCount: 0 };
    const waiting = (reason: string, message?: string): ContainerView => ({
      status: {
        ...base,
        ready: false,
        started: false,
        state: { waiting: { reason, ...(message ? { message } : {}) } },
      },
      ready: false,
      started: false,
      done: false,
    });
    const createdAt = runtime.createdAt + this.podStartMs;
    if (now < createdAt) {
      this.wakeAt(createdAt);
      return waiting('ContainerCreating');
    }
    let startedAt = runtime.started.get(container.name);
    if (startedAt === undefined) {
      if (blocked) return waiting('PodInitializing');
      if (script.pullError) {
        const failAt = createdAt + (script.pullError.afterMs ?? 0);
        if (now < failAt) {
          this.wakeAt(failAt);
          return waiting('ContainerCreating');
        }
        const image = container.image ?? '';
        const message =
          script.pullError.message ??
          `failed to pull and unpack image "docker.io/library/${image}": failed to resolve reference "docker.io/library/${image}": docker.io/library/${image}: not found`;
        if (now < failAt + 5000) {
          this.wakeAt(failAt + 5000);
          return waiting('ErrImagePull', message);
        }
        return waiting('ImagePullBackOff', `Back-off pulling image "${image}": ErrImagePull: ${message}`);
      }
      const configError = script.configError ?? this.missingConfig(pod.metadata.namespace ?? '', container);
      if (configError) return waiting('CreateContainerConfigError', configError);
      if (this.volumesMissing(pod.metadata.namespace ?? '', pod.spec)) return waiting('ContainerCreating');
      startedAt = now;
      runtime.started.set(container.name, now);
    }
    const running = (ready: boolean, readySince?: number): ContainerView => ({
      status: { ...base, ready, started: true, state: { running: { startedAt: this.iso(startedAt) } } },
      ready,
      started: true,
      done: false,
      readySince,
    });
    if (script.crash) {
      const crashAt = startedAt + (script.crash.afterMs ?? 1000);
      if (now < crashAt) {
        this.wakeAt(crashAt);
        return running(false);
      }
      let restarts = 1;
      let lastStart = startedAt;
      let lastCrash = crashAt;
      let at = crashAt;
      for (const backoff of CRASH_BACKOFF_S) {
        at += backoff * 1000;
        if (now < at) {
          this.wakeAt(at);
          break;
        }
        restarts++;
        lastStart = at;
        lastCrash = at;
      }
      const backoff = CRASH_BACKOFF_S[Math.min(restarts, CRASH_BACKOFF_S.length) - 1] ?? 300;
      return {
        status: {
          ...base,
          ready: false,
          started: false,
          restartCount: restarts,
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off ${backoff}s restarting failed container=${container.name} pod=${pod.metadata.name}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`,
            },
          },
          lastState: {
            terminated: {
              exitCode: script.crash.exitCode ?? 1,
              reason: script.crash.reason ?? 'Error',
              ...(script.crash.message ? { message: script.crash.message } : {}),
              startedAt: this.iso(lastStart),
              finishedAt: this.iso(lastCrash),
            },
          },
        },
        ready: false,
        started: true,
        done: false,
      };
    }
    if (init) {
      if (script.neverReady) return running(false);
      return {
        status: {
          ...base,
          ready: false,
          started: false,
          state: {
            terminated: {
              exitCode: 0,
              reason: 'Completed',
              startedAt: this.iso(startedAt),
              finishedAt: this.iso(startedAt),
            },
          },
        },
        ready: false,
        started: true,
        done: true,
      };
    }
    if (script.neverReady) return running(false);
    const readyAt = startedAt + (script.readyAfterMs ?? this.podReadyMs);
    const unreadyAt = Math.min(
      script.unreadyAt ?? Infinity,
      script.unreadyAfterMs === undefined ? Infinity : readyAt + script.unreadyAfterMs,
    );
    if (now < readyAt) {
      this.wakeAt(readyAt);
      return running(false);
    }
    if (now >= unreadyAt) return running(false);
    this.wakeAt(unreadyAt);
    return running(true, readyAt);
  }

  private syncPod(pod: Pod): void {
    const runtime = this.runtime(pod);
    const now = this.clock.now();
    if (runtime.deleteAt !== undefined && now >= runtime.deleteAt) {
      this.remove(pod);
      return;
    }
    const terminating = !!pod.metadata.deletionTimestamp;
    const spec = pod.spec ?? {};
    const containers = spec.containers ?? [];
    const inits = spec.initContainers ?? [];
    const unschedulable = [...inits, ...containers]
      .map((c) => this.scriptFor(c.image).unschedulable)
      .find((m) => m !== undefined);
    let status: Json;
    let ready = false;
    let readySince: number | undefined;
    let nodeName: string | undefined;
    if (unschedulable !== undefined) {
      status = {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: unschedulable }],
        qosClass: 'BestEffort',
      };
    } else {
      nodeName = NODE;
      runtime.ip ??= `10.244.${Math.floor(this.nextIp / 250) % 250}.${(this.nextIp++ % 250) + 1}`;
      let blocked = false;
      const initViews = inits.map((c) => {
        const view = this.containerView(pod, runtime, c, true, blocked);
        if (!view.done) blocked = true;
        return view;
      });
      const views = containers.map((c) => this.containerView(pod, runtime, c, false, blocked));
      ready = !terminating && views.length > 0 && views.every((v) => v.ready);
      readySince = ready ? Math.max(...views.map((v) => v.readySince ?? now)) : undefined;
      const containersReady = views.every((v) => v.ready);
      const phase = views.some((v) => v.started) ? 'Running' : 'Pending';
      const condition = (type: string, ok: boolean): Json => ({ type, status: ok ? 'True' : 'False' });
      status = {
        phase,
        conditions: [
          condition('PodScheduled', true),
          condition('Initialized', !blocked),
          condition('ContainersReady', containersReady && !terminating),
          condition('Ready', ready),
        ],
        hostIP: '10.0.0.2',
        podIP: runtime.ip,
        podIPs: [{ ip: runtime.ip }],
        startTime: this.iso(runtime.createdAt),
        qosClass: 'BestEffort',
        ...(initViews.length ? { initContainerStatuses: initViews.map((v) => v.status) } : {}),
        containerStatuses: views.map((v) => (terminating ? { ...v.status, ready: false } : v.status)),
      };
    }
    // Readiness is remembered, not recomputed from the script: a pod that became ready earlier keeps its time.
    if (ready && !runtime.ready) runtime.readySince = readySince ?? now;
    if (!ready) runtime.readySince = undefined;
    runtime.ready = ready;
    if (runtime.deleteAt !== undefined) this.wakeAt(runtime.deleteAt);
    const next: Pod = { ...clone(pod), status };
    if (nodeName && !spec.nodeName) next.spec = { ...clone(spec), nodeName };
    if (canonical(next) !== canonical(pod)) this.put(next, pod);
  }

  private syncEndpointSlices(svc: KubeObject): void {
    const ns = svc.metadata.namespace ?? '';
    const selector = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
    const slices = this.inNamespace('EndpointSlice', ns).filter(
      (s) =>
        s.metadata.labels?.[SERVICE_NAME_LABEL] === svc.metadata.name &&
        s.metadata.labels?.[MANAGED_BY_LABEL] === SLICE_CONTROLLER,
    );
    if (!selector || Object.keys(selector).length === 0) {
      for (const slice of slices) this.remove(slice);
      return;
    }
    const endpoints = (this.inNamespace('Pod', ns) as Pod[])
      .filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v))
      .filter((p) => typeof p.status?.podIP === 'string')
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
      .map((p) => {
        const terminating = !!p.metadata.deletionTimestamp;
        const podReady = (p.status?.conditions as { type: string; status: string }[] | undefined)?.some(
          (c) => c.type === 'Ready' && c.status === 'True',
        );
        const serving = podReady ?? false;
        return {
          addresses: [String(p.status?.podIP)],
          conditions: { ready: serving && !terminating, serving, terminating },
          targetRef: { kind: 'Pod', name: p.metadata.name, namespace: ns, uid: p.metadata.uid },
          nodeName: p.spec?.nodeName ?? NODE,
        };
      });
    const ports = ((svc.spec as { ports?: Json[] } | undefined)?.ports ?? []).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
      protocol: p.protocol ?? 'TCP',
    }));
    const [existing, ...extra] = slices;
    for (const slice of extra) this.remove(slice);
    const desired: KubeObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        ...(existing ? clone(existing.metadata) : {}),
        name: existing?.metadata.name ?? `${svc.metadata.name}-${shortHash(svc.metadata.uid, 5)}`,
        namespace: ns,
        labels: { [SERVICE_NAME_LABEL]: svc.metadata.name, [MANAGED_BY_LABEL]: SLICE_CONTROLLER },
        ownerReferences: [
          { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid ?? '', controller: true },
        ],
      },
      addressType: 'IPv4',
      endpoints,
      ports,
    };
    if (!existing || canonical(desired) !== canonical(existing)) this.put(desired, existing);
  }

  private syncPdb(pdb: KubeObject): void {
    const spec = (pdb.spec ?? {}) as {
      selector?: LabelSelector;
      minAvailable?: number | string;
      maxUnavailable?: number | string;
    };
    const pods = (this.inNamespace('Pod', pdb.metadata.namespace ?? '') as Pod[]).filter(
      (p) => !p.metadata.deletionTimestamp && selectorMatches(spec.selector, p.metadata.labels),
    );
    const expected = pods.length;
    const healthy = pods.filter((p) => this.pods.get(p.metadata.uid ?? '')?.ready).length;
    const desired =
      spec.minAvailable !== undefined
        ? intOrPercent(spec.minAvailable, expected, true)
        : spec.maxUnavailable !== undefined
          ? Math.max(0, expected - intOrPercent(spec.maxUnavailable, expected, true))
          : 0;
    const allowed = Math.max(0, healthy - desired);
    const status = {
      observedGeneration: pdb.metadata.generation ?? 1,
      expectedPods: expected,
      currentHealthy: healthy,
      desiredHealthy: desired,
      disruptionsAllowed: allowed,
      conditions: [
        {
          type: 'DisruptionAllowed',
          status: allowed > 0 ? 'True' : 'False',
          reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods',
        },
      ],
    };
    if (canonical(status) !== canonical(pdb.status)) this.put({ ...clone(pdb), status }, pdb);
  }
}

// The only way the blue-green engine reaches Kubernetes. `KubeClient` (client.ts) implements it
// against a real API server; `MemoryKube` (memory.ts) implements it in memory, with simulated
// controllers and fault injection, so every step of the state machine is unit-tested in seconds.
// Types shared by the engine's modules live here too, so no module imports deploy.ts for a type.
import type { ChecksDocument, SmokeResult } from '@adci/probe';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    uid?: string;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean; apiVersion?: string }[];
    creationTimestamp?: string;
    deletionTimestamp?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export type WatchEvent<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T };

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

/** A rule of a SelfSubjectRulesReview. */
export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface KubePort {
  /** The API server's base URL (for service-proxy URLs). */
  readonly server: string;
  /** undefined when the object does not exist (404). */
  get<T extends KubeObject>(kind: string, namespace: string, name: string): Promise<T | undefined>;
  list<T extends KubeObject>(kind: string, namespace: string, selectors?: Selectors): Promise<ListResult<T>>;
  /** Server-side apply (field manager adci, force); `dryRun` validates without persisting. */
  apply<T extends KubeObject>(object: KubeObject, namespace: string, options?: { dryRun?: boolean }): Promise<T>;
  /** JSON merge patch (RFC 7386). */
  mergePatch<T extends KubeObject>(
    kind: string,
    namespace: string,
    name: string,
    patch: unknown,
    options?: { dryRun?: boolean; subresource?: string },
  ): Promise<T>;
  /** POST; 409 AlreadyExists when it exists. Never retried. */
  create<T extends KubeObject>(object: KubeObject, namespace: string): Promise<T>;
  /** PUT with the object's resourceVersion; 409 Conflict when it changed. Never retried. */
  replace<T extends KubeObject>(object: KubeObject, namespace: string): Promise<T>;
  /** false when it did not exist; `body` may carry DeleteOptions (preconditions). */
  delete(kind: string, namespace: string, name: string, body?: unknown): Promise<boolean>;
  /**
   * List, then watch, calling `onChange` with the current set after every event until it returns
   * something other than undefined. Ends with the signal's reason.
   */
  watchUntil<T extends KubeObject, R>(
    kind: string,
    namespace: string,
    selectors: Selectors,
    onChange: (objects: Map<string, T>, event?: WatchEvent<T>) => R | undefined,
    signal: AbortSignal,
  ): Promise<R>;
  /** SelfSubjectRulesReview: the rules the current user has in `namespace`. */
  rulesReview(namespace: string): Promise<ResourceRule[]>;
  /** SelfSubjectAccessReview. */
  canI(verb: string, group: string, resource: string, namespace: string, subresource?: string): Promise<boolean>;
  /** The last lines of a container's log (`previous`: of its last terminated instance). */
  podLogs(
    namespace: string,
    pod: string,
    container: string,
    options: { tailLines: number; previous?: boolean },
  ): Promise<string>;
}

/** Runs a checks document against a base URL (packages/probe through the adapter's transport). */
export type CheckRunner = (
  phase: 'pre' | 'post',
  document: ChecksDocument,
  baseUrl: string,
  signal: AbortSignal,
) => Promise<SmokeResult>;

// The one way the engine talks to the API server. The kubeconfig is read by kubeconfig.ts when it
// is the common kind (one file, HTTPS, a client certificate, token or password), else by
// @kubernetes/client-node (files, in-cluster, exec and token plugins, proxies), loaded only then:
// its KubeConfig evaluates the generated API models, most of a short run's start-up. Requests are
// plain REST calls so that every verb can carry fieldManager, fieldValidation and dryRun, and every
// answer is classified the same way (retry on 429/5xx/network, fresh read on 409, the rest is final).
// A kubeconfig read here is served by transport.ts (node:tls and node:http2, one connection): undici
// and client-node load for nothing then, a fifth of a short command's start-up. A kubeconfig
// client-node read goes through client-node's security context and undici's fetch, as client-node
// itself sends (its dispatcher carries proxies and plugin credentials); both load then. Watches are
// read here from either transport's answer: one line per event, as client-node's Watch reads them.
import type { KubeConfig } from '@kubernetes/client-node';
import { AccessTransport, type Answer } from './transport.ts';
import { readKubeconfig, type KubeAccess, type LightKubeconfig } from './kubeconfig.ts';
import { errorMessage, retry, systemClock, type Logger } from '@adci/common';
import type { KubeObject, KubePort, ListResult, ResourceRule, Selectors, WatchEvent } from './port.ts';

export const FIELD_MANAGER = 'adci';

export type { KubeObject, ListResult, WatchEvent } from './port.ts';

export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly details: unknown;
  constructor(status: number, reason: string, message: string, details?: unknown) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.details = details;
  }
}

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof KubeApiError && error.status === status;
}

/** 429, 5xx and transport errors are worth another try; the rest is the caller's answer. */
export function isTransient(error: unknown): boolean {
  // Server-side apply answers 500 for a field the schema does not know: that is final.
  if (error instanceof KubeApiError) {
    return (
      error.status === 429 || (error.status >= 500 && !error.message.startsWith('failed to create typed patch object'))
    );
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) return false;
  return error instanceof TypeError || (error as { code?: string })?.code !== undefined;
}

export interface KubeClientOptions {
  /** Kubeconfig contents (YAML); when absent, KUBECONFIG / ~/.kube/config / in-cluster. */
  kubeconfig?: string;
  context?: string;
  logger?: Logger;
  signal?: AbortSignal;
  /** Per-request deadline. */
  requestTimeoutMs?: number;
}

type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  /** Retry 429/5xx/network errors with back-off (default true; writes that are not idempotent pass false). */
  retry?: boolean;
}

/** Plural resource paths for the kinds the engine handles (namespaced unless noted). */
const RESOURCES: Record<string, { group: string; plural: string; namespaced?: false }> = {
  Deployment: { group: 'apps/v1', plural: 'deployments' },
  ReplicaSet: { group: 'apps/v1', plural: 'replicasets' },
  ControllerRevision: { group: 'apps/v1', plural: 'controllerrevisions' },
  Service: { group: 'v1', plural: 'services' },
  Pod: { group: 'v1', plural: 'pods' },
  ConfigMap: { group: 'v1', plural: 'configmaps' },
  Secret: { group: 'v1', plural: 'secrets' },
  ServiceAccount: { group: 'v1', plural: 'serviceaccounts' },
  Event: { group: 'v1', plural: 'events' },
  Namespace: { group: 'v1', plural: 'namespaces', namespaced: false },
  HorizontalPodAutoscaler: { group: 'autoscaling/v2', plural: 'horizontalpodautoscalers' },
  PodDisruptionBudget: { group: 'policy/v1', plural: 'poddisruptionbudgets' },
  EndpointSlice: { group: 'discovery.k8s.io/v1', plural: 'endpointslices' },
  Lease: { group: 'coordination.k8s.io/v1', plural: 'leases' },
  Ingress: { group: 'networking.k8s.io/v1', plural: 'ingresses' },
  NetworkPolicy: { group: 'networking.k8s.io/v1', plural: 'networkpolicies' },
  Role: { group: 'rbac.authorization.k8s.io/v1', plural: 'roles' },
  RoleBinding: { group: 'rbac.authorization.k8s.io/v1', plural: 'rolebindings' },
};

export function resourceOf(kind: string): { group: string; plural: string; apiGroup: string } {
  const known = RESOURCES[kind];
  if (!known) throw new Error(`kind ${kind} is not supported (supported: ${Object.keys(RESOURCES).join(', ')})`);
  const apiGroup = known.group.includes('/') ? (known.group.split('/')[0] ?? '') : '';
  return { group: known.group, plural: known.plural, apiGroup };
}

export function supportedKind(kind: string): boolean {
  return kind in RESOURCES;
}

export function collectionPath(kind: string, namespace: string | undefined): string {
  const { group, plural } = resourceOf(kind);
  const known = RESOURCES[kind];
  const prefix = group.includes('/') ? `/apis/${group}` : `/api/${group}`;
  if (known?.namespaced === false || namespace === undefined) return `${prefix}/${plural}`;
  return `${prefix}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
}

export function objectPath(kind: string, namespace: string, name: string): string {
  return `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}`;
}

export class KubeClient implements KubePort {
  /** client-node's KubeConfig, when it read the kubeconfig (see the top of this file). */
  readonly config: KubeConfig | undefined;
  /** Who read the kubeconfig: this module, or client-node. */
  readonly loader: 'adci' | 'client-node';
  readonly server: string;
  /** The kubeconfig context's namespace, if it names one. */
  readonly contextNamespace: string | undefined;
  private readonly access: KubeAccess | undefined;
  private readonly skipTLSVerify: boolean;
  private readonly logger: Logger | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly requestTimeoutMs: number;
  /**
   * client-node hands out a new undici Agent with every request's security context; used as is, each
   * call would open its own TCP + TLS connection (a new secure context, a handshake with the client
   * certificate). The first one is kept and reused, so calls share keep-alive connections; headers
   * (tokens, exec and OIDC credentials) are still applied to every request.
   */
  private dispatcher: unknown;
  /** The connection of a kubeconfig read here (transport.ts). */
  private transport: AccessTransport | undefined;

  /** Reads the kubeconfig (given, or KUBECONFIG / ~/.kube/config / in-cluster). */
  static async create(options: KubeClientOptions = {}): Promise<KubeClient> {
    const light = readKubeconfig(options);
    if (light?.access) return new KubeClient(options, light);
    const { KubeConfig } = await import('@kubernetes/client-node');
    const config = new KubeConfig();
    if (options.kubeconfig !== undefined) config.loadFromString(options.kubeconfig);
    else config.loadFromDefault();
    return new KubeClient(options, config);
  }

  /** Use KubeClient.create, which reads the kubeconfig. */
  constructor(options: KubeClientOptions, source: LightKubeconfig | KubeConfig) {
    const contexts = 'getContexts' in source ? source.getContexts().map((c) => c.name) : source.contexts;
    if (options.context && !contexts.includes(options.context)) {
      throw new Error(`context '${options.context}' is not in the kubeconfig (it has: ${contexts.join(', ')})`);
    }
    if ('getContexts' in source) {
      const config = source;
      if (options.context) config.setCurrentContext(options.context);
      const cluster = config.getCurrentCluster();
      if (!cluster) throw new Error('the kubeconfig has no current cluster');
      this.config = config;
      this.loader = 'client-node';
      this.server = cluster.server.replace(/\/+$/, '');
      this.skipTLSVerify = cluster.skipTLSVerify;
      this.contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace;
    } else {
      const access = source.access;
      if (!access) throw new Error('the kubeconfig has no current cluster');
      this.config = undefined;
      this.loader = 'adci';
      this.access = access;
      this.server = access.server.replace(/\/+$/, '');
      this.skipTLSVerify = access.skipTLSVerify;
      this.contextNamespace = access.contextNamespace;
    }
    this.logger = options.logger;
    this.signal = options.signal;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /**
   * Sends one request with the kubeconfig's credentials (applied each time: exec and OIDC tokens
   * refresh) over the shared connection pool; the answer's body is read by the caller. `signal` ends
   * the request and its body; a request it ends rejects with the signal's reason.
   */
  private async send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<Answer> {
    const access = this.access;
    if (access) {
      this.transport ??= new AccessTransport(access);
      return this.transport.send(url, method, { ...access.headers, ...headers }, body, signal);
    }
    const [{ RequestContext }, { fetch }] = await Promise.all([
      import('@kubernetes/client-node/dist/gen/http/http.js'),
      import('undici'),
    ]);
    const context = new RequestContext(url.toString(), method as never);
    await this.config?.applySecurityAuthentication(context);
    this.dispatcher ??= context.getDispatcher();
    try {
      const response = await fetch(url, {
        method,
        headers: { ...(context.getHeaders() as unknown as Record<string, string>), ...headers },
        body,
        dispatcher: (this.dispatcher ?? undefined) as never,
        signal,
      });
      return { status: response.status, body: response.body ?? new Blob([]).stream() };
    } catch (error) {
      throw signal.aborted ? signal.reason : error;
    }
  }

  /** The API server's URL of `path` with the query's defined values. */
  private url(path: string, query: Query = {}): URL {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** A request's signal: the per-request deadline, and the run's cancellation. */
  private deadline(): AbortSignal {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    return this.signal ? AbortSignal.any([timeout, this.signal]) : timeout;
  }

  /**
   * The kubeconfig's TLS material and credentials as https request options (ca, cert, key,
   * servername, rejectUnauthorized, auth, headers), as client-node's applyToHTTPSOptions sets them.
   */
  async applyToHTTPSOptions(options: Record<string, unknown> & { headers?: Record<string, unknown> }): Promise<void> {
    const access = this.access;
    if (!access) {
      await this.config?.applyToHTTPSOptions(options);
      return;
    }
    if (access.skipTLSVerify) options.rejectUnauthorized = false;
    if (access.tlsServerName) options.servername = access.tlsServerName;
    if (access.ca) options.ca = access.ca;
    if (access.cert) options.cert = access.cert;
    if (access.key) options.key = access.key;
    options.headers ??= {};
    if (access.headers.Authorization?.startsWith('Bearer '))
      options.headers.Authorization = access.headers.Authorization;
    if (access.basicAuth) options.auth = access.basicAuth;
  }

  /** One REST call; JSON in, JSON out. */
  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    const attempt = async (): Promise<T> => {
      const url = this.url(path, options.query);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
      const signal = this.deadline();
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const answer = await this.send(method, url, headers, body, signal);
      const text = await readText(answer, signal);
      if (answer.status >= 200 && answer.status < 300) return (text ? JSON.parse(text) : {}) as T;
      throw answerError(method, url, answer.status, text);
    };
    if (options.retry === false) return attempt();
    return this.retrying(`${method} ${path}`, attempt);
  }

  /** `attempt`, again with back-off while it fails with a transient error (isTransient). */
  private retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    return retry(attempt, {
      attempts: 6,
      initialMs: 250,
      maxMs: 4000,
      signal: this.signal,
      retryable: (error) => isTransient(error),
      onRetry: ({ error, delayMs }) =>
        this.logger?.debug(`${what}: ${(error as Error).message}; retrying in ${Math.round(delayMs)} ms`),
    });
  }

  /**
   * Reaches the API server once, with the calls' retries. For a kubeconfig read here that is the
   * connection the calls then use (no request of its own, so no round trip before the first call);
   * otherwise GET /version. Rejects with what kept it from answering: a KubeApiError means the
   * server answered (it is reachable), anything else that it could not be reached.
   */
  async reach(): Promise<void> {
    const access = this.access;
    if (!access) {
      await this.request('GET', '/version');
      return;
    }
    this.transport ??= new AccessTransport(access);
    const transport = this.transport;
    await this.retrying('connect', () => transport.ready(new URL(this.server), this.deadline()));
  }

  async get<T extends KubeObject>(kind: string, namespace: string, name: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', objectPath(kind, namespace, name));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async list<T extends KubeObject>(kind: string, namespace: string, selectors: Selectors = {}): Promise<ListResult<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await this.request<{ items: T[]; metadata: { resourceVersion: string; continue?: string } }>(
        'GET',
        collectionPath(kind, namespace),
        { query: { ...selectors, limit: 500, continue: continueToken } },
      );
      for (const item of page.items) items.push({ ...item, kind, apiVersion: resourceOf(kind).group });
      resourceVersion = page.metadata.resourceVersion;
      continueToken = page.metadata.continue || undefined;
    } while (continueToken);
    return { items, resourceVersion };
  }

  /** Server-side apply with the adci field manager; `dryRun` validates without persisting. */
  async apply<T extends KubeObject>(
    object: KubeObject,
    namespace: string,
    options: { dryRun?: boolean } = {},
  ): Promise<T> {
    const kind = object.kind ?? '';
    return this.request<T>('PATCH', objectPath(kind, namespace, object.metadata.name), {
      query: {
        fieldManager: FIELD_MANAGER,
        force: true,
        fieldValidation: 'Strict',
        dryRun: options.dryRun ? 'All' : undefined,
      },
      body: { ...object, metadata: { ...object.metadata, namespace } },
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** JSON merge patch: only the keys given change (a selector key, an annotation, replicas). */
  async mergePatch<T extends KubeObject>(
    kind: string,
    namespace: string,
    name: string,
    patch: unknown,
    options: { dryRun?: boolean; subresource?: string } = {},
  ): Promise<T> {
    const path = objectPath(kind, namespace, name) + (options.subresource ? `/${options.subresource}` : '');
    return this.request<T>('PATCH', path, {
      query: { fieldManager: FIELD_MANAGER, dryRun: options.dryRun ? 'All' : undefined },
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  async create<T extends KubeObject>(object: KubeObject, namespace: string): Promise<T> {
    return this.request<T>('POST', collectionPath(object.kind ?? '', namespace), {
      query: { fieldManager: FIELD_MANAGER },
      body: { ...object, metadata: { ...object.metadata, namespace } },
      retry: false,
    });
  }

  async replace<T extends KubeObject>(object: KubeObject, namespace: string): Promise<T> {
    return this.request<T>('PUT', objectPath(object.kind ?? '', namespace, object.metadata.name), {
      query: { fieldManager: FIELD_MANAGER },
      body: { ...object, metadata: { ...object.metadata, namespace } },
      retry: false,
    });
  }

  async delete(kind: string, namespace: string, name: string, body?: unknown): Promise<boolean> {
    try {
      await this.request('DELETE', objectPath(kind, namespace, name), { body });
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  }

  /** SelfSubjectRulesReview: what the current user may do in `namespace`. */
  async rulesReview(namespace: string): Promise<ResourceRule[]> {
    const review = await this.request<{ status?: { resourceRules?: ResourceRule[] } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace } } },
    );
    return review.status?.resourceRules ?? [];
  }

  /** The last lines of a container's log (plain text, through the API server's pods/log). */
  async podLogs(
    namespace: string,
    pod: string,
    container: string,
    options: { tailLines: number; previous?: boolean },
  ): Promise<string> {
    const url = this.url(`${objectPath('Pod', namespace, pod)}/log`, {
      container,
      tailLines: options.tailLines,
      limitBytes: 64 * 1024,
      previous: options.previous ? true : undefined,
    });
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    const answer = await this.send('GET', url, {}, undefined, signal);
    const text = await readText(answer, signal);
    if (answer.status >= 200 && answer.status < 300) return text;
    throw answerError('GET', url, answer.status, text);
  }

  /** Can the current user do `verb` on `resource` in `namespace`? (SelfSubjectAccessReview) */
  async canI(verb: string, group: string, resource: string, namespace: string, subresource?: string): Promise<boolean> {
    const review = await this.request<{ status?: { allowed?: boolean } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb, group, resource, namespace, subresource } },
        },
      },
    );
    return review.status?.allowed === true;
  }

  /**
   * One watch request: `onEvent` gets each event line's type and object until it returns true or
   * the server ends the stream (both resolve). A failed request or stream rejects; so does a stream
   * silent for the request deadline (a TimeoutError), as client-node's Watch does. Lines that are not
   * JSON are skipped, as there.
   */
  private async watchEvents<T>(
    path: string,
    query: Query,
    signal: AbortSignal,
    onEvent: (type: string, object: T) => boolean,
  ): Promise<void> {
    const silence = new AbortController();
    const timeout = (): void =>
      silence.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    let timer = setTimeout(timeout, this.requestTimeoutMs);
    const ended = AbortSignal.any([signal, silence.signal]);
    try {
      const answer = await this.send('GET', this.url(path, { ...query, watch: true }), {}, undefined, ended);
      if (answer.status !== 200) throw answerError('GET', this.url(path), answer.status, await readText(answer, ended));
      const decoder = new TextDecoder();
      let rest = '';
      try {
        for await (const chunk of answer.body) {
          clearTimeout(timer);
          timer = setTimeout(timeout, this.requestTimeoutMs);
          rest += decoder.decode(chunk, { stream: true });
          for (let end = rest.indexOf('\n'); end >= 0; end = rest.indexOf('\n')) {
            const line = rest.slice(0, end);
            rest = rest.slice(end + 1);
            let event: { type?: unknown; object?: unknown };
            try {
              event = JSON.parse(line) as typeof event;
            } catch {
              continue;
            }
            if (onEvent(String(event.type), event.object as T)) return;
          }
        }
      } catch (error) {
        throw ended.aborted ? ended.reason : error;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * List, then watch from the list's resourceVersion, calling `onChange` with the current set of
   * objects after every event until it returns something other than undefined. A dropped watch
   * resumes from the last resourceVersion; 410 Gone relists. Ends with the signal's reason.
   */
  async watchUntil<T extends KubeObject, R>(
    kind: string,
    namespace: string,
    selectors: Selectors,
    onChange: (objects: Map<string, T>, event?: WatchEvent<T>) => R | undefined,
    signal: AbortSignal,
  ): Promise<R> {
    const objects = new Map<string, T>();
    const relist = async (): Promise<string> => {
      const listed = await this.list<T>(kind, namespace, selectors);
      objects.clear();
      for (const item of listed.items) objects.set(item.metadata.name, item);
      return listed.resourceVersion;
    };
    let resourceVersion = await relist();
    const first = onChange(objects);
    if (first !== undefined) return first;
    let failures = 0;
    for (;;) {
      signal.throwIfAborted();
      let outcome: { result?: R; gone?: boolean; error?: unknown; thrown?: unknown } = {};
      try {
        await this.watchEvents(
          collectionPath(kind, namespace),
          { ...selectors, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 240 },
          signal,
          (type, object: T & { code?: number }) => {
            if (type === 'ERROR') {
              outcome = object.code === 410 ? { gone: true } : { error: new Error(JSON.stringify(object)) };
              return true;
            }
            failures = 0;
            if (object.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
            if (type === 'BOOKMARK') return false;
            const typed = { ...object, kind, apiVersion: resourceOf(kind).group } as T;
            if (type === 'DELETED') objects.delete(object.metadata.name);
            else objects.set(object.metadata.name, typed);
            try {
              const result = onChange(objects, { type: type as WatchEvent<T>['type'], object: typed });
              if (result === undefined) return false;
              outcome = { result };
            } catch (error) {
              // The caller's own error ends the watch: it is not a dropped connection to retry.
              outcome = { thrown: error };
            }
            return true;
          },
        );
      } catch (error) {
        outcome = { error };
      }
      if ('thrown' in outcome) throw outcome.thrown;
      if (outcome.result !== undefined) return outcome.result;
      signal.throwIfAborted();
      if (outcome.gone) {
        resourceVersion = await relist();
        const again = onChange(objects);
        if (again !== undefined) return again;
        continue;
      }
      if (outcome.error) {
        failures++;
        this.logger?.debug(`watch ${kind} dropped: ${errorMessage(outcome.error)}`);
        if (failures > 8) throw outcome.error instanceof Error ? outcome.error : new Error(errorMessage(outcome.error));
        // The Clock's sleep: a cancel during the back-off ends the wait at once.
        await systemClock.sleep(Math.min(4000, 200 * 2 ** failures), signal);
      }
    }
  }
}

/** The whole body as text; a body ended by `signal` rejects with its reason. */
async function readText(answer: Answer, signal: AbortSignal): Promise<string> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of answer.body) chunks.push(chunk);
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An answer outside 2xx as an error: the Status object's reason and message when it is one. */
function answerError(method: string, url: URL, status: number, text: string): KubeApiError {
  let parsed: { reason?: string; message?: string; details?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // A proxy or load balancer in front of the API server answered with HTML or plain text.
  }
  const message = parsed.message ?? `${method} ${url.pathname} answered ${status}`;
  return new KubeApiError(status, parsed.reason ?? String(status), message, parsed.details);
}

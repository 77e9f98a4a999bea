// A small client of Prometheus's HTTP API (instant queries), whose errors say which of the
// distinct things went wrong: unreachable, refused credentials, a query Prometheus rejects
// (with its own message), a server error (retried), or an answer that is not Prometheus's.
import type { Dispatcher, request as undiciRequest } from 'undici';
import { retry, type Clock, type Logger } from '@adci/common/basics';

export type PrometheusErrorKind = 'unreachable' | 'bad-query' | 'server-error' | 'unauthorized' | 'bad-response';

export class PrometheusError extends Error {
  readonly kind: PrometheusErrorKind;
  constructor(kind: PrometheusErrorKind, message: string) {
    super(message);
    this.name = 'PrometheusError';
    this.kind = kind;
  }
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface QueryResult {
  type: 'scalar' | 'vector';
  samples: Sample[];
}

export interface PrometheusAuth {
  bearerToken?: string;
  username?: string;
  password?: string;
}

export interface PrometheusClientOptions {
  url: string;
  auth?: PrometheusAuth;
  /** Per request (connect + answer). Default 10 s. */
  timeoutMs?: number;
  /** Attempts for transient failures (unreachable, 5xx, 429). Default 4. */
  attempts?: number;
  retryInitialMs?: number;
  clock?: Clock;
  logger?: Logger;
  signal?: AbortSignal;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** The URL without credentials, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href.replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

export class PrometheusClient {
  readonly url: string;
  private readonly endpoint: URL;
  private readonly headers: Record<string, string>;
  /** undici and a connection pool, loaded by the first query: a run that queries nothing never loads them. */
  private transport: Promise<{ request: typeof undiciRequest; dispatcher: Dispatcher }> | undefined;
  private readonly options: PrometheusClientOptions;

  constructor(options: PrometheusClientOptions) {
    this.options = options;
    const base = new URL(options.url);
    const username = decodeURIComponent(base.username) || options.auth?.username;
    const password = decodeURIComponent(base.password) || options.auth?.password;
    base.username = '';
    base.password = '';
    this.url = base.href.replace(/\/$/, '');
    this.endpoint = new URL(`${base.pathname.replace(/\/$/, '')}/api/v1/query`, base);
    this.headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (options.auth?.bearerToken) this.headers.authorization = `Bearer ${options.auth.bearerToken}`;
    else if (username)
      this.headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  }

  /** One instant query, retried while the failure is transient; `time` in Unix seconds (default now). */
  async query(promql: string, time?: number): Promise<QueryResult> {
    const attempts = this.options.attempts ?? 4;
    return retry(() => this.queryOnce(promql, time), {
      attempts,
      initialMs: this.options.retryInitialMs ?? 250,
      maxMs: 2000,
      clock: this.options.clock,
      signal: this.options.signal,
      retryable: (error) =>
        error instanceof PrometheusError && (error.kind === 'unreachable' || error.kind === 'server-error'),
      onRetry: ({ error, attempt, delayMs }) =>
        this.options.logger?.debug(
          `Prometheus query attempt ${attempt} failed (${(error as Error).message}); retrying in ${Math.round(delayMs)}ms`,
        ),
    }).catch((error: unknown) => {
      if (error instanceof PrometheusError && (error.kind === 'unreachable' || error.kind === 'server-error')) {
        throw new PrometheusError(error.kind, `${error.message} (after ${attempts} attempts)`);
      }
      throw error;
    });
  }

  private async queryOnce(promql: string, time?: number): Promise<QueryResult> {
    const body = new URLSearchParams({ query: promql });
    if (time !== undefined) body.set('time', time.toFixed(3));
    const timeout = this.options.timeoutMs ?? 10_000;
    this.transport ??= import('undici').then(({ Agent, request }) => ({
      request,
      dispatcher: new Agent({ connectTimeout: timeout, headersTimeout: timeout, bodyTimeout: timeout }),
    }));
    const { request, dispatcher } = await this.transport;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.endpoint, {
        method: 'POST',
        headers: this.headers,
        body: body.toString(),
        dispatcher,
        signal: this.options.signal,
      });
    } catch (error) {
      if (this.options.signal?.aborted) throw error;
      // Every failure to get an answer counts as unreachable; the code says which kind.
      const code = errorCode(error) ?? (error as Error).name;
      const kind = UNREACHABLE_CODES.has(code) ? code : `${code}: ${(error as Error).message}`;
      throw new PrometheusError('unreachable', `Prometheus at ${this.url} is unreachable (${kind})`);
    }
    const text = await response.body.text().catch(() => '');
    const status = response.statusCode;
    let json: { status?: string; errorType?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      json = {};
    }
    if (status === 401 || status === 403) {
      throw new PrometheusError('unauthorized', `Prometheus at ${this.url} refused the credentials (HTTP ${status})`);
    }
    if (json.status === 'error' && (json.errorType === 'bad_data' || status === 400)) {
      throw new PrometheusError('bad-query', `Prometheus rejected the query: ${json.error ?? `HTTP ${status}`}`);
    }
    if (json.status === 'error' && status === 422) {
      // Valid PromQL that cannot be executed (e.g. many-to-many matching): the user's to fix.
      throw new PrometheusError(
        'bad-query',
        `Prometheus could not execute the query (${json.errorType}): ${json.error}`,
      );
    }
    if (status >= 500 || status === 429) {
      const reason = json.error ? `: ${json.error}` : '';
      throw new PrometheusError('server-error', `Prometheus at ${this.url} answered HTTP ${status}${reason}`);
    }
    if (status !== 200 || json.status !== 'success' || !json.data) {
      throw new PrometheusError(
        'bad-response',
        `${this.url} did not answer as Prometheus's query API does (HTTP ${status}${json.error ? `: ${json.error}` : ''}); is it the Prometheus base URL?`,
      );
    }
    return parseData(json.data, this.url);
  }

  async close(): Promise<void> {
    const transport = this.transport;
    this.transport = undefined;
    if (transport) await (await transport).dispatcher.close();
  }
}

/** How Prometheus writes the infinities (Go's strconv), which Number() reads as NaN. */
const INFINITIES: Record<string, number> = { '+Inf': Infinity, '-Inf': -Infinity, Inf: Infinity };

function sampleValue(pair: unknown): number {
  // Prometheus sends [time, "value"], the value as a string (it may be "NaN", "+Inf", "-Inf"). An
  // infinity is a measurement (an error rate over zero requests), not the absence of one (NaN).
  const raw: unknown = Array.isArray(pair) ? pair[1] : undefined;
  return typeof raw === 'string' ? (INFINITIES[raw] ?? Number(raw)) : NaN;
}

function parseData(data: { resultType?: string; result?: unknown }, url: string): QueryResult {
  switch (data.resultType) {
    case 'scalar':
      return { type: 'scalar', samples: [{ labels: {}, value: sampleValue(data.result) }] };
    case 'vector': {
      const list = Array.isArray(data.result)
        ? (data.result as { metric?: Record<string, string>; value?: unknown }[])
        : [];
      return { type: 'vector', samples: list.map((s) => ({ labels: s.metric ?? {}, value: sampleValue(s.value) })) };
    }
    case 'matrix':
      throw new PrometheusError(
        'bad-query',
        'the query returns a range vector (matrix); give an instant vector or a scalar, e.g. wrap it in rate(...[1m])',
      );
    default:
      throw new PrometheusError('bad-response', `${url} answered a result of type ${String(data.resultType)}`);
  }
}

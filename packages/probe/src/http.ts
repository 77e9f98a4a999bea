// The one HTTP client of the engine, on undici: full requests for checks (body kept, bounded)
// and a lean fire-and-count path for the load phase that skips body buffering.
import { Agent, Client, type Dispatcher } from 'undici';

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: string;
  /** True when the body was longer than the kept limit. */
  truncated: boolean;
  latencyMs: number;
}

/** Why no response came: connection refused, reset, timeout, TLS, DNS, aborted or other. */
export type TransportErrorKind =
  'connection-refused' | 'connection-reset' | 'timeout' | 'tls' | 'dns' | 'aborted' | 'other';

export class TransportError extends Error {
  readonly kind: TransportErrorKind;
  constructor(kind: TransportErrorKind, message: string) {
    super(message);
    this.name = 'TransportError';
    this.kind = kind;
  }
}

/** Called once per load request with the status (0 on a transport error) and the error kind. */
export type LoadCallback = (status: number, errorKind: TransportErrorKind | undefined) => void;

export interface LoadRequest {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** Something load requests can be fired through. */
export interface LoadSender {
  /** Sends without keeping the body; calls `done` exactly once, never synchronously. */
  fire(request: LoadRequest, timeoutMs: number, done: LoadCallback): void;
}

export interface HttpClient extends LoadSender {
  send(request: HttpRequest): Promise<HttpResponse>;
  /**
   * A sender with its own keep-alive connection per origin, for one closed-model worker: going
   * straight to an undici Client skips the pool's scheduling (measurably faster than a Pool).
   */
  dedicated(): LoadSender;
  close(): Promise<void>;
}

export interface HttpClientOptions {
  insecureTls?: boolean;
  /** Connections per origin; undefined for no cap. */
  connections?: number;
  /** Largest body kept for assertions. */
  maxBodyBytes?: number;
}

export function classifyError(error: unknown): TransportErrorKind {
  const e = error as { code?: string; name?: string; cause?: { code?: string } } | undefined;
  const code = e?.code ?? e?.cause?.code ?? '';
  if (e?.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return 'timeout';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'timeout';
  if (e?.name === 'AbortError' || code === 'UND_ERR_ABORTED') return 'aborted';
  if (code === 'ECONNREFUSED') return 'connection-refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') {
    return 'connection-reset';
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (code.startsWith('ERR_TLS') || code.startsWith('CERT_') || code.includes('SELF_SIGNED') || code.includes('CERT')) {
    return 'tls';
  }
  return 'other';
}

function headerRecord(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Counts a load response without keeping its body; methods on the prototype keep it cheap per request. */
class LoadHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private done: LoadCallback | undefined;

  constructor(done: LoadCallback) {
    this.done = done;
  }

  onRequestStart(): void {}

  onResponseStart(_controller: unknown, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    const done = this.done;
    this.done = undefined;
    done?.(this.status, undefined);
  }

  onResponseError(_controller: unknown, error: Error): void {
    const done = this.done;
    this.done = undefined;
    // Deferred: undici is still failing its queue here, and a closed-model worker that dispatched
    // its next request from inside this call would trip undici's own assertions.
    const kind = classifyError(error);
    if (done) setImmediate(() => done(0, kind));
  }
}

export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const agentOptions: Agent.Options = { connect: { rejectUnauthorized: !options.insecureTls } };
  if (options.connections !== undefined) agentOptions.connections = options.connections;
  const agent = new Agent(agentOptions);

  async function send(request: HttpRequest): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(request.timeoutMs)));
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const started = performance.now();
    try {
      const response = await agent.request({
        origin: request.url.origin,
        path: `${request.url.pathname}${request.url.search}`,
        method: request.method as Dispatcher.HttpMethod,
        headers: request.headers,
        body: request.body ?? null,
        signal,
        headersTimeout: Math.ceil(request.timeoutMs),
        bodyTimeout: Math.ceil(request.timeoutMs),
      });
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        if (kept < maxBodyBytes) {
          chunks.push(chunk);
          kept += chunk.length;
        } else truncated = true;
      }
      const latencyMs = performance.now() - started;
      return {
        status: response.statusCode,
        headers: headerRecord(response.headers),
        body: Buffer.concat(chunks).toString('utf8'),
        truncated,
        latencyMs,
      };
    } catch (error) {
      const kind = timeout.aborted && !request.signal?.aborted ? 'timeout' : classifyError(error);
      const detail =
        kind === 'timeout' ? `no response within ${Math.round(request.timeoutMs)}ms` : (error as Error).message;
      throw new TransportError(kind, `${kind}: ${detail}`);
    }
  }

  function fireOn(dispatcher: Dispatcher, request: LoadRequest, timeoutMs: number, done: LoadCallback): void {
    const handler = new LoadHandler(done);
    try {
      dispatcher.dispatch(
        {
          origin: request.origin,
          path: request.path,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers,
          body: request.body ?? null,
          headersTimeout: Math.ceil(timeoutMs),
          bodyTimeout: Math.ceil(timeoutMs),
        },
        handler,
      );
    } catch (error) {
      handler.onResponseError(undefined, error as Error);
    }
  }

  const dedicatedClients: Client[] = [];
  function dedicated(): LoadSender {
    const clients = new Map<string, Client>();
    return {
      fire(request, timeoutMs, done) {
        let client = clients.get(request.origin);
        if (!client) {
          client = new Client(request.origin, { connect: { rejectUnauthorized: !options.insecureTls } });
          clients.set(request.origin, client);
          dedicatedClients.push(client);
        }
        fireOn(client, request, timeoutMs, done);
      },
    };
  }

  return {
    send,
    fire: (request, timeoutMs, done) => fireOn(agent, request, timeoutMs, done),
    dedicated,
    close: async () => {
      await Promise.all([agent.destroy(), ...dedicatedClients.map((c) => c.destroy())]);
    },
  };
}

// The one HTTP client of the engine: full requests for checks (body kept, bounded) over node:http
// and node:https, and a lean fire-and-count path for the load phase on undici that skips body
// buffering. undici (its module and its WebAssembly parser) is loaded only when a load request is
// fired: a run of checks alone does not pay for it (start-up, issue 19). Both can carry a
// transport's own TLS identity and headers, e.g. to reach a Service through the Kubernetes API
// server's service proxy with the kubeconfig's CA, client certificate or token.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { urlToHttpOptions } from 'node:url';
import type * as Undici from 'undici';
import type { Agent, Client, Dispatcher } from 'undici';

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
  /** True when the body was longer than the kept limit (`body` then holds its first `truncatedAt` bytes). */
  truncated: boolean;
  /** The limit, in bytes, when the body was truncated. */
  truncatedAt?: number;
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
  /**
   * True for the network client made by `createHttpClient`: the closed model may then open its own
   * raw keep-alive connections to an `http:` target (raw-http.ts). Test doubles leave it unset and
   * see every request through `fire`.
   */
  readonly allowsRawHttp?: boolean;
  /**
   * Loads what `fire` and `dedicated` use (undici) ahead of a load phase, so its first requests
   * do not wait for a module to load. Optional: a client without it is ready at once.
   */
  prepareLoad?(): Promise<void>;
  /** Values that must never be shown (the transport's header values); runSmoke masks them. */
  readonly secrets?: readonly string[];
  close(): Promise<void>;
}

/** The TLS identity of every connection, PEM text as in a kubeconfig's *-data fields decoded. */
export interface HttpTlsOptions {
  /** Certificate authorities to trust instead of the system's. */
  ca?: string;
  /** Client certificate (chain) and its private key, for servers that require one. */
  cert?: string;
  key?: string;
  /** Name the server's certificate must carry (and SNI), when it differs from the URL's host. */
  servername?: string;
}

export interface HttpClientOptions {
  insecureTls?: boolean;
  tls?: HttpTlsOptions;
  /**
   * Sent with every request, checks and load alike; they win over a request's header of the same
   * name (credentials of the transport, e.g. `authorization: Bearer <token>` for the API server).
   * Values are secrets: they are listed in `HttpClient.secrets`.
   */
  headers?: Record<string, string>;
  /** Connections per origin; undefined for no cap. */
  connections?: number;
  /** Largest body kept for assertions, in bytes (default 4 MiB); the rest is read and dropped. */
  maxBodyBytes?: number;
}

/** The body kept for assertions unless a setting says otherwise: 4 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

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
  // OpenSSL's verification codes (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ...), Node's
  // ERR_TLS_* and the peer's alerts (ERR_SSL_*).
  if (
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    code.startsWith('UNABLE_TO_') ||
    code.includes('CERT') ||
    code.includes('SELF_SIGNED')
  ) {
    return 'tls';
  }
  return 'other';
}

/** Lower-case names, every repeated header joined with ', ' (node:http would drop some repeats). */
function headerRecord(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}

/** undici, loaded on the first load request (its first use), then kept. */
let undici: typeof Undici | undefined;
let undiciLoading: Promise<typeof Undici> | undefined;
function loadUndici(): Promise<typeof Undici> {
  undiciLoading ??= import('undici').then((module) => (undici = module));
  return undiciLoading;
}

/** Reads a response's body, keeping exactly its first `max` bytes, whatever the chunking. */
async function readBounded(response: IncomingMessage, max: number): Promise<{ body: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    const room = max - kept;
    if (chunk.length > room) truncated = true;
    if (room > 0) {
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      kept += Math.min(room, chunk.length);
    }
  }
  return { body: Buffer.concat(chunks).toString('utf8'), truncated };
}

/**
 * Counts a load response without keeping its body. A sender recycles its handlers (and builds a
 * request's dispatch options once), so the hot path allocates nothing of its own per request.
 */
class LoadHandler implements Dispatcher.DispatchHandler {
  status = 0;
  done: LoadCallback | undefined = undefined;
  private readonly spare: LoadHandler[];

  constructor(spare: LoadHandler[]) {
    this.spare = spare;
  }

  onRequestStart(): void {}

  onResponseStart(_controller: unknown, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    const done = this.done;
    if (!done) return;
    this.done = undefined;
    done(this.status, undefined);
    // Only once `done` has returned: should it throw, undici reports that to this handler's
    // onResponseError, which must not reach a request that reused it.
    this.spare.push(this);
  }

  onResponseError(_controller: unknown, error: Error): void {
    const done = this.done;
    if (!done) return;
    this.done = undefined;
    // Deferred: undici is still failing its queue here, and a closed-model worker that dispatched
    // its next request from inside this call would trip undici's own assertions.
    const kind = classifyError(error);
    setImmediate(() => done(0, kind));
    this.spare.push(this);
  }
}

/** Fires load requests through one dispatcher, with dispatch options built once per request and timeout. */
class LoadDispatch {
  private readonly spare: LoadHandler[] = [];
  private readonly options = new WeakMap<LoadRequest, { timeoutMs: number; options: Dispatcher.DispatchOptions }>();
  private readonly transportHeaders: Record<string, string> | undefined;

  constructor(transportHeaders: Record<string, string> | undefined) {
    this.transportHeaders = transportHeaders;
  }

  fire(dispatcher: Dispatcher, request: LoadRequest, timeoutMs: number, done: LoadCallback): void {
    let cached = this.options.get(request);
    if (cached?.timeoutMs !== timeoutMs) {
      cached = { timeoutMs, options: dispatchOptions(request, timeoutMs, this.transportHeaders) };
      this.options.set(request, cached);
    }
    const handler = this.spare.pop() ?? new LoadHandler(this.spare);
    handler.status = 0;
    handler.done = done;
    try {
      dispatcher.dispatch(cached.options, handler);
    } catch (error) {
      handler.onResponseError(undefined, error as Error);
    }
  }
}

function dispatchOptions(
  request: LoadRequest,
  timeoutMs: number,
  transportHeaders: Record<string, string> | undefined,
): Dispatcher.DispatchOptions {
  const timeout = Math.ceil(timeoutMs);
  return {
    origin: request.origin,
    path: request.path,
    method: request.method,
    headers: withTransportHeaders(request.headers, transportHeaders),
    // Encoded once here rather than by undici on every request.
    body: request.body === undefined ? null : Buffer.from(request.body),
    headersTimeout: timeout,
    bodyTimeout: timeout,
  };
}

/** A request's headers with the transport's on top; names compared without case. */
function withTransportHeaders(
  headers: Record<string, string>,
  transport: Record<string, string> | undefined,
): Record<string, string> {
  if (!transport) return headers;
  const taken = new Set(Object.keys(transport).map((name) => name.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!taken.has(name.toLowerCase())) out[name] = value;
  return Object.assign(out, transport);
}

/** Connect options of every socket: verification on unless insecureTls, plus the TLS identity. */
function connectOptions(options: HttpClientOptions): ConnectionOptions {
  const connect: ConnectionOptions = { rejectUnauthorized: !options.insecureTls };
  const { ca, cert, key, servername } = options.tls ?? {};
  if ((cert === undefined) !== (key === undefined)) {
    throw new TypeError('HTTP client: tls.cert and tls.key go together; one of them is missing');
  }
  if (ca !== undefined) connect.ca = ca;
  if (cert !== undefined) connect.cert = cert;
  if (key !== undefined) connect.key = key;
  if (servername !== undefined) connect.servername = servername;
  return connect;
}

/** The header values, and the credential inside `Bearer xyz`, to mask wherever results are shown. */
function transportSecrets(headers: Record<string, string> | undefined): string[] {
  const secrets: string[] = [];
  for (const value of Object.values(headers ?? {})) {
    secrets.push(value);
    const credential = /^(?:Bearer|Basic|Token)\s+(\S+)$/i.exec(value);
    if (credential) secrets.push(credential[1] as string);
  }
  return secrets;
}

export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const transportHeaders =
    options.headers && Object.keys(options.headers).length > 0 ? { ...options.headers } : undefined;
  for (const [name, value] of Object.entries(transportHeaders ?? {})) {
    // Checked here so that a bad header names itself, and never shows its (secret) value.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      throw new TypeError(`HTTP client: header '${name.replace(/[^\x20-\x7e]/g, '?')}' is not a valid header`);
    }
  }
  const connect = connectOptions(options);
  const maxSockets = options.connections ?? Infinity;
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets, ...connect });

  async function send(request: HttpRequest): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(request.timeoutMs)));
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const started = performance.now();
    try {
      const https = request.url.protocol === 'https:';
      if (!https && request.url.protocol !== 'http:')
        throw new TypeError(`unsupported protocol ${request.url.protocol}`);
      // The URL's user and password are not sent (as with any other client of this engine).
      const { auth: _auth, ...target } = urlToHttpOptions(request.url);
      const headers = withTransportHeaders(request.headers, transportHeaders);
      const body = request.body === undefined ? undefined : Buffer.from(request.body);
      if (body && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length'))
        headers['content-length'] = String(body.length);
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = (https ? httpsRequest : httpRequest)({
          ...target,
          ...(https ? connect : {}),
          method: request.method,
          headers,
          agent: https ? httpsAgent : httpAgent,
          signal,
        });
        req.once('response', resolve);
        req.once('error', reject);
        req.end(body);
      });
      const { body: text, truncated } = await readBounded(response, maxBodyBytes);
      const latencyMs = performance.now() - started;
      return {
        status: response.statusCode ?? 0,
        headers: headerRecord(response.rawHeaders),
        body: text,
        truncated,
        ...(truncated ? { truncatedAt: maxBodyBytes } : {}),
        latencyMs,
      };
    } catch (error) {
      const kind = timeout.aborted && !request.signal?.aborted ? 'timeout' : classifyError(error);
      const detail =
        kind === 'timeout' ? `no response within ${Math.round(request.timeoutMs)}ms` : (error as Error).message;
      throw new TransportError(kind, `${kind}: ${detail}`);
    }
  }

  // The load path: undici's Agent (shared) and a Client per origin per closed-model worker.
  let agent: Agent | undefined;
  const sharedAgent = (module: typeof Undici): Agent => {
    if (!agent) {
      const agentOptions: Agent.Options = { connect };
      if (options.connections !== undefined) agentOptions.connections = options.connections;
      agent = new module.Agent(agentOptions);
    }
    return agent;
  };
  /** Runs `use` with undici at once when it is loaded, else once it is (never synchronously then). */
  const withUndici = (use: (module: typeof Undici) => void, done: LoadCallback): void => {
    if (undici) return use(undici);
    loadUndici().then(use, (error: unknown) => done(0, classifyError(error)));
  };
  const shared = new LoadDispatch(transportHeaders);
  const dedicatedClients: Client[] = [];
  function dedicated(): LoadSender {
    const dispatch = new LoadDispatch(transportHeaders);
    const clients = new Map<string, Client>();
    let lastOrigin = '';
    let lastClient: Client | undefined;
    return {
      fire(request, timeoutMs, done) {
        const client = request.origin === lastOrigin ? lastClient : clients.get(request.origin);
        if (client) {
          lastOrigin = request.origin;
          lastClient = client;
          dispatch.fire(client, request, timeoutMs, done);
          return;
        }
        withUndici((module) => {
          let made = clients.get(request.origin);
          if (!made) {
            made = new module.Client(request.origin, { connect });
            clients.set(request.origin, made);
            dedicatedClients.push(made);
          }
          lastOrigin = request.origin;
          lastClient = made;
          dispatch.fire(made, request, timeoutMs, done);
        }, done);
      },
    };
  }

  return {
    send,
    fire: (request, timeoutMs, done) =>
      withUndici((module) => shared.fire(sharedAgent(module), request, timeoutMs, done), done),
    dedicated,
    prepareLoad: async () => {
      await loadUndici();
    },
    // raw-http.ts speaks plain http: only and knows nothing of the transport's headers.
    allowsRawHttp: transportHeaders === undefined,
    secrets: transportSecrets(transportHeaders),
    close: async () => {
      httpAgent.destroy();
      httpsAgent.destroy();
      await Promise.all([agent?.destroy(), ...dedicatedClients.map((c) => c.destroy())]);
    },
  };
}

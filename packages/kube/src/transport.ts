// How KubeClient reaches the API server for a kubeconfig read by adci (kubeconfig.ts): one TLS
// connection that offers h2 and http/1.1 (ALPN), as client-go (kubectl) and undici do. When the
// server picks HTTP/2, as the API server does, every call and watch of the run is a stream on that
// one connection: one handshake per run, however many calls run side by side. A server or proxy
// that only speaks HTTP/1.1 is served by a node:https keep-alive pool instead (then side-by-side
// calls open connections of their own). node:http2 or node:https loads only when it is needed.
import { isIP } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { ClientHttp2Session } from 'node:http2';
import type { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KubeAccess } from './kubeconfig.ts';

/** node:https and its keep-alive pool, for a server that speaks HTTP/1.1 only. */
interface Http1 {
  request: typeof httpsRequest;
  agent: HttpsAgent;
}

/** An answer: its status, and its body as it arrives. */
export interface Answer {
  status: number;
  body: AsyncIterable<Uint8Array>;
}

export class AccessTransport {
  private readonly access: KubeAccess;
  private session: ClientHttp2Session | undefined;
  /** The connection being made; resolves to undefined when the server does not speak HTTP/2. */
  private connecting: Promise<ClientHttp2Session | undefined> | undefined;
  /** node:https and its keep-alive pool, once the server turned out to speak HTTP/1.1 only. */
  private http1: Http1 | undefined;
  /** Streams open on each session: while a session has some, it keeps the process alive. */
  private readonly open = new WeakMap<ClientHttp2Session, number>();
  private readonly connectTimeoutMs: number;

  /** `connectTimeoutMs`: how long the TCP and TLS handshakes may take (undici's default, 10 s). */
  constructor(access: KubeAccess, options: { connectTimeoutMs?: number } = {}) {
    this.access = access;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  /**
   * Sends one request; resolves when the answer's head arrives. `signal` ends the request and its
   * body; a request it ends rejects with the signal's reason (the shared connection stays).
   */
  async send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<Answer> {
    signal.throwIfAborted();
    const session = this.http1 ? undefined : await untilAborted(this.h2(url), signal);
    // No session: the connection found HTTP/1.1 only, and set up the pool.
    if (!session) return sendHttp1(this.http1 as Http1, url, method, headers, body, signal);
    const h2Headers: Record<string, string> = { ':method': method, ':path': url.pathname + url.search };
    for (const [name, value] of Object.entries(headers)) h2Headers[name.toLowerCase()] = value;
    return new Promise((resolve, reject) => {
      const stream = session.request(h2Headers, { signal, endStream: body === undefined });
      this.opened(session);
      stream.once('close', () => this.closed(session));
      stream.once('response', (head) => resolve({ status: Number(head[':status']), body: stream }));
      stream.once('error', (error: Error) => reject(signal.aborted ? (signal.reason as Error) : error));
      if (body !== undefined) stream.end(body);
    });
  }

  /** Connects, when there is no connection yet: the server is reached (or the reason it is not). */
  async ready(url: URL, signal: AbortSignal): Promise<void> {
    if (!this.http1) await untilAborted(this.h2(url), signal);
  }

  /** The HTTP/2 session, connecting when there is none (or the last one ended). */
  private h2(url: URL): Promise<ClientHttp2Session | undefined> {
    const live = this.session;
    if (live && !live.closed && !live.destroyed) return Promise.resolve(live);
    this.connecting ??= this.connect(url).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(url: URL): Promise<ClientHttp2Session | undefined> {
    const access = this.access;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const connecting = tlsConnect({
        host,
        port: Number(url.port || 443),
        // SNI carries a name, never an address (as node:https sends it).
        servername: access.tlsServerName ?? (isIP(host) ? undefined : host),
        ca: access.ca,
        cert: access.cert,
        key: access.key,
        ALPNProtocols: ['h2', 'http/1.1'],
        ...(access.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      });
      // A server that never answers (a dropped SYN, a port that accepts and stays silent) would hold
      // the connection, and the process, until the kernel gives up: minutes.
      connecting.setTimeout(this.connectTimeoutMs, () =>
        connecting.destroy(
          Object.assign(new Error(`connect to ${url.host} timed out after ${this.connectTimeoutMs} ms`), {
            code: 'ETIMEDOUT',
          }),
        ),
      );
      connecting.once('secureConnect', () => {
        connecting.setTimeout(0);
        connecting.off('error', reject);
        // 30 s keep-alive probes, as client-node and client-go.
        connecting.setKeepAlive(true, 30_000);
        resolve(connecting);
      });
      connecting.once('error', reject);
    });
    if (socket.alpnProtocol !== 'h2') {
      socket.destroy();
      const https = await import('node:https');
      this.http1 = { request: https.request, agent: httpsAgent(https.Agent, access) };
      return undefined;
    }
    const { connect } = await import('node:http2');
    const session = connect(url.origin, { createConnection: () => socket });
    // A session that ends (GOAWAY, a dropped connection) is replaced at the next call; its streams
    // fail with a code, which the client's retry takes as transient.
    const forget = (): void => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', forget);
    session.once('goaway', forget);
    session.once('close', forget);
    session.unref();
    this.session = session;
    return session;
  }

  private opened(session: ClientHttp2Session): void {
    const open = this.open.get(session) ?? 0;
    this.open.set(session, open + 1);
    if (open === 0) session.ref();
  }

  private closed(session: ClientHttp2Session): void {
    const open = (this.open.get(session) ?? 1) - 1;
    this.open.set(session, open);
    if (open === 0 && !session.destroyed) session.unref();
  }
}

/** One request over the HTTP/1.1 pool; resolves when the answer's head arrives. */
function sendHttp1(
  http1: Http1,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = http1.request(
      url,
      {
        method,
        agent: http1.agent,
        signal,
        headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (response) => resolve({ status: response.statusCode ?? 0, body: response }),
    );
    sent.on('error', (error) => reject(signal.aborted ? (signal.reason as Error) : error));
    sent.end(body);
  });
}

/** The HTTP/1.1 pool: the kubeconfig's TLS material on one keep-alive Agent. */
function httpsAgent(Agent: typeof HttpsAgent, access: KubeAccess): HttpsAgent {
  return new Agent({
    keepAlive: true,
    // 30 s keep-alive probes on the sockets, as client-node and client-go.
    keepAliveMsecs: 30_000,
    ca: access.ca,
    cert: access.cert,
    key: access.key,
    servername: access.tlsServerName,
    ...(access.skipTLSVerify ? { rejectUnauthorized: false } : {}),
  });
}

/** `promise`, or the signal's reason as soon as it aborts (the promise itself goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

// A small campaigns API on 127.0.0.1 for smoke-test's tests: it can warm up (refuse, then 503),
// stall a window of requests, or start failing, so each behaviour of the engine can be exercised.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeServiceOptions {
  /** Connections are refused for this long after start (the port is not listening yet). */
  refuseForMs?: number;
  /** Then every request is answered 503 for this long (the app is up but not ready). */
  unavailableForMs?: number;
  /** Bearer token required by the /campaigns routes. */
  token?: string;
  /**
   * Stall of the /load route: counted from the first /load request, requests arriving between
   * `afterMs` and `afterMs + forMs` are each held for `forMs` before being answered.
   */
  stall?: { afterMs: number; forMs: number };
  /**
   * A real freeze: the first /load request `afterMs` after the first one blocks the whole process
   * (its event loop included) for `forMs`, as a long GC pause or a CPU-bound handler would.
   */
  freeze?: { afterMs: number; forMs: number };
  /** /load answers 500 once this long has passed since the first /load request. */
  failLoadAfterMs?: number;
}

export interface FakeService {
  url: string;
  port: number;
  /** Requests seen per "METHOD path" (path without query). */
  hits: Map<string, number>;
  close(): Promise<void>;
}

interface Campaign {
  id: string;
  name: string;
  budget: number;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A free loopback port (asked of the kernel, then released). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startFakeService(options: FakeServiceOptions = {}): Promise<FakeService> {
  const started = performance.now();
  const campaigns = new Map<string, Campaign>();
  const hits = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let nextId = 1;
  let firstLoadAt: number | undefined;
  let frozen = false;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const key = `${req.method} ${url.pathname}`;
    hits.set(key, (hits.get(key) ?? 0) + 1);
    const body = await readBody(req);
    const sinceStart = performance.now() - started;
    if (options.unavailableForMs && sinceStart < (options.refuseForMs ?? 0) + options.unavailableForMs) {
      return send(res, 503, 'warming up');
    }
    const path = url.pathname;
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    if (path === '/load') {
      const now = performance.now();
      firstLoadAt ??= now;
      const since = now - firstLoadAt;
      if (options.failLoadAfterMs !== undefined && since >= options.failLoadAfterMs) return send(res, 500, 'broken');
      if (options.freeze && !frozen && since >= options.freeze.afterMs) {
        frozen = true;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, options.freeze.forMs);
      }
      const stall = options.stall;
      if (stall && since >= stall.afterMs && since < stall.afterMs + stall.forMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(res, 200, 'ok (late)');
        }, stall.forMs);
        timers.add(timer);
        return;
      }
      return send(res, 200, 'ok');
    }
    if (path === '/flaky') {
      // Fails the first `fails` requests, then answers 200: a check that needs retries.
      const fails = Number(url.searchParams.get('fails') ?? 1);
      return (hits.get(key) ?? 0) <= fails ? send(res, 503, 'not yet') : send(res, 200, { ok: true });
    }
    if (path === '/login' && req.method === 'POST') return send(res, 200, { token: `session-${nextId++}-7f3c9a1e` });
    if (path === '/html') return send(res, 200, '<html><body>hello</body></html>', { 'content-type': 'text/html' });
    if (path.startsWith('/status/')) return send(res, Number(path.slice(8)) || 500, `status ${path.slice(8)}`);
    if (path === '/echo') return send(res, 200, { method: req.method, headers: req.headers, body });
    if (path === '/slow') {
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          send(res, 200, { slow: true });
        },
        Number(url.searchParams.get('ms') ?? 1000),
      );
      timers.add(timer);
      return;
    }
    if (path === '/campaigns' || path.startsWith('/campaigns/')) {
      if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
        return send(res, 401, { error: 'unauthorized', got: req.headers.authorization ?? null });
      }
      const id = path.split('/')[2];
      if (!id && req.method === 'POST') {
        let input: Partial<Campaign>;
        try {
          input = JSON.parse(body) as Partial<Campaign>;
        } catch {
          return send(res, 400, { error: 'body must be JSON' });
        }
        const campaign: Campaign = { id: `c${nextId++}`, name: String(input.name), budget: Number(input.budget) };
        campaigns.set(campaign.id, campaign);
        return send(res, 201, campaign, { location: `/campaigns/${campaign.id}` });
      }
      if (!id) return send(res, 200, { items: [...campaigns.values()], count: campaigns.size });
      const campaign = campaigns.get(id);
      if (!campaign) return send(res, 404, { error: `campaign ${id} not found` });
      if (req.method === 'DELETE') {
        campaigns.delete(id);
        res.writeHead(204).end();
        return;
      }
      return send(res, 200, campaign);
    }
    return send(res, 404, { error: `no route ${key}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, String(error)));
  });
  server.keepAliveTimeout = 30_000;
  const port = await freePort();
  const listening = new Promise<void>((resolve, reject) => {
    const listen = (): void => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    };
    if (options.refuseForMs) {
      const timer = setTimeout(listen, options.refuseForMs);
      timers.add(timer);
    } else listen();
  });
  if (!options.refuseForMs) await listening;
  else listening.catch(() => undefined);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

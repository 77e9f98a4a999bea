// The one HTTP call notify makes, through node:http(s). Node's global fetch loads and compiles its
// own HTTP stack (undici and its WebAssembly parser) on first use: tens of milliseconds, most of a
// notify run's start-up. @slack/webhook takes a fetch function; this is the part of fetch it and
// deliver.ts use, with fetch's errors: a TypeError 'fetch failed' whose cause is the network error,
// a redirect is an error (webhooks are called with redirect: 'error'), an abort rejects with the
// signal's reason.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** What is read of a response: @slack/webhook reads ok, status, statusText and text(); deliver.ts a header. */
export interface PostResponse {
  ok: boolean;
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface PostInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal | null;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

export function post(input: string | URL, init: PostInit = {}): Promise<PostResponse> {
  return new Promise((resolve, reject) => {
    const signal = init.signal ?? undefined;
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    let url: URL;
    try {
      url = new URL(input);
    } catch (error) {
      reject(new TypeError('Invalid URL', { cause: error }));
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(fetchFailed(new Error(`unsupported protocol ${url.protocol}`)));
      return;
    }
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    const headers: Record<string, string> = { ...init.headers };
    if (body) headers['content-length'] = String(body.length);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (done: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      done();
    };
    const req = send(url, { method: init.method ?? 'GET', headers }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        res.resume();
        finish(() => reject(fetchFailed(new Error('unexpected redirect'))));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => finish(() => reject(fetchFailed(error))));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        finish(() =>
          resolve({
            ok: status >= 200 && status < 300,
            status,
            statusText: res.statusMessage ?? '',
            headers: {
              get: (name) => {
                const value = res.headers[name.toLowerCase()];
                return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
              },
            },
            text: () => Promise.resolve(text),
          }),
        );
      });
    });
    const onAbort = (): void => {
      req.destroy();
      finish(() => reject(signal?.reason as Error));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => finish(() => reject(fetchFailed(error))));
    req.end(body);
  });
}

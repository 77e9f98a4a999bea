// A local server that behaves like Slack's incoming-webhook endpoint: only POSTs of JSON to a
// known /services/T…/B…/secret path are accepted ("ok"); wrong paths answer 404 no_service,
// bad JSON 400 invalid_payload, an empty message 400 no_text, blocks over Slack's limits
// 400 invalid_blocks. Tests script extra answers (429 + Retry-After, 5xx, hangs) per request.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAnswer {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (the connection stays open until the server closes). */
  hang?: boolean;
}

export interface ReceivedRequest {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  answeredWith: number;
}

export interface FakeSlack {
  url: string;
  /** A valid webhook URL for this server. */
  webhookUrl: string;
  received: ReceivedRequest[];
  /** Forgets received requests and unused scripted answers. */
  reset(): void;
  /** Answers used, in order, before the default behaviour resumes. */
  script(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

const WEBHOOK_PATH = '/services/T0ADCI0001/B0ADCI0001/xK3nF9qLm2Vw8RtY5pZa7HcD';

function defaultAnswer(path: string, body: string): { status: number; body: string } {
  if (path !== WEBHOOK_PATH) return { status: 404, body: 'no_service' };
  let message: { text?: unknown; blocks?: unknown[]; attachments?: { blocks?: unknown[] }[] };
  try {
    message = JSON.parse(body) as typeof message;
  } catch {
    return { status: 400, body: 'invalid_payload' };
  }
  if (!message || typeof message !== 'object') return { status: 400, body: 'invalid_payload' };
  if (!message.text && !message.blocks && !message.attachments) return { status: 400, body: 'no_text' };
  const blockLists = [message.blocks ?? [], ...(message.attachments ?? []).map((a) => a.blocks ?? [])];
  for (const blocks of blockLists) {
    if (!Array.isArray(blocks) || blocks.length > 50) return { status: 400, body: 'invalid_blocks' };
    for (const block of blocks as { type?: string; text?: { text?: string }; fields?: unknown[] }[]) {
      if (typeof block?.type !== 'string') return { status: 400, body: 'invalid_blocks' };
      if (block.type === 'header' && (block.text?.text?.length ?? 0) > 150)
        return { status: 400, body: 'invalid_blocks' };
      if (block.type === 'section' && (block.text?.text?.length ?? 0) > 3000)
        return { status: 400, body: 'invalid_blocks' };
      if (block.type === 'section' && (block.fields?.length ?? 0) > 10) return { status: 400, body: 'invalid_blocks' };
    }
  }
  return { status: 200, body: 'ok' };
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const queue: ScriptedAnswer[] = [];
  const received: ReceivedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const record: ReceivedRequest = {
        at: performance.now(),
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json,
        answeredWith: 0,
      };
      received.push(record);
      const scripted = queue.shift();
      if (scripted?.hang) {
        hanging.add(res);
        return;
      }
      const answer =
        req.method !== 'POST'
          ? { status: 405, body: 'invalid_method' }
          : scripted
            ? { status: scripted.status ?? 200, body: scripted.body ?? 'ok' }
            : defaultAnswer(req.url ?? '', body);
      record.answeredWith = answer.status;
      res.writeHead(answer.status, { 'content-type': 'text/html', ...scripted?.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    webhookUrl: `${url}${WEBHOOK_PATH}`,
    received,
    script: (...answers) => queue.push(...answers),
    reset: () => {
      queue.length = 0;
      received.length = 0;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// adci/echo: a small HTTP server for cluster tests. GET / answers with the pod name and image
// tag; /healthz is the readiness endpoint, /livez the liveness one. Behaviour is set by env:
//   PORT                 listen port (default 8080)
//   READY_AFTER_MS       /healthz answers 503 until this long after start
//   FAIL_READINESS=1     /healthz always answers 503
//   FAIL_LIVENESS=1      /livez always answers 500
//   EXIT_AFTER_MS        exit this long after start, with EXIT_CODE (default 1)
//   SHUTDOWN_DELAY_MS    on SIGTERM keep serving this long before closing (default 0)
//   GREETING             returned as `greeting` by GET / (a value a ConfigMap gives, to see which one a pod reads)
//   LOG_ENV              names of env variables whose values are logged at start (a leaky app, for masking tests)
// POST /ready/false and /ready/true flip readiness at run time.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const pod = process.env.POD_NAME ?? process.env.HOSTNAME ?? 'unknown';
const tag = process.env.ECHO_TAG ?? 'latest';
const started = Date.now();
const readyAfter = Number(process.env.READY_AFTER_MS ?? 0);
let readyOverride: boolean | undefined = process.env.FAIL_READINESS === '1' ? false : undefined;
let shuttingDown = false;

function ready(): boolean {
  if (readyOverride !== undefined) return readyOverride;
  return Date.now() - started >= readyAfter;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://echo');
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', connection: shuttingDown ? 'close' : 'keep-alive' });
    res.end(`${JSON.stringify(body)}\n`);
  };
  if (url.pathname === '/healthz') return reply(ready() ? 200 : 503, { ready: ready() });
  if (url.pathname === '/livez') return reply(process.env.FAIL_LIVENESS === '1' ? 500 : 200, { live: true });
  if (req.method === 'POST' && url.pathname.startsWith('/ready/')) {
    readyOverride = url.pathname === '/ready/true';
    return reply(200, { ready: ready() });
  }
  return reply(200, { pod, tag, path: url.pathname, greeting: process.env.GREETING });
});

server.listen(port, () => {
  console.log(`echo ${tag} serving pod ${pod} on :${port}`);
  for (const name of (process.env.LOG_ENV ?? '').split(',').filter(Boolean))
    console.log(`config ${name}=${process.env[name] ?? ''}`);
});

if (process.env.EXIT_AFTER_MS) {
  setTimeout(() => {
    console.log(`exiting with code ${process.env.EXIT_CODE ?? 1} as EXIT_AFTER_MS asks`);
    process.exit(Number(process.env.EXIT_CODE ?? 1));
  }, Number(process.env.EXIT_AFTER_MS));
}

process.on('SIGTERM', () => {
  console.log('SIGTERM received');
  shuttingDown = true;
  setTimeout(
    () => {
      server.close(() => process.exit(0));
      server.closeIdleConnections();
      setTimeout(() => process.exit(0), 2000).unref();
    },
    Number(process.env.SHUTDOWN_DELAY_MS ?? 0),
  );
});

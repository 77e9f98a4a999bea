// The example service's two Artillery scenarios (examples/ad-platform/tests/performance/), run
// unchanged by the smoke-test bundle and by `adci smoke --artillery` against the real service
// (uvicorn from its venv, on loopback); and a scenario with a construct adci does not run, refused
// by name before any request. Latency thresholds are judged but not asserted: the machine is
// shared, and tests do not time things (bench/ does); the counts are exact.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runActionBundle } from '../runner/index.ts';
import type { SmokeResult } from '@adci/probe';

const example = join(repoRoot, 'examples', 'ad-platform');
const scenarios = 'examples/ad-platform/tests/performance';
const TOKEN = 'artillery-e2e-token-4f1c2b9d';
const dir = mkdtempSync(join(tmpdir(), 'smoke-artillery-'));
let service: ChildProcess | undefined;
let baseUrl = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

before(async () => {
  const setup = spawnSync('bash', [join(example, 'scripts', 'setup-venv.sh')], { cwd: example, encoding: 'utf8' });
  assert.equal(setup.status, 0, `setup-venv.sh failed:\n${setup.stdout}\n${setup.stderr}`);
  const port = await freePort();
  service = spawn(join(example, '.venv', 'bin', 'python'), ['-m', 'ad_platform'], {
    cwd: example,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DB_PATH: join(dir, 'ad-platform.db'),
      API_TOKENS: `loadtest=${TOKEN}`,
      PYTHONDONTWRITEBYTECODE: '1',
    },
    stdio: 'ignore',
  });
  baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${baseUrl}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error('the example service did not become ready in 60s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
});

after(() => {
  service?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('the smoke-test bundle runs the campaign API scenario unchanged: flows, captures, expectations, ensure', async () => {
  const result = await runActionBundle('smoke-test', {
    with: {
      'base-url': baseUrl,
      artillery: `${scenarios}/campaign-api-load-test.yml`,
      'report-file': join(dir, 'campaign.json'),
    },
    env: { AD_PLATFORM_TOKEN: TOKEN },
    timeoutMs: 120_000,
  });
  const report = JSON.parse(readFileSync(join(dir, 'campaign.json'), 'utf8')) as SmokeResult;
  const load = report.load;
  assert.ok(load, result.stdout);
  // 30 arrivals ramping 2 -> 10/s over 5 s, then 150 at 10/s: 45 lifecycles (create, read, update,
  // delete: the captured id in three URLs) and 135 browsers (two requests each), weights 1:3.
  assert.equal(load.sent, 450);
  assert.equal(load.errors, 0, JSON.stringify(load.errorKinds));
  assert.deepEqual(load.statusCounts, { 200: 360, 201: 45, 204: 45 });
  assert.deepEqual(
    load.thresholds.map((t) => t.threshold),
    ['p(95)<250ms', 'p(99)<500ms', 'error_rate<=0.01'],
  );
  assert.equal(result.exitCode, load.passed ? 0 : 1);
  assert.match(result.summary, /p\(95\)&lt;250ms|p\(95\)<250ms/);
  // The token the flows send in their headers is masked.
  assert.ok(result.masks.includes(TOKEN));
  assert.doesNotMatch(result.log, new RegExp(TOKEN));
});

test('adci smoke --artillery runs the bidding scenario unchanged: ramp, then a steady rate', async () => {
  const out = await new Promise<{ stdout: string; code: number }>((resolve) => {
    execFile(
      process.execPath,
      [
        join(repoRoot, 'bin', 'adci.js'),
        'smoke',
        '--base-url',
        baseUrl,
        '--artillery',
        `${scenarios}/bidding-load-test.yml`,
        '--json',
      ],
      { cwd: repoRoot, env: { PATH: process.env.PATH ?? '' }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => resolve({ stdout, code: error ? Number(error.code ?? 1) : 0 }),
    );
  });
  const result = JSON.parse(out.stdout) as SmokeResult;
  const load = result.load;
  assert.ok(load);
  // 600 arrivals ramping 20 -> 100/s over 10 s, then 2000 at 100/s, each one bid.
  assert.equal(load.sent + load.dropped, 2600);
  assert.equal(load.errors, 0, JSON.stringify(load.errorKinds));
  // Every campaign of the lifecycle scenario was deleted: no bid matches.
  assert.deepEqual(load.statusCounts, { 204: load.sent });
  assert.equal(load.plannedDurationMs, 30_000);
  assert.equal(out.code, result.passed ? 0 : 1);
});

test('a scenario with a construct adci does not run is refused, naming file, line and key, before any request', async () => {
  writeFileSync(
    join(dir, 'loop.yml'),
    `config:
  target: ${baseUrl}
  phases:
    - duration: 5
      arrivalRate: 1
scenarios:
  - flow:
      - loop:
          - get:
              url: /health
        count: 3
`,
  );
  const before = (await (await fetch(`${baseUrl}/metrics`)).text()).match(
    /http_requests_total\{[^}]*route="\/health"[^}]*\} [\d.]+/g,
  );
  const result = await runActionBundle('smoke-test', { with: { artillery: join(dir, 'loop.yml') }, timeoutMs: 30_000 });
  assert.equal(result.exitCode, 1);
  const error = result.annotations.find((a) => a.level === 'error');
  assert.match(
    error?.message ?? '',
    /Input 'artillery [^']*loop\.yml': line 8: scenarios\[0\]\.flow\[0\]\.loop: 'loop' is not supported in a flow step \(adci runs: get, post, put, patch, delete, think/,
  );
  const afterRun = (await (await fetch(`${baseUrl}/metrics`)).text()).match(
    /http_requests_total\{[^}]*route="\/health"[^}]*\} [\d.]+/g,
  );
  assert.deepEqual(afterRun, before);
});

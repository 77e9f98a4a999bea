// End-to-end: credentials in URLs (`user:pass@`) and query parameters named like secrets never
// reach anything smoke-test or `adci smoke` writes (log, annotations, summary, JUnit, JSON report,
// error messages), while the requests themselves still carry them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runActionBundle } from '../runner/index.ts';

const workspace = mkdtempSync(join(tmpdir(), 'smoke-redact-'));

// Each secret is distinct so a leak names itself.
const SECRETS = {
  basePassword: 'basepw-71c3e0a9f2',
  baseUser: 'ci-robot-5e2d',
  checkPassword: 'checkpw-0b8d4e6a13',
  token: 'tok-3f9a2c7e51d8',
  sig: 'sig-e04b91c6a7f2',
  apiKey: 'apikey-6d1f8b3c09',
  accessToken: 'access-2a7c5e9b4d',
  password: 'pw-param-8e3b1d7f',
};

interface Seen {
  url: string;
  authorization?: string;
}

const seen: Seen[] = [];
let server: Server;
let port = 0;
let closedPort = 0;

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

before(async () => {
  server = createServer((req: IncomingMessage, res) => {
    seen.push({
      url: req.url ?? '',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    const path = (req.url ?? '').split('?')[0];
    if (path === '/fail') {
      // Echoes the request line, as many error pages do: the excerpt must not leak it.
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`cannot serve ${req.url} for ${req.headers.authorization ?? 'nobody'}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  // A port nobody listens on: a connection error.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(workspace, { recursive: true, force: true });
});

function checksYaml(): string {
  const query = `token=${SECRETS.token}&sig=${SECRETS.sig}&page=2`;
  return `checks:
  - name: passes
    path: /ok?${query}
  - path: /fail?${query}
  - name: absolute url with credentials
    url: http://probe:${SECRETS.checkPassword}@127.0.0.1:${port}/ok?api_key=${SECRETS.apiKey}&page=2
    expect: { body-contains: not-there }
  - name: refused
    url: http://probe:${SECRETS.checkPassword}@127.0.0.1:${closedPort}/x?access_token=${SECRETS.accessToken}&page=2
load:
  rate: 20/s
  duration: 1s
  path: /ok?${query}
  thresholds: ["p(99)<10s"]
`;
}

function baseUrl(): string {
  return `http://${SECRETS.baseUser}:${SECRETS.basePassword}@127.0.0.1:${port}/`;
}

function assertNoSecrets(where: string, text: string): void {
  for (const [name, value] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(value), `${name} (${value}) leaked into ${where}:\n${text}`);
  }
  // Nor the Basic credentials built from them.
  assert.ok(!text.includes(basic(SECRETS.baseUser, SECRETS.basePassword).slice(6)), `basic credentials in ${where}`);
}

function assertUseful(where: string, text: string): void {
  assert.ok(text.includes(`127.0.0.1:${port}`), `host missing from ${where}`);
  assert.ok(text.includes('/fail'), `path missing from ${where}`);
  assert.ok(text.includes('page=2'), `non-secret parameter missing from ${where}`);
  assert.match(text, /token=\*\*\*/, `no redacted token in ${where}`);
}

test('smoke-test redacts URL credentials and secret query parameters everywhere it writes', async () => {
  writeFileSync(join(workspace, 'checks.yml'), checksYaml());
  seen.length = 0;
  const result = await runActionBundle('smoke-test', {
    with: {
      'base-url': baseUrl(),
      'checks-file': 'checks.yml',
      'wait-for': `/ok?token=${SECRETS.token}&page=2`,
      'junit-file': 'smoke.xml',
      'report-file': 'smoke.json',
    },
    env: { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: workspace },
    cwd: workspace,
    timeoutMs: 60_000,
  });
  assert.equal(result.exitCode, 1, `${result.stdout}\n${result.stderr}`);
  const junit = readFileSync(join(workspace, 'smoke.xml'), 'utf8');
  const report = readFileSync(join(workspace, 'smoke.json'), 'utf8');
  const annotations = JSON.stringify(result.annotations);
  for (const [where, text] of Object.entries({
    stdout: result.stdout,
    stderr: result.stderr,
    summary: result.summary,
    annotations,
    junit,
    report,
  })) {
    assertNoSecrets(where, text);
  }
  for (const [where, text] of Object.entries({ summary: result.summary, annotations, junit, report })) {
    assertUseful(where, text);
  }
  assert.match(result.summary, /Target: http:\/\/\*\*\*@127\.0\.0\.1:\d+\//);
  assert.match(annotations, /api_key=\*\*\*&page=2/);
  assert.match(annotations, /access_token=\*\*\*&page=2/);
  assert.match(report, /"passed": false/);
  assert.match(report, /"load"/);

  // The service itself got the real credentials.
  const baseAuth = basic(SECRETS.baseUser, SECRETS.basePassword);
  assert.ok(
    seen.some((s) => s.url === `/ok?token=${SECRETS.token}&sig=${SECRETS.sig}&page=2` && s.authorization === baseAuth),
    `the service did not see the check's query and base-url credentials: ${JSON.stringify(seen.slice(0, 5))}`,
  );
  assert.ok(
    seen.some(
      (s) =>
        s.url === `/ok?api_key=${SECRETS.apiKey}&page=2` && s.authorization === basic('probe', SECRETS.checkPassword),
    ),
    'the absolute URL check did not send its credentials',
  );
  assert.ok(seen.filter((s) => s.url.startsWith('/ok?token=') && s.authorization === baseAuth).length > 5);

  // Input errors that quote a URL: a checks file with a non-http URL, a base URL with a bad port.
  writeFileSync(
    join(workspace, 'bad.yml'),
    `checks:\n  - url: ftp://probe:${SECRETS.checkPassword}@127.0.0.1/file?Password=${SECRETS.password}&page=2\n`,
  );
  const badInputs: Record<string, string>[] = [
    { 'base-url': baseUrl(), 'checks-file': 'bad.yml' },
    {
      'base-url': `http://${SECRETS.baseUser}:${SECRETS.basePassword}@127.0.0.1:port/?token=${SECRETS.token}`,
      checks: '- path: /\n',
    },
  ];
  for (const inputs of badInputs) {
    const bad = await runActionBundle('smoke-test', {
      with: inputs,
      env: { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: workspace },
      cwd: workspace,
      timeoutMs: 60_000,
    });
    assert.equal(bad.exitCode, 1);
    assert.match(JSON.stringify(bad.annotations), /Input '(checks-file bad\.yml|base-url)'/);
    assertNoSecrets('an input error', `${bad.stdout}\n${bad.stderr}\n${JSON.stringify(bad.annotations)}`);
  }
});

test('adci smoke redacts them in its text output, --json, the report and JUnit', async () => {
  const checksFile = join(workspace, 'cli-checks.yml');
  writeFileSync(checksFile, checksYaml());
  const run = (args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(repoRoot, 'bin', 'adci.js'), 'smoke', '--base-url', baseUrl(), '--checks-file', checksFile, ...args],
        { env: { PATH: process.env.PATH ?? '' }, timeout: 60_000, cwd: workspace },
        (error, stdout, stderr) => resolve({ stdout, stderr, exitCode: error ? Number(error.code ?? 1) : 0 }),
      );
    });
  const text = await run([
    '--wait-for',
    `/ok?token=${SECRETS.token}&page=2`,
    '--junit-file',
    'cli.xml',
    '--report-file',
    'cli.json',
    '--verbose',
  ]);
  assert.equal(text.exitCode, 1, text.stderr);
  assertNoSecrets('adci smoke stdout', text.stdout);
  assertNoSecrets('adci smoke stderr', text.stderr);
  // The text output names checks (a default name is the path) rather than showing URLs.
  assert.match(text.stdout, /FAILED {3}GET \/fail\?token=\*\*\*&sig=\*\*\*&page=2 500/);
  for (const file of ['cli.xml', 'cli.json']) {
    const content = readFileSync(join(workspace, file), 'utf8');
    assertNoSecrets(file, content);
    assertUseful(file, content);
  }
  const json = await run(['--json']);
  assert.equal(json.exitCode, 1, json.stderr);
  assertNoSecrets('adci smoke --json', json.stdout + json.stderr);
  assertUseful('adci smoke --json', json.stdout);

  // An input error quoting a URL does not show its password either.
  const bad = await new Promise<{ stderr: string; exitCode: number }>((resolve) => {
    execFile(
      process.execPath,
      [
        join(repoRoot, 'bin', 'adci.js'),
        'smoke',
        '--base-url',
        baseUrl(),
        '--checks',
        `- url: ftp://probe:${SECRETS.checkPassword}@127.0.0.1/file?Password=${SECRETS.password}&page=2\n`,
      ],
      { env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 },
      (error, _stdout, stderr) => resolve({ stderr, exitCode: error ? Number(error.code ?? 1) : 0 }),
    );
  });
  assert.equal(bad.exitCode, 2, bad.stderr);
  assertNoSecrets('adci smoke input error', bad.stderr);
});

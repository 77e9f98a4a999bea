// End-to-end: a response body larger than the read cap is reported as truncated, naming the
// `max-body` setting that raises the cap, never as a false "not found" or "too large to parse".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runActionBundle, type ActionResult } from '../runner/index.ts';
import type { SmokeResult } from '@adci/probe';

const workspace = mkdtempSync(join(tmpdir(), 'smoke-max-body-'));
const MIB = 1024 * 1024;
// 5 MiB bodies whose marker comes last, past the default 4 MiB cap.
const TEXT = `${'x'.repeat(5 * MIB)}MARKER-AT-THE-END`;
const JSON_BODY = JSON.stringify({ filler: 'y'.repeat(5 * MIB), marker: 'END' });

let server: Server;
let url = '';

before(async () => {
  server = createServer((req, res) => {
    const json = req.url === '/big.json';
    const body = json ? JSON_BODY : TEXT;
    res.writeHead(200, {
      'content-type': json ? 'application/json' : 'text/plain',
      'content-length': String(Buffer.byteLength(body)),
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(
    join(workspace, 'checks.yml'),
    `checks:
  - name: text marker
    path: /big.txt
    expect: { body-contains: MARKER-AT-THE-END }
  - name: json marker
    path: /big.json
    expect: { json: { $.marker: END } }
`,
  );
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(workspace, { recursive: true, force: true });
});

function smoke(extra: Record<string, string>): Promise<ActionResult> {
  return runActionBundle('smoke-test', {
    with: { 'base-url': url, 'checks-file': 'checks.yml', ...extra },
    env: { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: workspace },
    cwd: workspace,
    timeoutMs: 60_000,
  });
}

function adciSmoke(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'adci.js'), 'smoke', '--base-url', url, '--checks-file', 'checks.yml', ...args],
      { env: { PATH: process.env.PATH ?? '' }, timeout: 60_000, cwd: workspace, maxBuffer: 64 * MIB },
      (error, stdout, stderr) => resolve({ stdout, stderr, exitCode: error ? Number(error.code ?? 1) : 0 }),
    );
  });
}

const TRUNCATED = /body truncated at 4 MiB; raise `max-body`/;

test('a body past the default 4 MiB cap fails as truncated, naming max-body; max-body: 8MiB reads it', async () => {
  const capped = await smoke({});
  assert.equal(capped.exitCode, 1, `${capped.stdout}\n${capped.stderr}`);
  const errors = capped.annotations.filter((a) => a.level === 'error').map((a) => `${a.title}: ${a.message}`);
  const text = errors.find((e) => e.includes('text marker')) ?? '';
  const json = errors.find((e) => e.includes('json marker')) ?? '';
  assert.match(text, /body-contains: expected body to contain "MARKER-AT-THE-END", got .*body truncated at 4 MiB/);
  assert.match(text, TRUNCATED);
  assert.doesNotMatch(text, /got not found/);
  assert.match(json, /json \$\.marker: expected "END", got body truncated at 4 MiB; raise `max-body`/);
  assert.doesNotMatch(json, /too large to parse/);
  assert.match(capped.summary, TRUNCATED);
  const report = JSON.parse(readFileSync(capped.outputs.report as string, 'utf8')) as SmokeResult;
  assert.deepEqual(
    report.checks.map((c) => c.outcome),
    ['failed', 'failed'],
  );

  const raised = await smoke({ 'max-body': '8MiB' });
  assert.equal(raised.exitCode, 0, `${raised.stdout}\n${raised.stderr}`);
  assert.equal(raised.outputs.passed, '2');

  // Below the marker even when raised: still truncated, and the message names the cap given.
  const small = await smoke({ 'max-body': '512KiB' });
  assert.equal(small.exitCode, 1);
  assert.match(JSON.stringify(small.annotations), /body truncated at 512 KiB; raise `max-body`/);

  for (const bad of ['lots', '0', '4 parsecs', '-1MiB']) {
    const refused = await smoke({ 'max-body': bad });
    assert.equal(refused.exitCode, 1, bad);
    assert.match(
      JSON.stringify(refused.annotations),
      /Input 'max-body': /,
      `${bad}: ${JSON.stringify(refused.annotations)}`,
    );
  }
});

test('adci smoke --max-body raises the cap; the default names --max-body; a bad size exits 2', async () => {
  const capped = await adciSmoke([]);
  assert.equal(capped.exitCode, 1, capped.stderr);
  assert.match(capped.stdout, /body truncated at 4 MiB; raise `--max-body`/);
  const raised = await adciSmoke(['--max-body', '6291456']);
  assert.equal(raised.exitCode, 0, raised.stdout + raised.stderr);
  const bad = await adciSmoke(['--max-body', 'huge']);
  assert.equal(bad.exitCode, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /Input '--max-body': 'huge' is not a size/);
});

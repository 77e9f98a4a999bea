// `adci smoke`: the smoke command against a local service, in-process through commander.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { registerSmoke } from '../../packages/cli/src/commands/smoke.ts';
import { startFakeService } from '../fakes/service.ts';
import type { SmokeResult } from '@adci/probe';

const TOKEN = 'cli-token-5b1e9d7c';

/** Runs `adci smoke ...args`, capturing what it prints and the exit code it sets. */
async function adciSmoke(args: string[]): Promise<{ stdout: string; exitCode: number }> {
  const program = new Command('adci').exitOverride();
  registerSmoke(program);
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const previousExitCode = process.exitCode;
  process.exitCode = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'adci', 'smoke', ...args]);
    return { stdout: chunks.join(''), exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.stdout.write = write;
    process.exitCode = previousExitCode;
  }
}

test('adci smoke runs a journey with captures and a load phase, and exits 1 on a failure', async () => {
  const service = await startFakeService({ token: TOKEN });
  process.env.SMOKE_CLI_TOKEN = TOKEN;
  try {
    const checks = `checks:
  - name: create
    method: POST
    path: /campaigns
    headers: { Authorization: "Bearer {{ env.SMOKE_CLI_TOKEN }}" }
    json: { name: cli }
    expect: { status: 201 }
    capture: { id: $.id }
  - name: read
    path: /campaigns/{{ id }}
    headers: { Authorization: "Bearer {{ env.SMOKE_CLI_TOKEN }}" }
    expect: { json: { $.name: other } }
`;
    const text = await adciSmoke([
      '--base-url',
      service.url,
      '--checks',
      checks,
      '--load-rate',
      '50/s',
      '--load-duration',
      '1s',
      '--load-path',
      '/load',
      '--load-threshold',
      'p(99)<5s',
    ]);
    assert.equal(text.exitCode, 1);
    assert.match(text.stdout, /PASSED {3}create 201/);
    assert.match(text.stdout, /FAILED {3}read 200 .*: json \$\.name: expected "other", got "cli"/);
    assert.match(text.stdout, /PASSED {3}p\(99\)<5s/);
    assert.match(text.stdout, /smoke test FAILED: 2 passed, 1 failed/);

    const json = await adciSmoke(['--base-url', service.url, '--checks', '- path: /healthz\n', '--json']);
    assert.equal(json.exitCode, 0);
    const result = JSON.parse(json.stdout) as SmokeResult;
    assert.equal(result.passed, true);
    assert.equal(result.checks[0]?.status, 200);
    assert.ok(!text.stdout.includes(TOKEN));
  } finally {
    delete process.env.SMOKE_CLI_TOKEN;
    await service.close();
  }
});

test('adci smoke rejects a bad option with its name', async () => {
  await assert.rejects(
    adciSmoke(['--base-url', 'http://127.0.0.1:9', '--checks', '- path: /\n', '--timeout', 'soon']),
    /Input '--timeout': 'soon' is not a valid duration/,
  );
});

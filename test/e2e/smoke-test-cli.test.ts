// `adci smoke`: the bundled command (bin/adci.js -> dist/cli) in a child process, as GitLab CI or
// Jenkins would run it, against a local service: output, --json, exit codes, masked secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../runner/index.ts';
import { startFakeService } from '../fakes/service.ts';
import type { SmokeResult } from '@adci/probe';

const TOKEN = 'cli-token-5b1e9d7c';

/** Runs `adci smoke ...args` with only PATH and `env` in its environment. */
function adciSmoke(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'adci.js'), 'smoke', ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ stdout, stderr, exitCode: error ? Number(error.code ?? 1) : 0 }),
    );
  });
}

test('adci smoke runs a journey with captures and a load phase, and exits 1 on a failure', async () => {
  const service = await startFakeService({ token: TOKEN });
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
    const text = await adciSmoke(
      [
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
      ],
      { SMOKE_CLI_TOKEN: TOKEN },
    );
    assert.equal(text.exitCode, 1, text.stderr);
    assert.match(text.stdout, /PASSED {3}create 201/);
    assert.match(text.stdout, /FAILED {3}read 200 .*: json \$\.name: expected "other", got "cli"/);
    assert.match(text.stdout, /PASSED {3}p\(99\)<5s/);
    assert.match(
      text.stdout,
      /PASSED {3}error_rate<0\.01 \(actual 0\) \(implicit: no threshold names the error rate\)/,
    );
    assert.match(text.stdout, /smoke test FAILED: 3 passed, 1 failed/);

    const json = await adciSmoke(['--base-url', service.url, '--checks', '- path: /healthz\n', '--json']);
    assert.equal(json.exitCode, 0, json.stderr);
    const result = JSON.parse(json.stdout) as SmokeResult;
    assert.equal(result.passed, true);
    assert.equal(result.checks[0]?.status, 200);
    assert.ok(!`${text.stdout}${text.stderr}`.includes(TOKEN));
  } finally {
    await service.close();
  }
});

test('adci smoke rejects a bad option with its name and exit code 2', async () => {
  const bad = await adciSmoke(['--base-url', 'http://127.0.0.1:9', '--checks', '- path: /\n', '--timeout', 'soon']);
  assert.equal(bad.exitCode, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /Input '--timeout': 'soon' is not a valid duration/);
});

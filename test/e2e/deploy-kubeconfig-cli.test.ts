// `adci deploy` without a usable kubeconfig stops before anything else with exit code 2 and a message
// saying where it looked (KUBECONFIG, ~/.kube/config, the in-cluster service account) and how to give
// one; a KUBECONFIG naming a missing file is named as KUBECONFIG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../runner/index.ts';

function adci(args: string[], env: Record<string, string>, cwd: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'adci.js'), ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('adci deploy with no kubeconfig anywhere: exit 2, where it looked, how to give one', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'adci-nokube-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const { code, stderr } = await adci(['deploy', '--manifests', 'deploy/*.yaml'], { HOME: home }, home);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /^adci: no kubeconfig found: KUBECONFIG is not set, /);
  assert.ok(stderr.includes(`${join(home, '.kube', 'config')} does not exist`), stderr);
  assert.match(stderr, /no in-cluster service account/);
  assert.match(stderr, /KUBECONFIG=\/path\/to\/kubeconfig/);
  assert.doesNotMatch(stderr, /HTTP protocol is not allowed|skipTLSVerify/);
});

test('adci deploy with KUBECONFIG naming a missing file: exit 2 naming KUBECONFIG and the file', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'adci-nokube-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const missing = join(home, 'staging.kubeconfig');
  const { code, stderr } = await adci(
    ['deploy', '--manifests', 'deploy/*.yaml'],
    { HOME: home, KUBECONFIG: missing },
    home,
  );
  assert.equal(code, 2, stderr);
  assert.ok(stderr.includes(`KUBECONFIG names ${missing}, which does not exist`), stderr);
});

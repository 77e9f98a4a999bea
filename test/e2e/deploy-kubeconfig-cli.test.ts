// `adci deploy` without a usable kubeconfig stops before anything else with exit code 2 and a message
// saying where it looked (KUBECONFIG, ~/.kube/config, the in-cluster service account) and how to give
// one; a KUBECONFIG naming a missing file is named as KUBECONFIG; an API server that does not answer
// is named as unreachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
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

test('adci deploy against an API server that does not answer: exit 2 naming the server as unreachable', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'adci-nokube-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  // A loopback port nothing listens on.
  const port = await new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as AddressInfo;
      server.close(() => resolve(free));
    });
  });
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: c\n  cluster: { server: "https://127.0.0.1:${port}" }`,
      'users:',
      '- name: u\n  user: { token: not-a-real-token }',
      'contexts:',
      '- name: x\n  context: { cluster: c, user: u, namespace: demo }',
      'current-context: x',
      '',
    ].join('\n'),
  );
  const { code, stderr } = await adci(
    ['deploy', '--manifests', join(repoRoot, 'examples/ad-platform/deploy/*.yaml'), '--image', 'ad-platform:v1'],
    { HOME: home, KUBECONFIG: kubeconfig },
    home,
  );
  assert.equal(code, 2, stderr);
  assert.ok(
    stderr.includes(
      `the Kubernetes API server https://127.0.0.1:${port} (from the kubeconfig) is unreachable: ECONNREFUSED`,
    ),
    stderr,
  );
  assert.doesNotMatch(stderr, /traffic stays on nothing/);
  assert.ok(!stderr.includes('not-a-real-token'));
});

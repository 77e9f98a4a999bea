// `adci deploy --pre-analysis/--post-analysis/--prometheus-url`: the bundled command refuses a bad
// analysis file or Prometheus URL before it talks to any cluster, naming the input, file and line.
// (Deploys with analyses run on the local cluster in test/e2e/monitoring.test.ts and bench/analysis.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../runner/index.ts';

function adciDeploy(args: string[], cwd: string): Promise<{ stderr: string; exitCode: number }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'adci.js'), 'deploy', ...args],
      // A kubeconfig whose server does not exist: nothing may be contacted before the inputs are judged.
      { cwd, env: { PATH: process.env.PATH ?? '', KUBECONFIG: join(cwd, 'kubeconfig') }, timeout: 60_000 },
      (error, _stdout, stderr) => resolve({ stderr, exitCode: error ? Number(error.code ?? 1) : 0 }),
    );
  });
}

test('adci deploy refuses a bad analysis file or Prometheus URL before anything changes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adci-deploy-analysis-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'kubeconfig'),
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:1' } }]
users: [{ name: u, user: { token: not-a-real-token-value } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
`,
  );
  const manifests = join(repoRoot, 'examples', 'ad-platform', 'deploy');
  const base = ['--manifests', join(manifests, 'deployment.yaml'), '--manifests', join(manifests, 'service.yaml')];
  writeFileSync(
    join(dir, 'typo.yml'),
    'prometheus: http://p:9090\nmetrics:\n  - name: e\n    query: up\n    success: result =< 1\n',
  );
  writeFileSync(join(dir, 'ok.yml'), 'metrics:\n  - name: e\n    query: up\n    success: result == 1\n');

  const typo = await adciDeploy([...base, '--post-analysis', 'typo.yml'], dir);
  assert.equal(typo.exitCode, 2); // a usage error, as every refused input
  assert.match(
    typo.stderr,
    /^adci: Input 'post-promotion-analysis': typo\.yml:5: metrics\[0\]\.success: 'result =< 1' is not a comparison/m,
  );

  const noUrl = await adciDeploy([...base, '--pre-analysis', 'ok.yml'], dir);
  assert.equal(noUrl.exitCode, 2);
  assert.match(
    noUrl.stderr,
    /Input 'pre-promotion-analysis': .*names no prometheus: URL; give one there or in prometheus-url/,
  );

  const badUrl = await adciDeploy([...base, '--pre-analysis', 'ok.yml', '--prometheus-url', 'ftp://p'], dir);
  assert.equal(badUrl.exitCode, 2);
  assert.match(badUrl.stderr, /Input 'prometheus-url': must be http or https/);
});

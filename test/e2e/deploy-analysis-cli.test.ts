// `adci deploy --pre-analysis/--post-analysis/--prometheus-url`: the bundled command refuses a bad
// analysis file or Prometheus URL before it talks to any cluster, naming the input, file and line.
// The same refusals of `analysis-vars` through the blue-green-deploy action's bundle.
// (Deploys with analyses run on the local cluster in test/e2e/monitoring.test.ts and bench/analysis.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runActionBundle } from '../runner/index.ts';

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
    /^adci: Input '--post-analysis': typo\.yml:5: metrics\[0\]\.success: 'result =< 1' is not a comparison/m,
  );

  const noUrl = await adciDeploy([...base, '--pre-analysis', 'ok.yml'], dir);
  assert.equal(noUrl.exitCode, 2);
  assert.match(noUrl.stderr, /Input '--pre-analysis': .*names no prometheus: URL; give one there or in prometheus-url/);

  const badUrl = await adciDeploy([...base, '--pre-analysis', 'ok.yml', '--prometheus-url', 'ftp://p'], dir);
  assert.equal(badUrl.exitCode, 2);
  assert.match(badUrl.stderr, /Input '--prometheus-url': must be http or https/);
});

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:1' } }]
users: [{ name: u, user: { token: not-a-real-token-value } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
`;
const REGION_ANALYSIS =
  'prometheus: http://p:9090\nmetrics:\n  - name: e\n    query: up{region="{{ region }}"}\n    success: result == 1\n';

test("adci deploy --analysis-vars: refuses bad YAML and an override of the deploy's own values", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adci-deploy-analysis-vars-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'kubeconfig'), KUBECONFIG);
  writeFileSync(join(dir, 'region.yml'), REGION_ANALYSIS);
  const manifests = join(repoRoot, 'examples', 'ad-platform', 'deploy');
  const base = ['--manifests', join(manifests, 'deployment.yaml'), '--manifests', join(manifests, 'service.yaml')];
  const analysis = [...base, '--post-analysis', 'region.yml'];

  const noVars = await adciDeploy(analysis, dir);
  assert.equal(noVars.exitCode, 2);
  assert.match(noVars.stderr, /Input '--post-analysis': region\.yml:4: .*unknown placeholder \{\{ region \}\}/);

  const override = await adciDeploy([...analysis, '--analysis-vars', 'region: eu\nversion: v9'], dir);
  assert.equal(override.exitCode, 2);
  assert.match(
    override.stderr,
    /^adci: Input '--analysis-vars': 'version' is the deploy's own value and cannot be overridden/m,
  );

  const badYaml = await adciDeploy([...analysis, '--analysis-vars', 'region: [eu'], dir);
  assert.equal(badYaml.exitCode, 2);
  assert.match(badYaml.stderr, /^adci: Input '--analysis-vars': /m);

  const nested = await adciDeploy([...analysis, '--analysis-vars', 'region: { a: 1 }'], dir);
  assert.equal(nested.exitCode, 2);
  assert.match(nested.stderr, /^adci: Input '--analysis-vars': value of 'region' must be a scalar/m);

  // With the value given, the inputs pass and the command goes on to the (unreachable) cluster.
  const given = await adciDeploy([...analysis, '--analysis-vars', 'region: eu'], dir);
  assert.notEqual(given.exitCode, 0);
  assert.doesNotMatch(given.stderr, /Input '/);
});

test('blue-green-deploy analysis-vars: the action refuses bad YAML and an override before anything changes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adci-action-analysis-vars-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'region.yml'), REGION_ANALYSIS);
  const manifests = join(repoRoot, 'examples', 'ad-platform', 'deploy');
  const run = (vars: string) =>
    runActionBundle('blue-green-deploy', {
      with: {
        kubeconfig: KUBECONFIG,
        manifests: `${join(manifests, 'deployment.yaml')}\n${join(manifests, 'service.yaml')}`,
        'post-promotion-analysis': join(dir, 'region.yml'),
        'analysis-vars': vars,
      },
      env: { GITHUB_WORKSPACE: dir },
      timeoutMs: 60_000,
    });
  const errors = (result: { annotations: { level: string; message: string }[] }) =>
    result.annotations
      .filter((a) => a.level === 'error')
      .map((a) => a.message)
      .join('\n');

  const override = await run('region: eu\nnamespace: prod');
  assert.equal(override.exitCode, 1);
  assert.match(
    errors(override),
    /Input 'analysis-vars': 'namespace' is the deploy's own value and cannot be overridden/,
  );

  const badYaml = await run('- eu');
  assert.equal(badYaml.exitCode, 1);
  assert.match(errors(badYaml), /Input 'analysis-vars': must be a YAML or JSON mapping/);
});

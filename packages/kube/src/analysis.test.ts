// Unit tests of the deploy's metric-analysis settings and placeholders. The phases themselves run
// end to end against a real Prometheus on the local cluster (test/e2e/monitoring.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, silentLogger, systemClock } from '@adci/common';
import { analysisVars, defaultAnalysisRunner } from './checks.ts';
import { buildDeploySettings } from './settings.ts';

test('analysisVars: the image tag is the version, digests and registries with ports included', () => {
  assert.deepEqual(analysisVars('ad-platform:v2', 'green', 'ads', 3, 'ad-platform'), {
    version: 'v2',
    color: 'green',
    namespace: 'ads',
    revision: '3',
    app: 'ad-platform',
  });
  assert.equal(analysisVars('registry:5000/team/app:1.4.2', 'blue', 'n', 1, 'a').version, '1.4.2');
  assert.equal(
    analysisVars('registry:5000/team/app@sha256:abc', 'blue', 'n', 1, 'a').version,
    'registry:5000/team/app@sha256:abc',
  );
  assert.equal(analysisVars('app:v1@sha256:abc', 'blue', 'n', 1, 'a').version, 'v1');
});

/** A temporary directory holding a minimal app manifest (a Deployment and its Service). */
function appDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'adci-kube-analysis-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'app.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: web:1 }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
`,
  );
  return dir;
}

test('buildDeploySettings reads the analysis files, naming the input on every mistake', async (t) => {
  const dir = appDir(t);
  const metric = 'metrics:\n  - name: errors\n    query: up{version="{{ version }}"}\n    success: result == 1\n';
  writeFileSync(join(dir, 'with-url.yml'), `prometheus: http://prometheus:9090\n${metric}`);
  writeFileSync(join(dir, 'no-url.yml'), metric);
  writeFileSync(
    join(dir, 'typo.yml'),
    'metrics:\n  - name: e\n    query: up\n    success: result == 1\n    count: zero\n',
  );
  const build = (raw: Record<string, string>) =>
    buildDeploySettings({ manifests: ['app.yaml'], ...raw }, dir, 'default', {});

  const settings = await build({ postAnalysis: 'with-url.yml' });
  assert.equal(settings.postAnalysis?.metrics[0]?.name, 'errors');
  assert.equal(settings.postAnalysis?.source, 'post-promotion-analysis (with-url.yml)');
  assert.equal(settings.preAnalysis, undefined);
  assert.equal(
    (await build({ preAnalysis: 'no-url.yml', prometheusUrl: 'http://p:9090' })).prometheusUrl,
    'http://p:9090/',
  );

  const fails = (raw: Record<string, string>, pattern: RegExp) =>
    assert.rejects(
      () => build(raw),
      (error: unknown) => error instanceof InputError && pattern.test(error.message),
    );
  await fails({ postAnalysis: 'no-url.yml' }, /^Input 'post-promotion-analysis': .*names no prometheus: URL/);
  await fails(
    { preAnalysis: 'typo.yml' },
    /^Input 'pre-promotion-analysis': typo\.yml:5: metrics\[0\]\.count: must be a whole number/,
  );
  await fails({ postAnalysis: 'missing.yml' }, /^Input 'post-promotion-analysis': cannot read missing\.yml: ENOENT/);
  await fails(
    { postAnalysis: 'with-url.yml', prometheusUrl: 'prometheus:9090' },
    /^Input 'prometheus-url': must be http or https/,
  );
});

test("analysis-vars: its placeholders reach the rendered query; the deploy's own values cannot be overridden", async (t) => {
  const dir = appDir(t);
  // Port 1 on loopback refuses: the analysis ends as unreachable, with its query rendered.
  writeFileSync(
    join(dir, 'region.yml'),
    'prometheus: http://127.0.0.1:1\nmetrics:\n  - name: errors\n    query: up{region="{{ region }}",version="{{ version }}"}\n    success: result == 1\n',
  );
  const build = (raw: Record<string, string>) =>
    buildDeploySettings({ manifests: ['app.yaml'], ...raw }, dir, 'default', {});

  const settings = await build({ postAnalysis: 'region.yml', analysisVars: 'region: eu-west-1\nshard: 3' });
  assert.deepEqual(settings.analysisVars, { region: 'eu-west-1', shard: '3' });
  const vars = analysisVars('web:v2', 'green', 'ads', 4, 'web', settings.analysisVars);
  assert.deepEqual(vars, {
    region: 'eu-west-1',
    shard: '3',
    version: 'v2',
    color: 'green',
    namespace: 'ads',
    revision: '4',
    app: 'web',
  });
  const runner = defaultAnalysisRunner(settings, silentLogger, systemClock);
  const result = await runner('post', settings.postAnalysis!, vars, new AbortController().signal, 30_000);
  assert.equal(result.metrics[0]?.query, 'up{region="eu-west-1",version="v2"}');
  assert.equal(result.metrics[0]?.errorKind, 'unreachable');

  // Without analysis-vars, the file's {{ region }} is refused when read, naming file and line.
  const fails = (raw: Record<string, string>, pattern: RegExp) =>
    assert.rejects(
      () => build(raw),
      (error: unknown) => error instanceof InputError && pattern.test(error.message),
    );
  await fails(
    { postAnalysis: 'region.yml' },
    /^Input 'post-promotion-analysis': region\.yml:4: .*unknown placeholder \{\{ region \}\}/,
  );
  for (const own of ['version', 'color', 'namespace', 'revision', 'app']) {
    await fails(
      { postAnalysis: 'region.yml', analysisVars: `region: eu\n${own}: x` },
      new RegExp(`^Input 'analysis-vars': '${own}' is the deploy's own value and cannot be overridden`),
    );
  }
  await fails({ analysisVars: 'region: [eu' }, /^Input 'analysis-vars': /);
  await fails({ analysisVars: '- eu' }, /^Input 'analysis-vars': must be a YAML or JSON mapping/);
  await fails({ analysisVars: 'region: { a: 1 }' }, /^Input 'analysis-vars': value of 'region' must be a scalar/);
  assert.deepEqual((await build({ analysisVars: '' })).analysisVars, {});
});

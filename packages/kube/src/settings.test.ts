// buildDeploySettings: every input error of a deploy is refused here, naming the input, before the
// engine takes the lock or changes anything (image, container, preview-replicas, to-revision, history-limit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@adci/common';
import { buildDeploySettings, type RawDeployInputs } from './settings.ts';

const dir = mkdtempSync(join(tmpdir(), 'adci-settings-'));
writeFileSync(
  join(dir, 'app.yaml'),
  `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
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

const build = (raw: Partial<RawDeployInputs>) =>
  buildDeploySettings({ manifests: ['app.yaml'], ...raw }, dir, 'default', {});

async function refused(raw: Partial<RawDeployInputs>, input: string, message: RegExp): Promise<void> {
  await assert.rejects(
    () => build(raw),
    (error: unknown) => error instanceof InputError && error.input === input && message.test(error.message),
    `${JSON.stringify(raw)} is refused naming ${input}`,
  );
}

test('the defaults: history of 10, no preview size, no abort delay', async () => {
  const s = await build({});
  assert.equal(s.historyLimit, 10);
  assert.equal(s.previewReplicas, undefined);
  assert.equal(s.abortScaleDownDelayMs, 0);
});

test('image and container are checked against the manifests before anything is locked', async () => {
  await refused({ container: 'nope' }, 'container', /no container 'nope' in Deployment web \(it has: web\)/);
  await refused({ image: 'has space' }, 'image', /not an image reference/);
  await assert.doesNotReject(() => build({ container: 'nope', action: 'status' }), 'status does not need a container');
});

test('preview-replicas, to-revision, history-limit and abort-scale-down-delay are validated', async () => {
  await refused({ previewReplicas: '3' }, 'preview-replicas', /3 is more than the 2 replicas of Deployment web/);
  await refused({ previewReplicas: 'one' }, 'preview-replicas', /not a whole number/);
  await refused({ previewReplicas: '0' }, 'preview-replicas', /not a whole number from 1/);
  await refused({ toRevision: '4' }, 'to-revision', /applies to action rollback only/);
  await refused({ toRevision: '-1', action: 'rollback' }, 'to-revision', /not a whole number/);
  await refused({ historyLimit: '0' }, 'history-limit', /not a whole number from 1 to 100/);
  await refused({ abortScaleDownDelay: 'soon' }, 'abort-scale-down-delay', /./);
  const s = await build({ previewReplicas: '1', toRevision: '7', action: 'rollback', abortScaleDownDelay: '2m' });
  assert.equal(s.previewReplicas, 1);
  assert.equal(s.toRevision, 7);
  assert.equal(s.abortScaleDownDelayMs, 120_000);
});

test('adci deploy words the errors with its flags (--pre-checks), the action with its inputs', async () => {
  const { deployFlag } = await import('./settings.ts');
  const cli = (raw: Partial<RawDeployInputs>) =>
    buildDeploySettings({ manifests: ['app.yaml'], ...raw }, dir, 'default', {}, undefined, deployFlag);
  await assert.rejects(
    () => cli({ preChecks: 'missing.yaml' }),
    (e: unknown) =>
      e instanceof InputError && e.input === '--pre-checks' && /^Input '--pre-checks': cannot read/.test(e.message),
  );
  await assert.rejects(
    () => cli({ previewReplicas: '9' }),
    (e: unknown) => e instanceof InputError && e.input === '--preview-replicas',
  );
  await refused({ preChecks: 'missing.yaml' }, 'pre-promotion-checks', /cannot read missing\.yaml/);
});

// The metric analyses (pre- and post-promotion-analysis, prometheus-url, analysis-vars). The phases
// themselves run against a real Prometheus on the local cluster (test/e2e/monitoring.test.ts).
const metric = 'metrics:\n  - name: errors\n    query: up{version="{{ version }}"}\n    success: result == 1\n';
writeFileSync(join(dir, 'with-url.yml'), `prometheus: http://prometheus:9090\n${metric}`);
writeFileSync(join(dir, 'no-url.yml'), metric);
writeFileSync(
  join(dir, 'typo.yml'),
  'metrics:\n  - name: e\n    query: up\n    success: result == 1\n    count: zero\n',
);
writeFileSync(
  join(dir, 'region.yml'),
  'prometheus: http://127.0.0.1:1\nmetrics:\n  - name: errors\n    query: up{region="{{ region }}",version="{{ version }}"}\n    success: result == 1\n',
);

test('buildDeploySettings reads the analysis files, naming the input on every mistake', async () => {
  const settings = await build({ postAnalysis: 'with-url.yml' });
  assert.equal(settings.postAnalysis?.metrics[0]?.name, 'errors');
  assert.equal(settings.postAnalysis?.source, 'post-promotion-analysis (with-url.yml)');
  assert.equal(settings.preAnalysis, undefined);
  assert.equal(
    (await build({ preAnalysis: 'no-url.yml', prometheusUrl: 'http://p:9090' })).prometheusUrl,
    'http://p:9090/',
  );

  await refused({ postAnalysis: 'no-url.yml' }, 'post-promotion-analysis', /names no prometheus: URL/);
  await refused(
    { preAnalysis: 'typo.yml' },
    'pre-promotion-analysis',
    /typo\.yml:5: metrics\[0\]\.count: must be a whole number/,
  );
  await refused({ postAnalysis: 'missing.yml' }, 'post-promotion-analysis', /cannot read missing\.yml: ENOENT/);
  await refused(
    { postAnalysis: 'with-url.yml', prometheusUrl: 'prometheus:9090' },
    'prometheus-url',
    /must be http or https/,
  );
});

test("analysis-vars: a mapping of scalars, none of them the deploy's own values; the file's placeholders need them", async () => {
  const settings = await build({ postAnalysis: 'region.yml', analysisVars: 'region: eu-west-1\nshard: 3' });
  assert.deepEqual(settings.analysisVars, { region: 'eu-west-1', shard: '3' });
  // Without analysis-vars, the file's {{ region }} is refused when read, naming file and line.
  await refused(
    { postAnalysis: 'region.yml' },
    'post-promotion-analysis',
    /region\.yml:4: .*unknown placeholder \{\{ region \}\}/,
  );
  for (const own of ['version', 'color', 'namespace', 'revision', 'app']) {
    await refused(
      { postAnalysis: 'region.yml', analysisVars: `region: eu\n${own}: x` },
      'analysis-vars',
      new RegExp(`'${own}' is the deploy's own value and cannot be overridden`),
    );
  }
  await refused({ analysisVars: 'region: [eu' }, 'analysis-vars', /./);
  await refused({ analysisVars: '- eu' }, 'analysis-vars', /must be a YAML or JSON mapping/);
  await refused({ analysisVars: 'region: { a: 1 }' }, 'analysis-vars', /value of 'region' must be a scalar/);
  assert.deepEqual((await build({ analysisVars: '' })).analysisVars, {});
});

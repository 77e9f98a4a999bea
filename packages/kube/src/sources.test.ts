// The sources of a release with the real tools: the example chart rendered by helm (built from its
// Go module, test/cluster/helm.ts), a Kustomize overlay by the cluster's kubectl, and every refusal
// naming its input before anything changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { InputError } from '@adci/common';
import { ensureHelm, missingHelmReason } from '../../../test/cluster/helm.ts';
import { kubectlBinary } from '../../../test/cluster/kubeconfig.ts';
import { buildDeploySettings, type RawDeployInputs } from './settings.ts';
import { childProcessExec, splitHelmOutput, type ExecPort } from './sources.ts';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const exampleChart = join(repo, 'examples', 'ad-platform', 'chart');
const helmSkip = missingHelmReason() ?? false;

/** The built helm first on PATH, as a runner's preinstalled one would be. */
async function withHelmOnPath(): Promise<void> {
  const dir = dirname(await ensureHelm());
  if (!(process.env.PATH ?? '').startsWith(`${dir}${delimiter}`))
    process.env.PATH = `${dir}${delimiter}${process.env.PATH}`;
}

function workDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'adci-sources-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const build = (raw: Partial<RawDeployInputs>, dir: string, exec: ExecPort = childProcessExec) =>
  buildDeploySettings({ manifests: [], ...raw }, dir, 'shop', {}, exec);

async function refused(promise: Promise<unknown>, input: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputError, `not an InputError: ${String(error)}`);
    assert.equal(error.input, input, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

test(
  'the example chart, with a values file and set lines, is the app: one Deployment, its Service, the rest applied',
  { skip: helmSkip, timeout: 900_000 },
  async (t) => {
    await withHelmOnPath();
    const dir = workDir(t);
    writeFileSync(join(dir, 'staging.yaml'), 'replicaCount: 3\nconfig:\n  GRACEFUL_TIMEOUT: 5s\n');
    const settings = await build(
      {
        chart: exampleChart,
        values: ['staging.yaml'],
        set: ['image.tag=3f9c2e1', 'service.type=ClusterIP'],
        releaseName: 'ad-platform',
      },
      dir,
    );
    const { deployment, services, others } = settings.app;
    assert.equal(deployment.object.metadata.name, 'ad-platform');
    assert.equal(deployment.file, `chart ${exampleChart}: templates/deployment.yaml`);
    const spec = deployment.object.spec as {
      replicas: number;
      template: { spec: { containers: { image: string }[] } };
    };
    assert.equal(spec.replicas, 3);
    assert.equal(spec.template.spec.containers[0]?.image, 'ad-platform:3f9c2e1');
    assert.deepEqual(settings.app.podLabels, {
      'app.kubernetes.io/name': 'ad-platform',
      'app.kubernetes.io/instance': 'ad-platform',
      app: 'ad-platform',
    });
    assert.deepEqual(
      services.map((s) => [s.object.metadata.name, (s.object.spec as { type: string }).type]),
      [['ad-platform', 'ClusterIP']],
    );
    assert.deepEqual(others.map((o) => `${o.object.kind}/${o.object.metadata.name}`).sort(), [
      'ConfigMap/ad-platform-config',
      'ServiceAccount/ad-platform',
    ]);
    const config = others.find((o) => o.object.kind === 'ConfigMap')?.object as unknown as {
      data: Record<string, string>;
    };
    assert.equal(config.data.GRACEFUL_TIMEOUT, '5s');
    // Another release name names the objects after it (the chart's fullname).
    const other = await build({ chart: exampleChart, releaseName: 'shop', set: ['image.tag=v2'] }, dir);
    assert.equal(other.app.deployment.object.metadata.name, 'shop-ad-platform');
  },
);

test(
  'chart refusals name the input, with helm own message, before anything changes',
  { skip: helmSkip, timeout: 900_000 },
  async (t) => {
    await withHelmOnPath();
    const dir = workDir(t);
    const chart = join(dir, 'broken');
    cpSync(exampleChart, chart, { recursive: true });
    writeFileSync(
      join(chart, 'templates', 'broken.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.nope.deeper }}\n',
    );
    await refused(
      build({ chart: 'broken', releaseName: 'web' }, dir),
      'chart',
      /helm template of chart broken failed \(helm exit 1\):\n.*broken\.yaml.*nil pointer evaluating interface \{\}\.deeper/s,
    );
    await refused(
      build({ chart: exampleChart, releaseName: 'web', values: ['missing.yaml'] }, dir),
      'values',
      /'missing\.yaml' does not exist/,
    );
    await refused(build({ chart: 'nowhere', releaseName: 'web' }, dir), 'chart', /'nowhere' does not exist/);
    await refused(build({ chart: exampleChart }, dir), 'release-name', /is required with chart/);
    await refused(
      build({ chart: exampleChart, releaseName: 'Web_1' }, dir),
      'release-name',
      /not a valid release name/,
    );
    await refused(
      build({ chart: exampleChart, releaseName: 'web', set: ['image.tag'] }, dir),
      'set',
      /'image\.tag' is not key=value/,
    );
  },
);

test(
  'Helm hooks are refused naming the template; chart tests are left out',
  { skip: helmSkip, timeout: 900_000 },
  async (t) => {
    await withHelmOnPath();
    const dir = workDir(t);
    const chart = join(dir, 'hooks');
    cpSync(exampleChart, chart, { recursive: true });
    mkdirSync(join(chart, 'templates', 'tests'));
    writeFileSync(
      join(chart, 'templates', 'tests', 'test-connection.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: test-connection\n  annotations:\n    "helm.sh/hook": test\nspec:\n  containers: [{ name: t, image: busybox }]\n',
    );
    const settings = await build({ chart: 'hooks', releaseName: 'ad-platform' }, dir);
    assert.ok(!settings.app.others.some((o) => o.object.kind === 'Pod'), 'a chart test was rendered');
    writeFileSync(
      join(chart, 'templates', 'migrate.yaml'),
      'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    "helm.sh/hook": pre-upgrade\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{ name: m, image: busybox }]\n',
    );
    await refused(
      build({ chart: 'hooks', releaseName: 'ad-platform' }, dir),
      'chart',
      /chart hooks: templates\/migrate\.yaml:\d+: Job\/migrate is a Helm hook \(helm\.sh\/hook: pre-upgrade\); blue-green-deploy does not run Helm hooks/,
    );
  },
);

test(
  'several Deployments: deployment names the one to blue-green; the others and their Services are applied as they are',
  { skip: helmSkip, timeout: 900_000 },
  async (t) => {
    await withHelmOnPath();
    const dir = workDir(t);
    const chart = join(dir, 'two');
    cpSync(exampleChart, chart, { recursive: true });
    writeFileSync(
      join(chart, 'templates', 'worker.yaml'),
      [
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: worker }\nspec:\n  selector: { matchLabels: { app: worker } }\n  template:\n    metadata: { labels: { app: worker } }\n    spec: { containers: [{ name: w, image: "worker:1" }] }',
        'apiVersion: v1\nkind: Service\nmetadata: { name: worker }\nspec:\n  selector: { app: worker }\n  ports: [{ port: 80 }]',
      ].join('\n---\n'),
    );
    await refused(
      build({ chart: 'two', releaseName: 'ad-platform' }, dir),
      'chart',
      /more than one Deployment \(.*\); .*name the one to blue-green with deployment/,
    );
    const settings = await build({ chart: 'two', releaseName: 'ad-platform', deployment: 'ad-platform' }, dir);
    assert.equal(settings.app.deployment.object.metadata.name, 'ad-platform');
    assert.deepEqual(
      settings.app.services.map((s) => s.object.metadata.name),
      ['ad-platform'],
    );
    assert.ok(settings.app.others.some((o) => o.object.kind === 'Deployment' && o.object.metadata.name === 'worker'));
    assert.ok(settings.app.others.some((o) => o.object.kind === 'Service' && o.object.metadata.name === 'worker'));
    await refused(
      build({ chart: 'two', releaseName: 'ad-platform', deployment: 'api' }, dir),
      'deployment',
      /no Deployment api .*found: ad-platform, worker/,
    );
  },
);

test('exactly one of manifests, chart and kustomize; the chart inputs only with a chart', async (t) => {
  const dir = workDir(t);
  await refused(build({}, dir), 'manifests', /is required \(or chart, or kustomize\)/);
  await refused(
    build({ manifests: ['app.yaml'], chart: 'c' }, dir),
    'chart',
    /exactly one of manifests, chart and kustomize \(got manifests and chart\)/,
  );
  await refused(build({ chart: 'c', kustomize: 'k' }, dir), 'kustomize', /got chart and kustomize/);
  await refused(build({ manifests: ['app.yaml'], values: ['v.yaml'] }, dir), 'values', /applies only to a chart/);
  await refused(build({ kustomize: 'k', set: ['a=b'] }, dir), 'set', /applies only to a chart/);
  await refused(build({ kustomize: 'k', releaseName: 'r' }, dir), 'release-name', /applies only to a chart/);
});

test('a tool missing from PATH is an input error naming the tool', async (t) => {
  const dir = workDir(t);
  assert.equal(await childProcessExec('adci-no-such-tool', ['--version'], { cwd: dir }), 'not-found');
  const missing: ExecPort = (_program, args, options) => childProcessExec('adci-no-such-tool', args, options);
  await refused(
    build({ chart: exampleChart, releaseName: 'web' }, dir, missing),
    'chart',
    /renders with `helm`, which is not on PATH/,
  );
  mkdirSync(join(dir, 'overlay'));
  await refused(
    build({ kustomize: 'overlay' }, dir, missing),
    'kustomize',
    /renders with `kubectl`, which is not on PATH/,
  );
});

test('helm output is split per template, named after it', () => {
  const docs = splitHelmOutput(
    '---\n# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service\n---\n# Source: web/templates/deployment.yaml\nkind: Deployment\n',
    'chart ./web',
  );
  assert.deepEqual(
    docs.map((d) => d.file),
    ['chart ./web: templates/service.yaml', 'chart ./web: templates/deployment.yaml'],
  );
});

test('a Kustomize overlay is rendered by kubectl kustomize', { timeout: 120_000 }, async (t) => {
  const kubectl = kubectlBinary();
  if (
    kubectl === 'kubectl' &&
    (await childProcessExec('kubectl', ['version', '--client'], { cwd: repo })) === 'not-found'
  ) {
    t.skip('no kubectl: the local cluster builds one (npm run cluster -- build)');
    return;
  }
  const exec: ExecPort = (program, args, options) =>
    childProcessExec(program === 'kubectl' ? kubectl : program, args, options);
  const dir = workDir(t);
  mkdirSync(join(dir, 'base'));
  mkdirSync(join(dir, 'prod'));
  writeFileSync(
    join(dir, 'base', 'app.yaml'),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  replicas: 1\n  selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    spec: { containers: [{ name: web, image: "adci/echo:v1" }] }\n---\napiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec:\n  selector: { app: web }\n  ports: [{ port: 80 }]\n',
  );
  writeFileSync(join(dir, 'base', 'kustomization.yaml'), 'resources: [app.yaml]\n');
  writeFileSync(
    join(dir, 'prod', 'kustomization.yaml'),
    'resources: [../base]\nimages:\n  - { name: adci/echo, newTag: v2 }\nreplicas:\n  - { name: web, count: 3 }\n',
  );
  const settings = await build({ kustomize: 'prod' }, dir, exec);
  const spec = settings.app.deployment.object.spec as {
    replicas: number;
    template: { spec: { containers: { image: string }[] } };
  };
  assert.equal(spec.replicas, 3);
  assert.equal(spec.template.spec.containers[0]?.image, 'adci/echo:v2');
  assert.equal(settings.app.deployment.file, 'kustomize prod');
  writeFileSync(join(dir, 'prod', 'kustomization.yaml'), 'resources: [../nowhere]\n');
  await refused(
    build({ kustomize: 'prod' }, dir, exec),
    'kustomize',
    /kubectl kustomize of prod failed \(kubectl exit 1\):\n.*nowhere/s,
  );
  await refused(build({ kustomize: 'base/app.yaml' }, dir, exec), 'kustomize', /is not a directory/);
});

// blue-green-deploy from a Helm chart and a Kustomize overlay, end to end: the built bundle (runner
// harness) renders with the real helm (built from its Go module, test/cluster/helm.ts) and the
// cluster's kubectl, deploys v1 -> v2 on the local cluster under open-model load through the
// NodePort with zero failed requests; adopts a release the real `helm install` made, after which
// `helm uninstall` of that release leaves traffic untouched; refuses a broken chart, a missing
// values file and a missing helm naming the input, before anything changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { trafficDuring, type LoadResult } from '../cluster/traffic.ts';
import { runActionBundle, type ActionResult } from '../runner/index.ts';
import {
  clusterTestSkip,
  kubectlBinary,
  kubectlJson,
  kubectlOk,
  nodeAddress,
  nodePortOf,
  useNamespace,
  type TestNamespace,
} from '../cluster/testing.ts';
import { testKubeconfig } from '../cluster/kubeconfig.ts';
import { ensureHelm, missingHelmReason } from '../cluster/helm.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '..', '..');
const exampleChart = join(repo, 'examples', 'ad-platform', 'chart');
const exampleBase = join(repo, 'examples', 'ad-platform', 'deploy');
const skip = clusterTestSkip() || (missingHelmReason() ?? false);
const work = mkdtempSync(join(tmpdir(), 'adci-bg-sources-'));
const RATE = 200;

// The example chart with the cluster's echo server as its image: same probes (/health, /ready
// answer 200), same port, no API tokens Secret needed.
const valuesFile = join(work, 'echo-values.yaml');
writeFileSync(
  valuesFile,
  'image:\n  repository: adci/echo\napiTokensSecret: ""\nconfig:\n  SHUTDOWN_DELAY_MS: "2000"\n',
);

let helm = '';
/** PATH of the step: the built helm and the cluster's kubectl, as a runner's preinstalled ones. */
let toolsPath = '';

async function servedTag(port: number): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const body = await fetch(`http://${nodeAddress()}:${port}/`).then(
      async (r) => (r.ok ? ((await r.json()) as { tag?: string }) : undefined),
      () => undefined,
    );
    if (body) return body.tag;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers on NodePort ${port}`);
}

const kubeconfigText = (): string => readFileSync(testKubeconfig() ?? '', 'utf8');

async function deploy(
  ns: TestNamespace,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ActionResult> {
  return runActionBundle('blue-green-deploy', {
    with: {
      kubeconfig: kubeconfigText(),
      namespace: ns.name,
      'post-promotion-window': '1s',
      'scale-down-delay': '1s',
      timeout: '120s',
      ...inputs,
    },
    env: { PATH: toolsPath, ...env },
    timeoutMs: 300_000,
  });
}

function failure(result: ActionResult): string {
  return result.annotations
    .filter((a) => a.level === 'error')
    .map((a) => a.message)
    .join('\n');
}

function warnings(result: ActionResult): string {
  return result.annotations
    .filter((a) => a.level === 'warning')
    .map((a) => a.message)
    .join('\n');
}

async function helmRun(ns: TestNamespace, args: string[], env: Record<string, string> = {}): Promise<string> {
  const home = join(work, 'helm-home');
  mkdirSync(home, { recursive: true });
  const { stdout, stderr } = await run(
    helm,
    [...args, '--namespace', ns.name, '--kubeconfig', testKubeconfig() ?? ''],
    {
      env: { PATH: toolsPath, HOME: home, ...env },
      timeout: 300_000,
    },
  );
  return `${stdout}${stderr}`;
}

async function selector(ns: TestNamespace, service: string): Promise<Record<string, string>> {
  return (await kubectlJson<{ spec: { selector: Record<string, string> } }>(['-n', ns.name, 'get', 'service', service]))
    .spec.selector;
}

/** v1 deployed, then v2 under load: zero failed requests, v2 served, the old colour scaled down. */
async function v1ThenV2UnderLoad(
  ns: TestNamespace,
  service: string,
  inputs: (tag: string) => Record<string, string>,
): Promise<{ first: ActionResult; second: ActionResult; stats: LoadResult }> {
  const first = await deploy(ns, inputs('v1'));
  assert.equal(first.exitCode, 0, failure(first) + first.stderr);
  assert.equal(first.outputs.result, 'promoted');
  const port = await nodePortOf(ns, service);
  assert.equal(await servedTag(port), 'v1');
  const load = trafficDuring(port, RATE, 40_000);
  await new Promise((r) => setTimeout(r, 2000));
  const second = await deploy(ns, { ...inputs('v2'), 'post-promotion-window': '5s', 'scale-down-delay': '8s' });
  const stats = await load;
  assert.equal(second.exitCode, 0, failure(second) + second.stderr);
  assert.equal(second.outputs.result, 'promoted');
  assert.ok(stats.completed >= RATE * 30, `only ${stats.completed} requests completed: ${JSON.stringify(stats)}`);
  assert.equal(stats.errors + stats.dropped, 0, `failed requests during the switch: ${JSON.stringify(stats)}`);
  assert.equal(await servedTag(port), 'v2');
  return { first, second, stats };
}

describe(
  'blue-green-deploy from a chart and an overlay on the local cluster',
  { skip, concurrency: false, timeout: 1_800_000 },
  () => {
    before(async () => {
      helm = await ensureHelm();
      const kubectl = kubectlBinary();
      const dirs = [
        dirname(helm),
        ...(isAbsolute(kubectl) ? [dirname(kubectl)] : []),
        process.env.PATH ?? '/usr/bin:/bin',
      ];
      toolsPath = dirs.join(':');
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    test(`chart with a values file and set image.tag: v1 -> v2 under ${RATE} req/s, zero failed requests`, async (t) => {
      const ns = await useNamespace(t, 'bg-chart');
      const { second, stats } = await v1ThenV2UnderLoad(ns, 'ad-platform', (tag) => ({
        chart: exampleChart,
        values: valuesFile,
        set: `image.tag=${tag}`,
        'release-name': 'ad-platform',
      }));
      t.diagnostic(
        `chart v1 -> v2: ${stats.completed} requests, ${stats.errors} failed, ${stats.rps.toFixed(1)} req/s`,
      );
      assert.equal(second.outputs['active-color'], 'green');
      assert.equal(second.outputs.image, 'adci/echo:v2');
      assert.equal((await selector(ns, 'ad-platform'))['adci.dev/color'], 'green');
      // The chart's other objects were applied; no Helm release was involved, so no Helm warning.
      // The ConfigMap the pods read is versioned with the colour: the live colour reads its own copy.
      await kubectlOk(['-n', ns.name, 'get', 'configmap', 'ad-platform-config-green']);
      await kubectlOk(['-n', ns.name, 'get', 'serviceaccount', 'ad-platform']);
      assert.doesNotMatch(warnings(second), /Helm release/);
    });

    test(`Kustomize overlay of the example's manifests: v1 -> v2 under ${RATE} req/s, zero failed requests`, async (t) => {
      const ns = await useNamespace(t, 'bg-kust');
      await kubectlOk([
        '-n',
        ns.name,
        'create',
        'secret',
        'generic',
        'ad-platform-tokens',
        '--from-literal=api-tokens=',
      ]);
      const overlay = join(work, 'overlay');
      mkdirSync(overlay, { recursive: true });
      const { stats } = await v1ThenV2UnderLoad(ns, 'ad-platform', (tag) => {
        // The echo server stands in for the app; SHUTDOWN_DELAY_MS is its graceful stop (the app's
        // GRACEFUL_TIMEOUT): keep-alive connections through the NodePort are closed, not reset.
        writeFileSync(
          join(overlay, 'kustomization.yaml'),
          [
            `resources: [${relative(overlay, exampleBase)}]`,
            'images:',
            `  - { name: ad-platform, newName: adci/echo, newTag: ${tag} }`,
            'patches:',
            '  - target: { kind: Deployment, name: ad-platform }',
            '    patch: |-',
            '      - op: add',
            '        path: /spec/template/spec/containers/0/env/-',
            '        value: { name: SHUTDOWN_DELAY_MS, value: "3000" }',
            '',
          ].join('\n'),
        );
        return { kustomize: overlay };
      });
      t.diagnostic(`kustomize v1 -> v2: ${stats.completed} requests, ${stats.errors} failed`);
    });

    test('a release installed by helm install is adopted under load; helm uninstall then leaves traffic untouched', async (t) => {
      const ns = await useNamespace(t, 'bg-helm');
      const installed = await helmRun(ns, [
        'install',
        'ad-platform',
        exampleChart,
        '--values',
        valuesFile,
        '--set',
        'image.tag=v1',
        '--wait',
        '--timeout',
        '180s',
      ]);
      assert.match(installed, /STATUS: deployed/);
      const port = await nodePortOf(ns, 'ad-platform');
      assert.equal(await servedTag(port), 'v1');

      const load = trafficDuring(port, RATE, 40_000);
      await new Promise((r) => setTimeout(r, 2000));
      const adopted = await deploy(ns, {
        chart: exampleChart,
        values: valuesFile,
        set: 'image.tag=v2',
        'release-name': 'ad-platform',
        'post-promotion-window': '5s',
        'scale-down-delay': '8s',
      });
      const stats = await load;
      assert.equal(adopted.exitCode, 0, failure(adopted) + adopted.stderr);
      assert.equal(adopted.outputs.result, 'promoted');
      assert.equal(adopted.outputs['previous-color'], 'legacy');
      assert.equal(stats.errors, 0, `failed requests during the adoption: ${JSON.stringify(stats)}`);
      assert.ok(stats.completed >= RATE * 30, `only ${stats.completed} requests completed`);
      assert.equal(await servedTag(port), 'v2');
      assert.match(warnings(adopted), new RegExp(`Retire the release: \`helm uninstall ad-platform -n ${ns.name}\``));
      assert.match(adopted.summary, /### Helm release/);
      const svc = await kubectlJson<{ metadata: { annotations: Record<string, string> } }>([
        '-n',
        ns.name,
        'get',
        'service',
        'ad-platform',
      ]);
      assert.equal(svc.metadata.annotations['helm.sh/resource-policy'], 'keep');

      // The old release goes the way the team is told, under load: nothing adci serves with is deleted.
      const during = trafficDuring(port, RATE, 20_000);
      await new Promise((r) => setTimeout(r, 2000));
      const uninstalled = await helmRun(ns, ['uninstall', 'ad-platform', '--wait', '--timeout', '120s']);
      const after = await during;
      assert.match(uninstalled, /These resources were kept due to the resource policy:[\s\S]*\[Service\] ad-platform/);
      assert.equal(after.errors, 0, `failed requests during helm uninstall: ${JSON.stringify(after)}`);
      assert.equal(await servedTag(port), 'v2');
      const left = (await kubectlOk(['-n', ns.name, 'get', 'deployments,services,configmaps', '-o', 'name'])).split(
        '\n',
      );
      assert.ok(left.includes('service/ad-platform'), left.join(', '));
      assert.ok(left.includes('configmap/ad-platform-config'), left.join(', '));
      assert.ok(left.includes('deployment.apps/ad-platform-blue'), left.join(', '));
      assert.ok(!left.includes('deployment.apps/ad-platform'), `the old Deployment is still there: ${left.join(', ')}`);
      t.diagnostic(
        `adoption: ${stats.completed} requests, ${stats.errors} failed; uninstall: ${after.completed}, ${after.errors} failed`,
      );

      // With the release gone, a later deploy says nothing more about it.
      const later = await deploy(ns, {
        chart: exampleChart,
        values: valuesFile,
        set: 'image.tag=v3',
        'release-name': 'ad-platform',
      });
      assert.equal(later.exitCode, 0, failure(later));
      assert.doesNotMatch(warnings(later), /Helm release/);
    });

    test('a release stored in ConfigMaps (HELM_DRIVER=configmap) is marked the same way', async (t) => {
      const ns = await useNamespace(t, 'bg-helm-cm');
      const driver = { HELM_DRIVER: 'configmap' };
      const chartArgs = ['--values', valuesFile, '--set', 'image.tag=v1', '--set', 'replicaCount=1'];
      await helmRun(ns, ['install', 'shop', exampleChart, ...chartArgs, '--wait', '--timeout', '180s'], driver);
      const adopted = await deploy(ns, {
        chart: exampleChart,
        values: valuesFile,
        set: 'image.tag=v2\nreplicaCount=1',
        'release-name': 'shop',
      });
      assert.equal(adopted.exitCode, 0, failure(adopted) + adopted.stderr);
      assert.equal(adopted.outputs['previous-color'], 'legacy');
      assert.match(warnings(adopted), /Retire the release: `helm uninstall shop/);
      const uninstalled = await helmRun(ns, ['uninstall', 'shop', '--wait', '--timeout', '120s'], driver);
      assert.match(uninstalled, /kept due to the resource policy:[\s\S]*\[Service\] shop-ad-platform/);
      const port = await nodePortOf(ns, 'shop-ad-platform');
      assert.equal(await servedTag(port), 'v2');
    });

    test('a broken chart, a missing values file and a missing helm are input errors naming them; nothing changes', async (t) => {
      const ns = await useNamespace(t, 'bg-bad');
      const broken = join(work, 'broken-chart');
      cpSync(exampleChart, broken, { recursive: true });
      writeFileSync(
        join(broken, 'templates', 'oops.yaml'),
        'kind: ConfigMap\nmetadata:\n  name: {{ .Values.nope.deeper }}\n',
      );
      const chart = { values: valuesFile, set: 'image.tag=v1', 'release-name': 'ad-platform' };

      const template = await deploy(ns, { ...chart, chart: broken });
      assert.equal(template.exitCode, 1);
      assert.match(failure(template), /Input 'chart': helm template of chart .*broken-chart failed \(helm exit 1\)/);
      assert.match(failure(template), /oops\.yaml.*nil pointer evaluating interface \{\}\.deeper/s);

      const values = await deploy(ns, { ...chart, chart: exampleChart, values: 'staging-values.yaml' });
      assert.equal(values.exitCode, 1);
      assert.match(failure(values), /Input 'values': 'staging-values\.yaml' does not exist/);

      const empty = join(work, 'empty-path');
      mkdirSync(empty, { recursive: true });
      const noHelm = await deploy(ns, { ...chart, chart: exampleChart }, { PATH: empty });
      assert.equal(noHelm.exitCode, 1);
      assert.match(failure(noHelm), /Input 'chart': renders with `helm`, which is not on PATH/);

      const both = await deploy(ns, { ...chart, chart: exampleChart, manifests: join(exampleBase, 'service.yaml') });
      assert.match(failure(both), /exactly one of manifests, chart and kustomize/);

      const left = await kubectlOk(['-n', ns.name, 'get', 'deployments,services,leases', '-o', 'name']);
      assert.equal(left.trim(), '', `objects were created: ${left}`);
    });
  },
);

// `adci deploy --chart/--values/--set/--release-name/--kustomize`: the bundled command renders with the
// real helm (built from its Go module) and refuses a broken chart, a missing values file, a missing
// helm and two sources at once, naming the input, before it talks to any cluster (exit 2).
// (Deploys from a chart and an overlay run on the local cluster in blue-green-deploy-sources.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../runner/index.ts';
import { ensureHelm, missingHelmReason } from '../cluster/helm.ts';

function adciDeploy(args: string[], cwd: string, path: string): Promise<{ stderr: string; exitCode: number }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'adci.js'), 'deploy', ...args],
      // A kubeconfig whose server does not exist: nothing may be contacted before the inputs are judged.
      { cwd, env: { PATH: path, HOME: cwd, KUBECONFIG: join(cwd, 'kubeconfig') }, timeout: 60_000 },
      (error, _stdout, stderr) => resolve({ stderr, exitCode: error ? Number(error.code ?? 1) : 0 }),
    );
  });
}

test(
  'adci deploy --chart refuses a broken chart, a missing values file, a missing helm and two sources',
  { skip: missingHelmReason() ?? false, timeout: 900_000 },
  async (t) => {
    const helmDir = dirname(await ensureHelm());
    const dir = mkdtempSync(join(tmpdir(), 'adci-deploy-sources-'));
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
    const chart = join(repoRoot, 'examples', 'ad-platform', 'chart');
    cpSync(chart, join(dir, 'broken'), { recursive: true });
    writeFileSync(
      join(dir, 'broken', 'templates', 'oops.yaml'),
      'kind: ConfigMap\nmetadata:\n  name: {{ .Values.a.b }}\n',
    );
    const path = `${helmDir}:${process.env.PATH ?? ''}`;
    const release = ['--release-name', 'ad-platform', '--set', 'image.tag=v2'];

    const broken = await adciDeploy(['--chart', 'broken', ...release], dir, path);
    assert.equal(broken.exitCode, 2, broken.stderr);
    assert.match(broken.stderr, /^adci: Input '--chart': helm template of chart broken failed \(helm exit 1\):/m);
    assert.match(broken.stderr, /oops\.yaml/);

    const values = await adciDeploy(['--chart', chart, ...release, '--values', 'prod.yaml'], dir, path);
    assert.equal(values.exitCode, 2, values.stderr);
    assert.match(values.stderr, /^adci: Input '--values': 'prod\.yaml' does not exist/m);

    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const noHelm = await adciDeploy(['--chart', chart, ...release], dir, empty);
    assert.equal(noHelm.exitCode, 2, noHelm.stderr);
    assert.match(noHelm.stderr, /^adci: Input '--chart': renders with `helm`, which is not on PATH/m);

    const both = await adciDeploy(['--chart', chart, ...release, '--kustomize', 'overlay'], dir, path);
    assert.equal(both.exitCode, 2, both.stderr);
    assert.match(both.stderr, /Input '--kustomize': give exactly one of manifests, chart and kustomize/);

    const badSet = await adciDeploy(
      ['--chart', chart, '--release-name', 'ad-platform', '--set', 'image.tag'],
      dir,
      path,
    );
    assert.equal(badSet.exitCode, 2, badSet.stderr);
    assert.match(badSet.stderr, /Input '--set': 'image\.tag' is not key=value/);
  },
);

// The targets file of a release to several clusters: read and checked whole before any cluster is
// contacted, every error naming the input, the file, the line and the key; and where each target's
// kubeconfig comes from (a secret's variable or a file, never the command line).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@adci/common';
import { kubeconfigOf, parseTargetsFile } from './targets.ts';

const dir = mkdtempSync(join(tmpdir(), 'adci-targets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FILE = `# EU first, then the US pair
targets:
  - name: eu-west
    kubeconfig-env: KUBE_EU
    context: prod-eu
    namespace: ads
    preview-url: https://preview.eu.example.com
    analysis-vars: { region: eu-west, replicas: 3 }
  - name: us-east
    kubeconfig-file: clusters/us-east.yaml
    pre-promotion-checks: checks/us.yaml
    post-promotion-checks: checks/us-post.yaml
  - name: us-west
    kubeconfig-file: /etc/kube/us-west.yaml
waves:
  - [eu-west]
  - [us-east, us-west]
bake-time: 10m
max-parallel: 1
on-failure: stop
stage-ahead: false
`;

test('a full targets file: each target with its keys and line, the waves, bake time, parallelism, policy', () => {
  const file = parseTargetsFile(FILE, 'deploy/targets.yaml');
  assert.equal(file.source, 'deploy/targets.yaml');
  assert.deepEqual(file.waves, [['eu-west'], ['us-east', 'us-west']]);
  assert.deepEqual([file.bakeTimeMs, file.maxParallel, file.onFailure, file.stageAhead], [600_000, 1, 'stop', false]);
  assert.deepEqual(file.targets[0], {
    name: 'eu-west',
    kubeconfigEnv: 'KUBE_EU',
    kubeconfigFile: undefined,
    context: 'prod-eu',
    namespace: 'ads',
    previewUrl: 'https://preview.eu.example.com',
    preChecks: undefined,
    postChecks: undefined,
    analysisVars: { region: 'eu-west', replicas: '3' },
    line: 3,
  });
  assert.deepEqual(
    file.targets.map((t) => [t.name, t.kubeconfigFile, t.preChecks, t.line]),
    [
      ['eu-west', undefined, undefined, 3],
      ['us-east', 'clusters/us-east.yaml', 'checks/us.yaml', 9],
      ['us-west', '/etc/kube/us-west.yaml', undefined, 13],
    ],
  );
  const defaults = parseTargetsFile('{"targets": [{"name": "a", "kubeconfig-env": "K"}], "waves": [["a"]]}', 't.json');
  assert.deepEqual(
    [defaults.bakeTimeMs, defaults.maxParallel, defaults.onFailure, defaults.stageAhead],
    [0, Number.MAX_SAFE_INTEGER, 'rollback-all', true],
  );
});

test('every mistake is an InputError naming the input, file:line and what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['- a', /t\.yaml:1: must be a mapping with targets and waves/],
    [FILE.replace('bake-time', 'bake'), /t\.yaml:18: unknown key 'bake' \(known: targets, waves, bake-time/],
    [
      FILE.replace('targets:\n  - name: eu-west', 'targets: []\nx:\n  - name: eu-west'),
      /unknown key 'x'|targets must be a non-empty list/,
    ],
    [
      FILE.replace('    context: prod-eu', '    cluster: prod-eu'),
      /t\.yaml:5: unknown key 'cluster' \(known: name, kubeconfig-env/,
    ],
    [FILE.replace('name: us-west', 'name: US_West'), /t\.yaml:13: 'US_West' is not a valid target name/],
    [FILE.replace('name: us-west', 'name: us-east'), /t\.yaml:13: target 'us-east' is named twice/],
    [
      FILE.replace('    kubeconfig-file: /etc/kube/us-west.yaml\n', ''),
      /target 'us-west' needs exactly one of kubeconfig-env .* and kubeconfig-file/,
    ],
    [FILE.replace('KUBE_EU', '{ from: secret }'), /t\.yaml:4: kubeconfig-env must be a string/],
    [
      FILE.replace('KUBE_EU', '"KUBE-EU"'),
      /t\.yaml:4: 'KUBE-EU' is not an environment variable name \(the name, not the kubeconfig\)/,
    ],
    [FILE.replace('namespace: ads', 'namespace: Ads'), /t\.yaml:6: 'Ads' is not a valid namespace/],
    [
      FILE.replace('analysis-vars: { region: eu-west, replicas: 3 }', 'analysis-vars: [eu]'),
      /t\.yaml:8: analysis-vars must be a mapping/,
    ],
    [
      FILE.replace('  - [us-east, us-west]', '  - [us-east, us-west, eu-west]'),
      /wave 2 names|target 'eu-west' is in wave 1 and wave 2/,
    ],
    [
      FILE.replace('  - [us-east, us-west]', '  - [us-east, ap-south]'),
      /t\.yaml:17: wave 2 names 'ap-south', which is not a target \(targets: eu-west, us-east, us-west\)/,
    ],
    [FILE.replace('  - [us-east, us-west]', '  - [us-east]'), /t\.yaml:13: target 'us-west' is in no wave/],
    [FILE.replace('  - [us-east, us-west]', '  - []'), /wave 2 must be a non-empty list of target names/],
    [FILE.replace('bake-time: 10m', 'bake-time: soon'), /t\.yaml:18: bake-time': 'soon' is not a valid duration/],
    [
      FILE.replace('max-parallel: 1', 'max-parallel: 0'),
      /t\.yaml:19: max-parallel must be a whole number of at least 1/,
    ],
    [
      FILE.replace('on-failure: stop', 'on-failure: retry'),
      /t\.yaml:20: on-failure must be rollback-all or stop, not 'retry'/,
    ],
    [
      FILE.replace('stage-ahead: false', 'stage-ahead: soon'),
      /t\.yaml:21: stage-ahead must be true or false, not 'soon'/,
    ],
  ];
  const wrong: string[] = [];
  for (const [text, message] of cases) {
    try {
      parseTargetsFile(text, 't.yaml', '--targets');
      wrong.push(`${message.source}: accepted`);
    } catch (e) {
      if (!(e instanceof InputError && e.message.startsWith("Input '--targets") && message.test(e.message)))
        wrong.push(`${message.source}: ${String(e)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test("kubeconfigOf: the variable's contents, or the file relative to the targets file; a missing one is named", () => {
  const file = parseTargetsFile(FILE, 'targets.yaml');
  const [eu, usEast, usWest] = file.targets;
  assert.ok(eu && usEast && usWest);
  const env = (name: string): string | undefined => ({ KUBE_EU: 'apiVersion: v1\nkind: Config\n' })[name];
  assert.equal(kubeconfigOf(eu, env, dir), 'apiVersion: v1\nkind: Config\n');
  assert.throws(
    () => kubeconfigOf(eu, () => '  ', dir, '--targets'),
    /'--targets'.*target eu-west: the environment variable KUBE_EU \(kubeconfig-env\) is not set or empty/,
  );
  writeFileSync(join(dir, 'us-east.yaml'), 'kind: Config # us-east\n');
  assert.equal(kubeconfigOf({ ...usEast, kubeconfigFile: 'us-east.yaml' }, env, dir), 'kind: Config # us-east\n');
  assert.throws(
    () => kubeconfigOf(usEast, env, dir),
    /target us-east: cannot read kubeconfig-file clusters\/us-east\.yaml: ENOENT/,
  );
  assert.throws(() => kubeconfigOf(usWest, env, dir), /cannot read kubeconfig-file \/etc\/kube\/us-west\.yaml: ENOENT/);
});

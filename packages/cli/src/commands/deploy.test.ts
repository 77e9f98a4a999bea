// `adci deploy` from the sources: flag errors named before any cluster is contacted, and a
// server-side dry run and the status of an app on the real local cluster (skipped outside CI
// without one), which leave the namespace as it was. Full deploys, promotions and rollbacks through
// the built CLI are tested end to end in test/e2e/deploy-*-cli.test.ts and blue-green-*.test.ts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterTestSkip, kubectlOk, testKubeconfig, useNamespace } from '../../../../test/cluster/testing.ts';
import { adciFromSources, type AdciRun } from '../../../../test/runner/adci-sources.ts';

const skip = clusterTestSkip();
const scratch = mkdtempSync(join(tmpdir(), 'adci-deploy-cmd-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const adci = (args: string[], env: Record<string, string> = {}): Promise<AdciRun> =>
  adciFromSources(args, { cwd: scratch, env: { HOME: scratch, ...env }, timeoutMs: 180_000 });

const manifest = join(scratch, 'web.yaml');
writeFileSync(
  manifest,
  `apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [ { port: 80, targetPort: 8080 } ] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [ { name: web, image: adci/echo:v1, ports: [ { containerPort: 8080 } ] } ]
`,
);

test('flag errors exit 2 naming the flag, before any cluster is contacted', async () => {
  // A kubeconfig whose API server is a loopback port nothing listens on: contacting it would fail
  // as "unreachable", so a flag error must come first.
  const port = await new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as AddressInfo;
      server.close(() => resolve(free));
    });
  });
  const kubeconfig = join(scratch, 'unreachable.kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [ { name: c, cluster: { server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true } } ]
users: [ { name: u, user: { token: t0ken } } ]
contexts: [ { name: x, context: { cluster: c, user: u, namespace: ads } } ]
current-context: x
`,
  );
  const env = { KUBECONFIG: kubeconfig };
  const cases: [string[], RegExp][] = [
    [['--action', 'launch'], /--action/],
    [['--timeout', 'soon'], /'--timeout'.*'soon' is not a valid duration/],
    [['--pre-checks', join(scratch, 'missing.yml')], /'--pre-checks'.*missing\.yml/],
    [['--chart', scratch], /--release-name|--chart/],
  ];
  for (const [flags, message] of cases) {
    const run = await adci(['deploy', '--manifests', manifest, ...flags], env);
    assert.equal(run.code, 2, `${flags.join(' ')}: ${run.err}`);
    assert.match(run.err, message);
    assert.doesNotMatch(run.err, /unreachable|127\.0\.0\.1/, `${flags.join(' ')}: the flag error comes first`);
  }
});

test('a dry run prints the plan and changes nothing; status of an app never deployed', { skip }, async (t) => {
  const ns = await useNamespace(t, 'cli-deploy');
  const env = { KUBECONFIG: testKubeconfig() ?? '' };
  const dry = await adci(
    ['deploy', '--manifests', manifest, '--namespace', ns.name, '--image', 'adci/echo:v2', '--dry-run'],
    env,
  );
  assert.equal(dry.code, 0, dry.out + dry.err);
  assert.match(dry.out, new RegExp(`^web in ${ns.name}: dry run, nothing changed\n`));
  assert.match(dry.out, /validate +ok .* validated by a server-side dry run/);
  assert.match(dry.out, /plan: apply Deployment\/web-blue \(1 replicas, image adci\/echo:v2, revision 1\)/);
  assert.match(dry.out, /plan: switch web \(new\) -> blue/);
  assert.equal(
    await kubectlOk(['get', 'deployments,services,leases', '-n', ns.name, '-o', 'name']),
    '',
    'a dry run creates nothing',
  );
  const status = await adci(
    ['deploy', '--manifests', manifest, '--namespace', ns.name, '--action', 'status', '--json'],
    env,
  );
  assert.equal(status.code, 0, status.err);
  const result = JSON.parse(status.out) as { adciVersion: string; action: string };
  assert.equal(result.action, 'status');
  assert.match(result.adciVersion, /^\d+\.\d+\.\d+/);
});

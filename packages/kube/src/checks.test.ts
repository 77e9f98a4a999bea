// The deploy's checks and metric analyses: the placeholders a deploy fills (analysisVars) and the
// analysis runner on @adci/analysis. Runs against a real Prometheus are end to end
// (test/e2e/monitoring.test.ts); here the Prometheus URL is a refusing port or a loopback server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, systemClock } from '@adci/common';
import { parseAnalysisDocument } from '@adci/analysis';
import { analysisVars, defaultAnalysisRunner } from './checks.ts';

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
  assert.equal(analysisVars(undefined, 'blue', 'n', 1, 'a').version, undefined);
});

test("analysisVars: analysis-vars' extra placeholders are kept; the deploy's own values win", () => {
  const vars = analysisVars('web:v2', 'green', 'ads', 4, 'web', { region: 'eu-west-1', version: 'forged' });
  assert.deepEqual(vars, {
    region: 'eu-west-1',
    version: 'v2',
    color: 'green',
    namespace: 'ads',
    revision: '4',
    app: 'web',
  });
});

const document = (prometheus: string) =>
  parseAnalysisDocument(
    `prometheus: ${prometheus}\nmetrics:\n  - name: errors\n    query: up{region="{{ region }}",version="{{ version }}"}\n    success: result == 1\n`,
    'post-promotion-analysis',
    'region.yml',
    { placeholders: ['region'] },
  );

test('defaultAnalysisRunner renders the query with the vars; an unreachable Prometheus ends as unreachable', async () => {
  // Port 1 on loopback refuses.
  const runner = defaultAnalysisRunner({}, silentLogger, systemClock);
  const vars = analysisVars('web:v2', 'green', 'ads', 4, 'web', { region: 'eu-west-1' });
  const result = await runner('post', document('http://127.0.0.1:1'), vars, new AbortController().signal, 30_000);
  assert.equal(result.metrics[0]?.query, 'up{region="eu-west-1",version="v2"}');
  assert.equal(result.metrics[0]?.errorKind, 'unreachable');
});

test("defaultAnalysisRunner sends the settings' prometheus-token as a bearer token", async (t) => {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(503).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const runner = defaultAnalysisRunner({ prometheusToken: 's3cret' }, silentLogger, systemClock);
  const vars = analysisVars('web:v2', 'green', 'ads', 4, 'web', { region: 'eu' });
  await runner('pre', document(url), vars, new AbortController().signal, 5_000);
  assert.ok(seen.length > 0, 'the runner reached the loopback server');
  assert.ok(
    seen.every((h) => h === 'Bearer s3cret'),
    JSON.stringify(seen),
  );
});

test('proxyTransport: the kubeconfig identity, tls-server-name, insecure-skip-tls-verify and basic auth', async () => {
  const { KubeClient } = await import('./client.ts');
  const { proxyTransport } = await import('./checks.ts');
  const config = (cluster: string, user: string) => `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster:
      server: https://10.0.0.1:6443
${cluster}
users:
  - name: u
    user:
${user}
contexts:
  - name: x
    context: { cluster: c, user: u }
current-context: x
`;
  const named = await proxyTransport(
    await KubeClient.create({
      kubeconfig: config(
        '      certificate-authority-data: ' +
          Buffer.from('CA PEM').toString('base64') +
          '\n      tls-server-name: api.internal',
        '      token: abc.def',
      ),
    }),
  );
  assert.equal(named.tls?.servername, 'api.internal');
  assert.equal(named.tls?.ca, 'CA PEM');
  assert.equal(named.insecureTls, false);
  assert.equal(named.headers?.Authorization, 'Bearer abc.def');
  const basic = await proxyTransport(
    await KubeClient.create({
      kubeconfig: config('      insecure-skip-tls-verify: true', '      username: ops\n      password: s3cret'),
    }),
  );
  assert.equal(basic.insecureTls, true);
  assert.equal(basic.headers?.Authorization, `Basic ${Buffer.from('ops:s3cret').toString('base64')}`);
});

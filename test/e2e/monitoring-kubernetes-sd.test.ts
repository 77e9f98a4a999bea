// How the test Prometheus reaches the API server for kubernetes_sd_configs: the kubeconfig's current
// context becomes api_server + files (CA, client certificate and key, token), written with mode 0600
// so no secret is in Prometheus's configuration, argv or log; what it cannot use fails, naming it.
// The cluster tests (monitoring.test.ts) run it against the real API server.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { kubernetesPodsJob, kubernetesSdConnection } from '../cluster/monitoring.ts';

const dir = mkdtempSync(join(tmpdir(), 'adci-ksd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (text: string): string => Buffer.from(text).toString('base64');

function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const file = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'other', cluster: { server: 'https://wrong.invalid' } },
        { name: 'c', cluster },
      ],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
  return file;
}

test('embedded CA, client certificate and key are written to 0600 files, never inlined', async () => {
  const file = kubeconfig(
    'cert',
    { server: 'https://127.0.0.1:16443', 'certificate-authority-data': b64('CA PEM') },
    { 'client-certificate-data': b64('CERT PEM'), 'client-key-data': b64('KEY PEM secret') },
  );
  const out = join(dir, 'cert');
  const connection = await kubernetesSdConnection(file, out);
  assert.equal(connection.api_server, 'https://127.0.0.1:16443');
  const { ca_file, cert_file, key_file } = connection.tls_config;
  assert.equal(readFileSync(ca_file ?? '', 'utf8'), 'CA PEM');
  assert.equal(readFileSync(cert_file ?? '', 'utf8'), 'CERT PEM');
  assert.equal(readFileSync(key_file ?? '', 'utf8'), 'KEY PEM secret');
  assert.equal(statSync(key_file ?? '').mode & 0o777, 0o600);
  const job = JSON.stringify(kubernetesPodsJob(connection, ['ns-a', 'ns-b'], '1s'));
  assert.ok(!job.includes('secret') && !job.includes(b64('KEY PEM secret')));
  assert.match(job, /"kubernetes_sd_configs":\[\{"role":"pod","api_server":"https:\/\/127\.0\.0\.1:16443"/);
  assert.match(job, /"namespaces":\{"names":\["ns-a","ns-b"\]\}/);
  assert.match(job, /"scrape_interval":"1s"/);
});

test('a token goes to a credentials file; path fields are resolved next to the kubeconfig', async () => {
  const file = kubeconfig(
    'token',
    { server: 'https://api.example:6443', 'certificate-authority': 'ca.crt', 'insecure-skip-tls-verify': false },
    { token: 'tok-123' },
  );
  const connection = await kubernetesSdConnection(file, join(dir, 'token'));
  assert.equal(connection.tls_config.ca_file, join(dir, 'ca.crt'));
  assert.equal(connection.authorization?.type, 'Bearer');
  assert.equal(readFileSync(connection.authorization?.credentials_file ?? '', 'utf8'), 'tok-123');
  assert.ok(!JSON.stringify(connection).includes('tok-123'));
});

test('what Prometheus cannot use fails, naming the kubeconfig', async () => {
  const exec = kubeconfig('exec', { server: 'https://x' }, { exec: { command: 'aws' } });
  await assert.rejects(kubernetesSdConnection(exec, join(dir, 'exec')), /exec\.kubeconfig: exec and auth-provider/);
  const noServer = kubeconfig('noserver', {}, {});
  await assert.rejects(
    kubernetesSdConnection(noServer, join(dir, 'ns')),
    /noserver\.kubeconfig: cluster c has no server/,
  );
  const missing = join(dir, 'missing.kubeconfig');
  await assert.rejects(kubernetesSdConnection(missing, join(dir, 'm')), /missing\.kubeconfig: unreadable/);
  const noContext = join(dir, 'noctx.kubeconfig');
  writeFileSync(noContext, 'apiVersion: v1\nkind: Config\n');
  await assert.rejects(kubernetesSdConnection(noContext, join(dir, 'nc')), /noctx\.kubeconfig: no context/);
});

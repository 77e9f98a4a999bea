// kubeconfig.ts through KubeClient.create: the common kubeconfig (one file or text, HTTPS, a client
// certificate, token or password) is read without @kubernetes/client-node; exec and auth-provider
// users, proxies and the rest go through client-node, with the same answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';

test('the common kubeconfig is read without client-node; exec users, proxies and unknown contexts are not', async () => {
  const { KubeClient } = await import('./client.ts');
  const { proxyTransport } = await import('./checks.ts');
  const config = (cluster: string, user: string) => `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster:
      server: https://10.0.0.1:6443/
${cluster}
users:
  - name: u
    user:
${user}
contexts:
  - name: x
    context: { cluster: c, user: u, namespace: shop }
  - name: y
    context: { cluster: c, user: u }
current-context: x
`;
  const ca = `      certificate-authority-data: ${Buffer.from('CA PEM').toString('base64')}`;
  const light = await KubeClient.create({ kubeconfig: config(ca, '      token: abc.def') });
  assert.equal(light.loader, 'adci');
  assert.equal(light.config, undefined);
  assert.equal(light.server, 'https://10.0.0.1:6443');
  assert.equal(light.contextNamespace, 'shop');
  assert.equal(
    (await KubeClient.create({ kubeconfig: config(ca, '      token: t'), context: 'y' })).contextNamespace,
    undefined,
  );
  // An exec plugin (and a proxy-url) is client-node's: the same answers, through it.
  const exec = '      exec: { apiVersion: client.authentication.k8s.io/v1, command: /bin/true }';
  const viaClientNode = await KubeClient.create({ kubeconfig: config(ca, exec) });
  assert.equal(viaClientNode.loader, 'client-node');
  assert.equal(viaClientNode.server, 'https://10.0.0.1:6443');
  assert.equal(viaClientNode.contextNamespace, 'shop');
  const proxied = await KubeClient.create({
    kubeconfig: config(`${ca}\n      proxy-url: http://proxy:3128`, '      token: abc.def'),
  });
  assert.equal(proxied.loader, 'client-node');
  assert.deepEqual(await proxyTransport(proxied), await proxyTransport(light));
  for (const kubeconfig of [config(ca, '      token: t'), config(ca, exec)]) {
    await assert.rejects(KubeClient.create({ kubeconfig, context: 'nope' }), {
      message: "context 'nope' is not in the kubeconfig (it has: x, y)",
    });
  }
});

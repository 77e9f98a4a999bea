import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locateKubeconfig } from './kubeconfig.ts';

const none = () => false;

test('KUBECONFIG naming files that exist: used', () => {
  const found = locateKubeconfig(
    { KUBECONFIG: '/a/config:/b/config' },
    '/home/u',
    (p) => p.startsWith('/a') || p.startsWith('/b'),
  );
  assert.deepEqual(found, { source: 'KUBECONFIG', paths: ['/a/config', '/b/config'] });
});

test('KUBECONFIG naming a missing file: the message names KUBECONFIG and the file', () => {
  assert.throws(
    () => locateKubeconfig({ KUBECONFIG: '/ci/staging.yaml' }, '/home/u', none),
    (error: Error) => {
      assert.match(error.message, /KUBECONFIG names \/ci\/staging\.yaml, which does not exist/);
      return true;
    },
  );
});

test('no KUBECONFIG: ~/.kube/config, then the in-cluster service account', () => {
  assert.deepEqual(
    locateKubeconfig({}, '/home/u', (p) => p === '/home/u/.kube/config'),
    { source: '~/.kube/config', paths: ['/home/u/.kube/config'] },
  );
  assert.deepEqual(
    locateKubeconfig(
      { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      '/home/u',
      (p) => p === '/var/run/secrets/kubernetes.io/serviceaccount/token',
    ),
    { source: 'in-cluster', paths: [] },
  );
});

test('nothing found: exit-2 message says where it looked and how to give one', () => {
  assert.throws(
    () => locateKubeconfig({}, '/home/u', none),
    (error: Error) => {
      assert.match(error.message, /^no kubeconfig found: /);
      assert.match(error.message, /KUBECONFIG is not set/);
      assert.match(error.message, /\/home\/u\/\.kube\/config does not exist/);
      assert.match(error.message, /not in a pod \(no in-cluster service account\)/);
      assert.match(error.message, /KUBECONFIG=\/path\/to\/kubeconfig/);
      return true;
    },
  );
});

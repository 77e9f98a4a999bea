import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '@adci/common';
import { parseKubeconfigs } from './inputs.ts';

const KUBECONFIG = 'apiVersion: v1\nclusters: []\nusers:\n  - name: u\n    user: { token: s3cret-token }\n';

test('kubeconfigs: a JSON object by kubeconfig-env name, every value masked before use', () => {
  const masked: string[] = [];
  const parsed = parseKubeconfigs(JSON.stringify({ KUBE_A: KUBECONFIG, KUBE_B: KUBECONFIG }), (k) => masked.push(k));
  assert.deepEqual(parsed, { KUBE_A: KUBECONFIG, KUBE_B: KUBECONFIG });
  assert.equal(masked.length, 2);
  assert.equal(parseKubeconfigs('  '), undefined);
});

test('kubeconfigs: not JSON, not an object or an empty value is refused naming the input, never the text', () => {
  for (const text of [`{"KUBE_A": ${KUBECONFIG}}`, '["a"]', '"x"', '{"KUBE_A": ""}', '{"KUBE_A": 1}']) {
    assert.throws(
      () => parseKubeconfigs(text, () => undefined),
      (error: unknown) =>
        error instanceof InputError &&
        /^Input 'kubeconfigs'/.test(error.message) &&
        !error.message.includes('s3cret-token'),
      text,
    );
  }
});

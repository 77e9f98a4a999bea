// Why a colour's containers fail, read from the real local cluster (skipped outside CI without
// one): a crash-looping container's last termination and its log lines, secrets masked; nothing for
// healthy pods; and the one line an error message carries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Redactor } from '@adci/common';
import {
  applyManifest,
  clusterTestSkip,
  testKubeconfig,
  useNamespace,
  waitFor,
} from '../../../test/cluster/testing.ts';
import { KubeClient } from './client.ts';
import { diagnose, diagnosisLine, LOG_LINES } from './diagnose.ts';
import type { PodObject } from './readiness.ts';

const skip = clusterTestSkip();

const pod = (name: string, env: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web', which: name } },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'adci/echo:v1',
        env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
      },
    ],
  },
});

test('diagnosisLine: the termination and the last three log lines', () => {
  assert.equal(
    diagnosisLine({
      pod: 'web-blue-1',
      container: 'web',
      reason: 'Error',
      exitCode: 3,
      restarts: 2,
      logs: ['starting', 'config loaded', '', 'db unreachable', 'exiting'],
    }),
    'container web of web-blue-1 (last termination: Error, exit code 3); last log lines: config loaded | db unreachable | exiting',
  );
  assert.equal(diagnosisLine({ pod: 'p', container: 'c', restarts: 0, logs: [] }), 'container c of p');
});

test(
  'a crash-looping container: reason, exit code, restarts and its log, masked; healthy pods: nothing',
  { skip },
  async (t) => {
    const ns = await useNamespace(t, 'kube-diagnose');
    const kube = await KubeClient.create({ kubeconfig: readFileSync(testKubeconfig() ?? '', 'utf8') });
    await applyManifest(ns, [
      pod('crashing', { EXIT_AFTER_MS: '300', EXIT_CODE: '3', LOG_ENV: 'TOKEN', TOKEN: 'tok-5f0c9e2a' }),
      pod('healthy', {}),
    ]);
    // As the engine meets it: the container in CrashLoopBackOff after a restart.
    await waitFor(
      'the crashing pod in CrashLoopBackOff',
      async () => {
        const p = await kube.get<PodObject>('Pod', ns.name, 'crashing');
        const status = (p?.status?.containerStatuses ?? [])[0] as
          { restartCount?: number; state?: { waiting?: { reason?: string } } } | undefined;
        return (status?.restartCount ?? 0) >= 1 && status?.state?.waiting?.reason === 'CrashLoopBackOff';
      },
      { timeoutMs: 90_000 },
    );
    const redactor = new Redactor();
    redactor.add('tok-5f0c9e2a');
    const found = await diagnose(kube, ns.name, 'app=web', (text) => redactor.redact(text));
    assert.ok(found);
    assert.equal(found.pod, 'crashing', 'the worst container of the pods');
    assert.equal(found.container, 'web');
    assert.equal(found.exitCode, 3);
    assert.equal(found.reason, 'Error');
    assert.ok(found.restarts >= 1);
    assert.ok(found.logs.length <= LOG_LINES);
    assert.ok(found.logs.includes('exiting with code 3 as EXIT_AFTER_MS asks'), found.logs.join('\n'));
    assert.ok(found.logs.includes('config TOKEN=***'), 'the secret is masked in the log');
    assert.doesNotMatch(JSON.stringify(found), /tok-5f0c9e2a/);
    assert.match(
      diagnosisLine(found),
      /^container web of crashing \(last termination: Error, exit code 3\); last log lines: /,
    );

    await waitFor('the healthy pod is ready', async () => {
      const p = await kube.get<PodObject>('Pod', ns.name, 'healthy');
      return ((p?.status?.containerStatuses ?? [])[0] as { ready?: boolean } | undefined)?.ready === true;
    });
    assert.equal(await diagnose(kube, ns.name, 'which=healthy', (s) => s), undefined);
    assert.equal(await diagnose(kube, ns.name, 'which=nothing', (s) => s), undefined);
  },
);

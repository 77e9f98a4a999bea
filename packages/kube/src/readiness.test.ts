// Unit tests of readiness.ts: pod failures classified (fatal at once, image pulls after their grace)
// and a Deployment's availability.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAvailable, podFailure, type PodObject } from './readiness.ts';

function pod(name: string, status: PodObject['status']): PodObject {
  return { metadata: { name }, status };
}

test('podFailure: fatal reasons at once, pull errors after their grace unless the registry said not found', () => {
  const options = { pullGraceMs: 20_000, unschedulableGraceMs: 10_000 };
  const crash = pod('p1', {
    containerStatuses: [
      {
        name: 'web',
        restartCount: 2,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } },
        lastState: { terminated: { exitCode: 3, reason: 'Error' } },
      },
    ],
  });
  assert.match(
    podFailure([crash], 0, new Map(), options)?.message ?? '',
    /pod p1, container web: CrashLoopBackOff: exited with code 3 \(Error\); restarted 2 times/,
  );
  const seen = new Map<string, number>();
  const transient = pod('p2', {
    containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ErrImagePull', message: 'i/o timeout' } } }],
  });
  assert.equal(podFailure([transient], 1000, seen, options), undefined);
  assert.match(podFailure([transient], 21_000, seen, options)?.message ?? '', /ErrImagePull: i\/o timeout/);
  const missing = pod('p3', {
    containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } } }],
  });
  assert.ok(podFailure([missing], 0, new Map(), options));
  const config = pod('p4', {
    initContainerStatuses: [
      { name: 'init', state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' } } },
    ],
  });
  assert.match(
    podFailure([config], 0, new Map(), options)?.message ?? '',
    /container init: CreateContainerConfigError/,
  );
  const syncing = pod('p5', {
    containerStatuses: [
      {
        name: 'web',
        state: { waiting: { reason: 'CreateContainerConfigError', message: 'failed to sync configmap cache' } },
      },
    ],
  });
  assert.equal(podFailure([syncing], 0, new Map(), options), undefined);
  // The Node authorizer may lag the pod's binding: the kubelet is refused the Secret for a moment and
  // retries. Seen for real (pipeline-jenkins test); transient, so it gets the grace, then is fatal.
  const lagging = pod('p7', {
    containerStatuses: [
      {
        name: 'web',
        state: {
          waiting: {
            reason: 'CreateContainerConfigError',
            message:
              'env API_TOKENS: secrets "ad-platform-tokens" is forbidden: User "system:node:adci-node" cannot get resource "secrets" in API group "" in the namespace "x": no relationship found between node \'adci-node\' and this object',
          },
        },
      },
    ],
  });
  const l = new Map<string, number>();
  assert.equal(podFailure([lagging], 0, l, options), undefined);
  assert.match(podFailure([lagging], 20_000, l, options)?.message ?? '', /CreateContainerConfigError: env API_TOKENS/);
  const unschedulable = pod('p6', {
    conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes' }],
  });
  const u = new Map<string, number>();
  assert.equal(podFailure([unschedulable], 0, u, options), undefined);
  assert.match(podFailure([unschedulable], 10_000, u, options)?.message ?? '', /Unschedulable: 0\/1 nodes/);
});
test('isAvailable: observedGeneration caught up, every replica updated and available, old ones gone', () => {
  const base = { metadata: { name: 'd', generation: 2 } };
  assert.equal(
    isAvailable(
      { ...base, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } },
      2,
    ),
    false,
  );
  assert.equal(
    isAvailable(
      { ...base, status: { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 } },
      2,
    ),
    false,
  );
  assert.equal(
    isAvailable(
      { ...base, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 } },
      2,
    ),
    false,
  );
  assert.equal(
    isAvailable(
      { ...base, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } },
      2,
    ),
    true,
  );
});

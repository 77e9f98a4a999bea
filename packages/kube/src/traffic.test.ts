// Unit tests of traffic.ts: which endpoints serve a Service after the switch, and the API server's
// service-proxy URL of a Service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeSlices, serviceProxyUrl } from './traffic.ts';

test('judgeSlices: only ready endpoints count; any other pod is reported', () => {
  const slices = [
    {
      metadata: { name: 's1' },
      endpoints: [
        { addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-green-1' } },
        { addresses: ['10.0.0.2'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'web-blue-1' } },
        { addresses: ['10.0.0.3'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-blue-2' } },
      ],
    },
  ];
  const report = judgeSlices('web', slices, (p) => p.startsWith('web-green'));
  assert.deepEqual(report, { service: 'web', ready: 2, readyNew: 1, readyOther: ['web-blue-2'] });
  assert.equal(
    serviceProxyUrl('https://k:6443', 'ns', {
      metadata: { name: 'web' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    }),
    'https://k:6443/api/v1/namespaces/ns/services/web:http/proxy/',
  );
});

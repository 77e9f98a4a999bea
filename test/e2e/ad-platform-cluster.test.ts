// The example's manifests on the local cluster: kubectl applies examples/ad-platform/deploy/ to a
// namespace of its own, waits for the rollout, and the built smoke-test bundle runs the example's
// checks file (the journey plus the /bid load phase) through the NodePort. The image map runs
// `ad-platform:<tag>` from the example's virtual environment with APP_VERSION = the tag.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runActionBundle } from '../runner/index.ts';
import {
  clusterTestSkip,
  createAdPlatformNamespace,
  kubectlOk,
  nodePortOf,
  type TestNamespace,
} from '../cluster/testing.ts';
import { nodeAddress } from '../cluster/kubeconfig.ts';

const skip = clusterTestSkip();
const example = join(repoRoot, 'examples', 'ad-platform');
const workspace = mkdtempSync(join(tmpdir(), 'ad-platform-cluster-'));
const token = `smoke-${randomBytes(12).toString('hex')}`;
let ns: TestNamespace | undefined;

describe('ad-platform on the local cluster', { skip, timeout: 600_000 }, () => {
  before(async () => {
    ns = await createAdPlatformNamespace('ad-platform', `smoke=${token}`);
    await kubectlOk(['-n', ns.name, 'apply', '-f', join(example, 'deploy')]);
    await kubectlOk(['-n', ns.name, 'rollout', 'status', 'deployment/ad-platform', '--timeout=180s'], {
      timeoutMs: 200_000,
    });
    // kube-proxy opens the NodePort once it has seen ready endpoints (ADCI_PROXY_SYNC_DELAY later).
    const url = `http://${nodeAddress()}:${await nodePortOf(ns, 'ad-platform')}/ready`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await fetch(url).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      assert.ok(Date.now() < deadline, `${url} did not answer 200 within 30s (last: ${status})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  after(async () => {
    if (ns) {
      await ns.remove();
      // The pods' database on the node (here: this machine); elsewhere it is not ours to remove.
      for (const suffix of ['', '-wal', '-shm']) {
        try {
          rmSync(`/var/lib/ad-platform/${ns.name}.db${suffix}`, { force: true });
        } catch {
          // not on this machine, or not ours to delete
        }
      }
    }
    rmSync(workspace, { recursive: true, force: true });
  });

  test('two ready replicas answer with the version from the image tag', async () => {
    assert.ok(ns);
    const pods = await kubectlOk([
      '-n',
      ns.name,
      'get',
      'pods',
      '-l',
      'app=ad-platform',
      '-o',
      'jsonpath={range .items[*]}{.status.containerStatuses[0].ready}{"\\n"}{end}',
    ]);
    assert.deepEqual(pods.trim().split('\n'), ['true', 'true']);
    const port = await nodePortOf(ns, 'ad-platform');
    const health = (await (await fetch(`http://${nodeAddress()}:${port}/health`)).json()) as { version: string };
    assert.equal(health.version, 'v1');
  });

  test('the journey and the /bid load phase pass through the NodePort (smoke-test bundle)', async () => {
    assert.ok(ns);
    const port = await nodePortOf(ns, 'ad-platform');
    const result = await runActionBundle('smoke-test', {
      with: {
        'base-url': `http://${nodeAddress()}:${port}`,
        'checks-file': join(example, 'deploy', 'checks', 'smoke.yml'),
        'wait-for': '/ready',
        'wait-timeout': '60s',
        'report-file': join(workspace, 'smoke.json'),
      },
      env: { AD_PLATFORM_TOKEN: token, GITHUB_WORKSPACE: workspace, RUNNER_TEMP: workspace },
      cwd: workspace,
      timeoutMs: 180_000,
    });
    assert.equal(result.outputs.failed, '0', `${result.stdout}\n${result.stderr}`);
    assert.ok(Number(result.outputs.passed) >= 14, `passed: ${result.outputs.passed}`);
    assert.ok(!result.stdout.includes(token) && !result.stderr.includes(token), 'the token reached the log');
    const metrics = await (await fetch(`http://${nodeAddress()}:${port}/metrics`)).text();
    assert.match(metrics, /http_requests_total\{app="ad-platform",code="20[04]",route="\/bid",version="v1"\}/);
  });
});

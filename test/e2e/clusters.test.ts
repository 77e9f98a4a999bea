// Several local clusters side by side (`npm run cluster -- up --name <n>`): three named clusters
// run at once, each with its own etcd, API server, controllers and node agent on its own loopback
// address; a Deployment and a NodePort Service in each answer on that cluster's address only, and
// what one cluster holds the others do not. Prints each cluster's start time, memory and the CPU
// the three use while idle. Starts the clusters it needs and stops only those it started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkClusterName, clusterConfig, defaultCluster, parseClusterArgs } from '../cluster/config.ts';
import {
  applyManifest,
  createNamespace,
  ensureClusters,
  kubectl,
  kubectlJson,
  localClusterCpuSeconds,
  localClusterMemory,
  namedClustersSkip,
  namedClusterStatus,
  waitFor,
  type ClusterHandle,
  type TestNamespace,
} from '../cluster/testing.ts';

const names = ['e2e-a', 'e2e-b', 'e2e-c'];
const nodePort = 30080;
const say = (line = '') => process.stdout.write(`${line}\n`);
const mb = (kib: number) => `${Math.round(kib / 1024)} MB`;

test('cluster names, slots and what each slot owns', () => {
  // The default cluster is what it always was.
  assert.equal(defaultCluster.host, '127.0.0.1');
  assert.equal(defaultCluster.bridgeName, 'adci0');
  assert.equal(defaultCluster.podCidr, '10.244.0.0/24');
  assert.equal(defaultCluster.serviceCidr, '10.96.0.0/16');
  assert.equal(defaultCluster.netnsPrefix, 'adci-pod-');
  assert.equal(defaultCluster.apiserverUrl, 'https://127.0.0.1:16443');
  assert.match(defaultCluster.paths.state, /\/cluster$/);

  const a = clusterConfig('a', 1);
  const b = clusterConfig('ap-2', 2);
  assert.deepEqual(
    [a.host, a.bridgeName, a.podCidr, a.podGateway, a.serviceCidr, a.kubernetesServiceIp, a.netnsPrefix],
    ['127.0.0.2', 'adci-a', '10.244.1.0/24', '10.244.1.1', '10.97.0.0/16', '10.97.0.1', 'adci.a.pod-'],
  );
  assert.equal(a.apiserverUrl, 'https://127.0.0.2:16443');
  assert.match(a.paths.state, /\/clusters\/a$/);
  assert.equal(b.host, '127.0.0.3');
  assert.equal(b.bridgeName, 'adci-ap-2');
  // No cluster's network namespaces start with another's prefix.
  for (const x of [defaultCluster, a, b]) {
    for (const y of [defaultCluster, a, b]) if (x !== y) assert.ok(!x.netnsPrefix.startsWith(y.netnsPrefix));
  }

  assert.deepEqual(parseClusterArgs('up', []), {});
  assert.deepEqual(parseClusterArgs('up', ['--name', 'b']), { name: 'b' });
  assert.deepEqual(parseClusterArgs('status', ['--name=c']), { name: 'c' });
  assert.throws(() => parseClusterArgs('up', ['--name']), /--name needs a value/);
  assert.throws(() => parseClusterArgs('down', ['b']), /unknown argument "b" for down/);
  assert.throws(() => parseClusterArgs('up', ['--name', 'a', '--name', 'b']), /--name is given twice/);
  for (const bad of ['A', '-a', 'a-', 'a_b', 'a.b', 'abcdefghijk', '']) {
    assert.throws(() => checkClusterName(bad), /--name/, bad);
  }
  assert.throws(() => clusterConfig('a', 0), /slot 0/);
});

test('slots: claimed atomically by concurrent starts, kept by a name across restarts, released by down', () => {
  // slots.ts reads ADCI_CACHE_DIR when loaded: a child process with a scratch cache directory.
  const cache = mkdtempSync(join(tmpdir(), 'adci-slots-'));
  try {
    const script = `
      const { claimSlot, releaseSlot, slotOf } = await import(${JSON.stringify(join(import.meta.dirname, '..', 'cluster', 'slots.ts'))});
      const first = await Promise.all(['a', 'b', 'c', 'd', 'a'].map((n) => claimSlot(n)));
      await releaseSlot('a');
      await releaseSlot('b');
      const gone = await slotOf('a');
      const again = [await claimSlot('b'), await claimSlot('a'), await claimSlot('e')];
      console.log(JSON.stringify({ first, gone: gone ?? null, again }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, ADCI_CACHE_DIR: cache },
      encoding: 'utf8',
    });
    const { first, gone, again } = JSON.parse(out) as { first: number[]; gone: null; again: number[] };
    // Four names, four different slots; a name asked twice gets its own slot back.
    assert.deepEqual([...first.slice(0, 4)].sort(), [1, 2, 3, 4]);
    assert.equal(first[4], first[0]);
    assert.equal(gone, null);
    // b and a get their own slots back (their addresses stay the same); e takes a free one.
    const [bAgain, aAgain, e] = again as [number, number, number];
    assert.equal(bAgain, first[1]);
    assert.equal(aAgain, first[0]);
    assert.equal(e, 5);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

/** One GET on a fresh connection to a loopback address. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

function web(cluster: string): object[] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'echo',
                image: 'adci/echo:v1',
                env: [
                  { name: 'PORT', value: '8080' },
                  { name: 'GREETING', value: `hello from ${cluster}` },
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                ],
                ports: [{ name: 'http', containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: {
        type: 'NodePort',
        selector: { app: 'web' },
        // The same NodePort in every cluster: each serves it on its own address.
        ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort }],
      },
    },
  ];
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

test(
  'three named clusters run side by side, each on its own address',
  {
    skip: namedClustersSkip(),
    timeout: 30 * 60_000,
  },
  async (t) => {
    say(`load average before: ${loadAverage()}`);
    const set = await ensureClusters(names);
    // Namespaces go first (a cluster that was already up stays clean), then the clusters started here.
    const created: TestNamespace[] = [];
    t.after(async () => {
      await Promise.allSettled(created.map((ns) => ns.remove()));
      await set.stop();
    });
    const clusters = set.list;
    for (const c of clusters) {
      say(
        `${c.name}: ${c.startedHere ? `started here, \`up\` took ${((c.upMs ?? 0) / 1000).toFixed(1)} s` : 'already running'}` +
          ` (ready ${c.startSeconds ?? '?'} s after its first process) at ${c.nodeAddress}, API ${c.server}`,
      );
    }

    // Each cluster is on its own loopback address, none on the default cluster's.
    const addresses = clusters.map((c) => c.nodeAddress);
    assert.equal(new Set(addresses).size, 3, addresses.join(' '));
    for (const address of addresses) {
      assert.match(address, /^127\.0\.0\.(\d+)$/);
      assert.notEqual(address, '127.0.0.1');
    }
    assert.equal(new Set(clusters.map((c) => c.kubeconfig)).size, 3);

    // `status --name` describes the named cluster and passes.
    for (const c of clusters) {
      const status = await namedClusterStatus(c.name);
      assert.equal(status.code, 0, status.output);
      assert.match(status.output, new RegExp(`^cluster: +${c.name} \\(slot \\d+\\)$`, 'm'));
      assert.ok(status.output.includes(`NodePorts:             ${c.nodeAddress} (30000-32767)`), status.output);
      if (c === clusters[0]) say(`\n$ npm run cluster -- status --name ${c.name}\n${status.output}`);
    }
    const missing = await namedClusterStatus('e2e-none');
    assert.equal(missing.code, 1);
    assert.match(missing.output, /cluster e2e-none: not running \(run `npm run cluster -- up --name e2e-none`\)/);

    const idle = await Promise.all(clusters.map((c) => localClusterMemory(c.name)));

    // A Deployment and a NodePort Service in each, on the same NodePort.
    const namespaces = await Promise.all(clusters.map((c) => createNamespace('clusters', c.options)));
    created.push(...namespaces);
    await Promise.all(clusters.map((c, i) => applyManifest(namespaces[i]!, web(c.name), c.options)));
    await Promise.all(
      clusters.map((c, i) =>
        waitFor(
          `deployment web in ${c.name} to be available`,
          async () => {
            const d = await kubectlJson<{ status: { availableReplicas?: number } }>(
              ['-n', namespaces[i]!.name, 'get', 'deployment', 'web'],
              c.options,
            );
            return d.status.availableReplicas === 2;
          },
          { timeoutMs: 180_000 },
        ),
      ),
    );

    // Each answers on its own address with its own greeting; its pods have addresses from its own CIDR.
    for (const [i, c] of clusters.entries()) {
      const url = `http://${c.nodeAddress}:${nodePort}/`;
      const seen = new Set<string>();
      await waitFor(`${url} to answer`, async () => (await get(url)).status === 200, { timeoutMs: 30_000 });
      for (let n = 0; n < 20; n++) {
        const res = await get(url);
        assert.equal(res.status, 200, `${url}: ${res.body}`);
        const body = JSON.parse(res.body) as { greeting?: string; pod?: string };
        assert.equal(body.greeting, `hello from ${c.name}`, url);
        seen.add(body.pod ?? '');
      }
      // kube-proxy takes a pod into its rules a sync period after the pod turns ready (the Deployment
      // can be available before that): the NodePort reaches both pods soon after, not at once.
      await waitFor(
        `${url} to reach both pods (reached ${[...seen].join(', ')})`,
        async () => {
          const res = await get(url);
          if (res.status === 200) seen.add((JSON.parse(res.body) as { pod?: string }).pod ?? '');
          return seen.size === 2;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      assert.equal(seen.size, 2, `${url} reached pods ${[...seen].join(', ')}`);
      const pods = await kubectlJson<{ items: { status: { podIP?: string } }[] }>(
        ['-n', namespaces[i]!.name, 'get', 'pods', '-l', 'app=web'],
        c.options,
      );
      const prefix = c.podCidr.replace(/0\/24$/, '');
      for (const pod of pods.items)
        assert.ok(pod.status.podIP?.startsWith(prefix), `${pod.status.podIP} in ${c.podCidr}`);
    }

    // Independent: a namespace in one cluster does not exist in the others.
    const only = await createNamespace('only-in-first', clusters[0]!.options);
    created.push(only);
    for (const c of clusters.slice(1)) {
      const result = await kubectl(['get', 'namespace', only.name], c.options);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /NotFound/);
    }
    for (const [i, c] of clusters.entries()) {
      const others = namespaces.filter((_, j) => j !== i).map((ns) => ns.name);
      for (const other of others) {
        assert.notEqual((await kubectl(['get', 'namespace', other], c.options)).code, 0, `${other} in ${c.name}`);
      }
    }

    // Memory with the Deployment running, and the CPU the three use while idle.
    const busy = await Promise.all(clusters.map((c) => localClusterMemory(c.name)));
    const windowS = 30;
    const cpuBefore = await Promise.all(clusters.map((c) => localClusterCpuSeconds(c.name)));
    await sleep(windowS * 1000);
    const cpuAfter = await Promise.all(clusters.map((c) => localClusterCpuSeconds(c.name)));
    say('\ncluster  ready   up (wall)  idle memory  with 2 echo pods      CPU idle (% of one core)');
    clusters.forEach((c: ClusterHandle, i) => {
      const cpu = ((cpuAfter[i]! - cpuBefore[i]!) / windowS) * 100;
      say(
        `${c.name.padEnd(8)} ${`${c.startSeconds ?? '?'} s`.padEnd(7)} ${(c.upMs === undefined ? '-' : `${(c.upMs / 1000).toFixed(1)} s`).padEnd(10)} ` +
          `${mb(idle[i]!.componentsKib).padEnd(12)} ${`${mb(busy[i]!.totalKib)} (pods ${mb(busy[i]!.podsKib)})`.padEnd(21)} ${cpu.toFixed(1)} %`,
      );
    });
    const total = (list: { totalKib: number }[]) => list.reduce((sum, m) => sum + m.totalKib, 0);
    const cpuTotal = cpuAfter.reduce((sum, v, i) => sum + v - cpuBefore[i]!, 0);
    say(
      `three clusters: ${mb(total(idle))} idle, ${mb(total(busy))} with the pods; ` +
        `${((cpuTotal / windowS) * 100).toFixed(1)} % of one core idle over ${windowS} s; load average ${loadAverage()}`,
    );
    say(
      'per component (idle): ' +
        Object.keys(idle[0]!.components)
          .map((name) => `${name} ${mb(idle.reduce((sum, m) => sum + (m.components[name] ?? 0), 0) / 3)}`)
          .join(', ') +
        ' (mean of the three)',
    );
    for (const m of busy) assert.ok(m.totalKib > 0);
  },
);

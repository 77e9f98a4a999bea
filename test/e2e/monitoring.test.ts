// Metric analysis end to end: the example service on the local cluster, a real Prometheus that
// discovers its pods through kubernetes_sd_configs and scrapes them every second, and the built
// blue-green-deploy bundle with a post-promotion analysis. Users' traffic runs throughout (GET
// /campaigns and POST /bid through the NodePort); the HTTP post-promotion checks only touch /health,
// /ready and /bid, so they pass by construction while 5% of /campaigns fail.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runActionBundle, type ActionResult } from '../runner/index.ts';
import {
  clusterTestSkip,
  createAdPlatformNamespace,
  kubectlJson,
  nodePortOf,
  type TestNamespace,
} from '../cluster/testing.ts';
import { nodeAddress, testKubeconfig } from '../cluster/kubeconfig.ts';
import {
  freePort,
  missingMonitoringReason,
  startAdPlatformTraffic,
  startMonitoring,
  type Monitoring,
} from '../cluster/monitoring.ts';

const clusterSkip = clusterTestSkip();
const skip = clusterSkip || (process.env.CI ? false : (missingMonitoringReason() ?? false));
const example = join(repoRoot, 'examples', 'ad-platform');
const work = mkdtempSync(join(tmpdir(), 'adci-monitoring-'));
const token = `analysis-${randomBytes(12).toString('hex')}`;

/** The example's Deployment with release knobs added to its env, as a team ships a bad release. */
function deploymentWith(env: Record<string, string>): string {
  const text = readFileSync(join(example, 'deploy', 'deployment.yaml'), 'utf8');
  const lines = Object.entries(env)
    .map(([k, v]) => `            - name: ${k}\n              value: '${v}'`)
    .join('\n');
  const file = join(work, `deployment-${Object.keys(env).join('-') || 'plain'}.yaml`);
  writeFileSync(file, lines ? text.replace(/^( {10}env:\n)/m, `$1${lines}\n`) : text);
  return file;
}

// Fast windows for a test; the example's own file (deploy/monitoring/analysis.yml) uses [1m].
const ERROR_RATE =
  '(sum(rate(http_requests_total{namespace="{{ namespace }}",version="{{ version }}",code=~"5.."}[10s])) or vector(0))' +
  ' / sum(rate(http_requests_total{namespace="{{ namespace }}",version="{{ version }}"}[10s]))';
const BID_P99 =
  'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="{{ namespace }}",version="{{ version }}",route="/bid"}[10s])))';

function analysisFile(name: string, metrics: string, prometheus?: string): string {
  const file = join(work, `${name}.yml`);
  writeFileSync(file, `${prometheus ? `prometheus: ${prometheus}\n` : ''}metrics:\n${metrics}`);
  return file;
}

const postChecks = join(work, 'post-checks.yml');
writeFileSync(
  postChecks,
  `checks:
  - { name: health, path: /health, expect: { status: 200 } }
  - { name: ready, path: /ready, expect: { status: 200 } }
  - { name: bid, method: POST, path: /bid, json: { country: ZZ, device: mobile }, expect: { status: [200, 204] } }
`,
);

describe(
  'metric analysis against a real Prometheus on the local cluster',
  { skip, concurrency: false, timeout: 1_200_000 },
  () => {
    let ns: TestNamespace;
    let monitoring: Monitoring;
    let traffic: ReturnType<typeof startAdPlatformTraffic> | undefined;
    const kubeconfig = (): string => readFileSync(testKubeconfig() ?? '', 'utf8');

    async function deploy(inputs: Record<string, string>): Promise<ActionResult> {
      return runActionBundle('blue-green-deploy', {
        with: {
          kubeconfig: kubeconfig(),
          namespace: ns.name,
          manifests: [join(example, 'deploy', 'service.yaml'), join(example, 'deploy', 'serviceaccount.yaml')].join(
            '\n',
          ),
          'scale-down-delay': '2s',
          timeout: '150s',
          ...inputs,
          ...(inputs.manifests
            ? {
                manifests: `${inputs.manifests}\n${join(example, 'deploy', 'service.yaml')}\n${join(example, 'deploy', 'serviceaccount.yaml')}`,
              }
            : {}),
        },
        timeoutMs: 300_000,
      });
    }

    const errorOf = (r: ActionResult): string =>
      r.annotations
        .filter((a) => a.level === 'error')
        .map((a) => a.message)
        .join('\n');

    async function activeColor(): Promise<string | undefined> {
      const svc = await kubectlJson<{ spec: { selector: Record<string, string> } }>([
        '-n',
        ns.name,
        'get',
        'service',
        'ad-platform',
      ]);
      return svc.spec.selector['adci.dev/color'];
    }

    before(async () => {
      ns = await createAdPlatformNamespace('monitoring', `e2e=${token}`);
      monitoring = await startMonitoring({ kubernetes: { kubeconfig: testKubeconfig() ?? '', namespaces: [ns.name] } });
      const first = await deploy({
        manifests: deploymentWith({}),
        image: 'ad-platform:v1',
        'post-promotion-window': '1s',
      });
      assert.equal(first.outputs.result, 'promoted', `${errorOf(first)}\n${first.stdout.slice(-3000)}`);
      const port = await nodePortOf(ns, 'ad-platform');
      traffic = startAdPlatformTraffic(nodeAddress(), port);
    });

    after(async () => {
      await traffic?.stop();
      await monitoring?.stop();
      await ns?.remove();
      for (const suffix of ['', '-wal', '-shm'])
        rmSync(`/var/lib/ad-platform/${ns?.name}.db${suffix}`, { force: true });
      rmSync(work, { recursive: true, force: true });
    });

    test('Prometheus discovers the pods through kubernetes_sd_configs and scrapes the annotated ones every second', async () => {
      interface Target {
        scrapePool: string;
        scrapeInterval: string;
        scrapeUrl: string;
        health: string;
        labels: Record<string, string>;
        discoveredLabels: Record<string, string>;
      }
      let targets: Target[] = [];
      for (let i = 0; i < 100; i++) {
        const body = (await (await fetch(`${monitoring.prometheusUrl}/api/v1/targets?state=active`)).json()) as {
          data: { activeTargets: Target[] };
        };
        targets = body.data.activeTargets.filter((t) => t.scrapePool === 'kubernetes-pods');
        if (targets.length && targets.every((t) => t.health === 'up')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(targets.length >= 1, `no kubernetes-pods target up:\n${await monitoring.logs()}`);
      for (const target of targets) {
        assert.equal(target.health, 'up');
        assert.equal(target.scrapeInterval, '1s');
        assert.equal(target.labels.namespace, ns.name);
        assert.equal(target.labels.app, 'ad-platform');
        assert.match(target.labels.color ?? '', /^(blue|green)$/);
        assert.equal(target.labels.pod, target.discoveredLabels.__meta_kubernetes_pod_name);
        assert.equal(target.discoveredLabels.__meta_kubernetes_pod_annotation_prometheus_io_scrape, 'true');
        // prometheus.io/port and /path from the pod's annotations.
        assert.match(target.scrapeUrl, /^http:\/\/[\d.]+:8080\/metrics$/);
      }
      // The configuration Prometheus runs names the API server and credential files, never the keys.
      const config = (
        (await (await fetch(`${monitoring.prometheusUrl}/api/v1/status/config`)).json()) as { data: { yaml: string } }
      ).data.yaml;
      assert.match(config, /kubernetes_sd_configs:/);
      assert.match(config, /api_server: https:\/\//);
      assert.doesNotMatch(config, /http_sd_configs/);
      const key = /client-key-data: (\S+)/.exec(kubeconfig())?.[1];
      if (key) {
        const pem = Buffer.from(key, 'base64').toString('utf8');
        const secret = pem.split('\n')[1] ?? pem;
        assert.ok(!config.includes(key) && !config.includes(secret), 'the client key is in the configuration');
        assert.ok(!(await monitoring.logs()).includes(secret), 'the client key is in a log');
      }
    });

    test('v2 failing 5% of /campaigns passes every HTTP check; the post-promotion analysis rolls back', async () => {
      const analysis = analysisFile(
        'error-rate',
        `  - name: error-rate
    query: ${ERROR_RATE}
    success: result < 0.01
    interval: 2s
    count: 8
    failure-limit: 1
    inconclusive-limit: 8
`,
        monitoring.prometheusUrl,
      );
      const result = await deploy({
        manifests: deploymentWith({ ERROR_RATE: '0.05' }),
        image: 'ad-platform:v2-errors',
        'post-promotion-checks': postChecks,
        'post-promotion-analysis': analysis,
        'post-promotion-window': '20s',
      });
      assert.equal(result.outputs.result, 'rolled-back', `${errorOf(result)}\n${result.stdout.slice(-3000)}`);
      assert.match(
        errorOf(result),
        /post-promotion analysis failed on green: metric error-rate failed: 2 of \d+ measurements missed `result < 0\.01`/,
      );
      assert.equal(await activeColor(), 'blue');
      // Every HTTP check passed: only the analysis saw the failures.
      assert.doesNotMatch(result.summary, /\| post \| \d+ \| [1-9]/);
      assert.match(result.summary, /#### ❌ error-rate: failed/);
      assert.match(result.summary, /```mermaid\nxychart-beta\n {2}title "error-rate: result < 0.01"/);
      // A table cell escapes `<` (markdownCell), so GitHub never reads it as the start of a tag.
      assert.match(result.summary, /\| 0\.0[1-9]\d* \| result &lt; 0\.01 \| failed \|/);
    });

    test('v2 with EXTRA_LATENCY on /bid fails the p99 metric and rolls back', async () => {
      const analysis = analysisFile(
        'bid-p99',
        `  - name: bid-p99
    query: ${BID_P99}
    success: result < 0.05
    interval: 2s
    count: 6
    failure-limit: 1
`,
        monitoring.prometheusUrl,
      );
      const result = await deploy({
        manifests: deploymentWith({ EXTRA_LATENCY: '120ms' }),
        image: 'ad-platform:v2-slow',
        'post-promotion-checks': postChecks,
        'post-promotion-analysis': analysis,
        'post-promotion-window': '15s',
      });
      assert.equal(result.outputs.result, 'rolled-back', `${errorOf(result)}\n${result.stdout.slice(-3000)}`);
      assert.match(errorOf(result), /metric bid-p99 failed: 2 of \d+ measurements missed `result < 0\.05`/);
      assert.equal(await activeColor(), 'blue');
    });

    test('bad file, unreachable Prometheus, a PromQL syntax error and no data each say so, distinctly', async () => {
      const bad = analysisFile(
        'bad',
        `  - name: typo\n    query: up\n    sucess: result < 1\n`,
        monitoring.prometheusUrl,
      );
      const badFile = await deploy({
        manifests: deploymentWith({}),
        image: 'ad-platform:v3',
        'pre-promotion-analysis': bad,
      });
      assert.equal(badFile.exitCode, 1);
      assert.match(
        errorOf(badFile),
        /Input 'pre-promotion-analysis': .*bad\.yml:5: metrics\[0\]\.sucess: unknown key 'sucess'/,
      );
      assert.equal(badFile.outputs.result ?? '', '', 'nothing may change on an input error');

      const port = await freePort();
      const cases: [string, string, RegExp][] = [
        [
          'unreachable',
          analysisFile(
            'unreachable',
            `  - name: up\n    query: up\n    success: result == 1\n`,
            `http://127.0.0.1:${port}`,
          ),
          new RegExp(
            `metric up: Prometheus at http://127\\.0\\.0\\.1:${port} is unreachable \\(ECONNREFUSED\\) \\(after 4 attempts\\)`,
          ),
        ],
        [
          'syntax',
          analysisFile(
            'syntax',
            `  - name: typo\n    query: sum(rate(http_requests_total[1m])\n    success: result < 1\n`,
            monitoring.prometheusUrl,
          ),
          /metric typo: Prometheus rejected the query: .*parse error/,
        ],
        [
          'no data',
          analysisFile(
            'nodata',
            `  - name: ghost\n    query: sum(rate(http_requests_total{version="does-not-exist"}[10s]))\n    success: result < 1\n    interval: 1s\n    inconclusive-limit: 3\n`,
            monitoring.prometheusUrl,
          ),
          /metric ghost is inconclusive: the query returned no data 3 times/,
        ],
      ];
      const messages: string[] = [];
      for (const [name, file, pattern] of cases) {
        const result = await deploy({
          manifests: deploymentWith({}),
          image: 'ad-platform:v3',
          'pre-promotion-analysis': file,
        });
        assert.equal(result.outputs.result, 'failed', `${name}: ${errorOf(result)}`);
        assert.match(errorOf(result), pattern, name);
        assert.match(errorOf(result), /pre-promotion analysis failed on green/, name);
        assert.equal(await activeColor(), 'blue', `${name}: traffic moved`);
        messages.push(errorOf(result));
      }
      assert.equal(new Set(messages).size, 3);
    });

    test('a healthy v2 passes both metrics and promotes; the summary charts each', async () => {
      const analysis = analysisFile(
        'healthy',
        `  - name: error-rate
    query: ${ERROR_RATE}
    success: result < 0.01
    interval: 2s
    count: 4
    inconclusive-limit: 8
  - name: bid-p99
    query: ${BID_P99}
    success: result < 0.05
    interval: 2s
    count: 4
    failure-limit: 1
    inconclusive-limit: 8
`,
        monitoring.prometheusUrl,
      );
      const result = await deploy({
        manifests: deploymentWith({}),
        image: 'ad-platform:v2',
        'post-promotion-checks': postChecks,
        'post-promotion-analysis': analysis,
        'post-promotion-window': '10s',
      });
      assert.equal(
        result.outputs.result,
        'promoted',
        `${errorOf(result)}\n${result.summary}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`,
      );
      assert.equal(await activeColor(), 'green');
      assert.match(result.summary, /#### ✅ error-rate: passed/);
      assert.match(result.summary, /#### ✅ bid-p99: passed/);
      assert.equal((result.summary.match(/xychart-beta/g) ?? []).length, 2);
      const stats = await traffic?.stop();
      traffic = undefined;
      assert.ok(stats && stats.sent > 100, `traffic: ${JSON.stringify(stats)}`);
    });
  },
);

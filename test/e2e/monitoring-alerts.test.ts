// Alerting end to end: the example's alerting rules in a real Prometheus (scraping the example
// service's pods on the local cluster every second) and the example's Alertmanager config in a real
// Alertmanager, its Slack webhook pointed at the local Slack-compatible receiver. A bad release (/bid
// slowed by EXTRA_LATENCY) is left running: the /bid p99 alert fires and Slack gets the message; after a
// rollback the resolved message arrives. Only the notification timings are shortened for the test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot, runActionBundle, type ActionResult } from '../runner/index.ts';
import { clusterTestSkip, createAdPlatformNamespace, nodePortOf, type TestNamespace } from '../cluster/testing.ts';
import { nodeAddress, testKubeconfig } from '../cluster/kubeconfig.ts';
import {
  missingMonitoringReason,
  startAdPlatformTraffic,
  startMonitoring,
  type Monitoring,
} from '../cluster/monitoring.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';

const skip = clusterTestSkip() || (process.env.CI ? false : (missingMonitoringReason() ?? false));
const example = join(repoRoot, 'examples', 'ad-platform');
const monitoringDir = join(example, 'deploy', 'monitoring');
const work = mkdtempSync(join(tmpdir(), 'adci-alerts-'));

interface SlackMessage {
  attachments?: { title?: string; text?: string }[];
  channel?: string;
}

describe('alerting: a bad release pages Slack, the rollback resolves it', { skip, timeout: 900_000 }, () => {
  let ns: TestNamespace;
  let slack: FakeSlack;
  let monitoring: Monitoring;
  let traffic: ReturnType<typeof startAdPlatformTraffic> | undefined;

  const deploy = (inputs: Record<string, string>): Promise<ActionResult> =>
    runActionBundle('blue-green-deploy', {
      with: {
        kubeconfig: readFileSync(testKubeconfig() ?? '', 'utf8'),
        namespace: ns.name,
        'post-promotion-window': '1s',
        'scale-down-delay': '2s',
        timeout: '150s',
        ...inputs,
      },
      timeoutMs: 300_000,
    });

  const manifests = (env: Record<string, string>): string => {
    const text = readFileSync(join(example, 'deploy', 'deployment.yaml'), 'utf8');
    const lines = Object.entries(env)
      .map(([k, v]) => `            - name: ${k}\n              value: '${v}'`)
      .join('\n');
    const file = join(work, `deployment-${Object.keys(env).join('-') || 'plain'}.yaml`);
    writeFileSync(file, lines ? text.replace(/^( {10}env:\n)/m, `$1${lines}\n`) : text);
    return [file, join(example, 'deploy', 'service.yaml'), join(example, 'deploy', 'serviceaccount.yaml')].join('\n');
  };

  const messages = (): SlackMessage[] =>
    slack.received.filter((r) => r.answeredWith === 200).map((r) => r.json as SlackMessage);

  async function waitForMessage(pattern: RegExp, timeoutMs: number): Promise<SlackMessage> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = messages().find((m) => pattern.test(m.attachments?.[0]?.title ?? ''));
      if (found) return found;
      if (Date.now() > until) {
        const alerts = await fetch(`${monitoring.prometheusUrl}/api/v1/alerts`).then((r) => r.text());
        assert.fail(
          `no Slack message matching ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(messages().map((m) => m.attachments?.[0]?.title))}; Prometheus alerts: ${alerts}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  before(async () => {
    slack = await startFakeSlack();
    // The example's Alertmanager config as it is, but for the webhook (a secret file, as in
    // production) and the notification timings (30s/5m would make a slow test).
    const webhookFile = join(work, 'slack-webhook-url');
    writeFileSync(webhookFile, slack.webhookUrl);
    const config = parse(readFileSync(join(monitoringDir, 'alertmanager.yml'), 'utf8')) as {
      route: Record<string, unknown>;
      receivers: { slack_configs: { api_url_file: string }[] }[];
    };
    for (const receiver of config.receivers) for (const s of receiver.slack_configs) s.api_url_file = webhookFile;
    Object.assign(config.route, { group_wait: '1s', group_interval: '1s', repeat_interval: '1h' });
    ns = await createAdPlatformNamespace('alerts', `e2e=alerts-${randomBytes(12).toString('hex')}`);
    monitoring = await startMonitoring({
      kubernetes: { kubeconfig: testKubeconfig() ?? '', namespaces: [ns.name] },
      ruleFiles: [join(monitoringDir, 'rules.yml')],
      evaluationInterval: '1s',
      alertmanagerConfig: stringify(config),
    });
    const first = await deploy({ manifests: manifests({}), image: 'ad-platform:v1' });
    assert.equal(first.outputs.result, 'promoted', first.stdout.slice(-3000));
    traffic = startAdPlatformTraffic(nodeAddress(), await nodePortOf(ns, 'ad-platform'));
  });

  after(async () => {
    await traffic?.stop();
    await monitoring?.stop();
    await slack?.close();
    await ns?.remove();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`/var/lib/ad-platform/${ns?.name}.db${suffix}`, { force: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('the /bid p99 alert reaches Slack while the slow release runs, and resolves after the rollback', async () => {
    const bad = await deploy({ manifests: manifests({ EXTRA_LATENCY: '120ms' }), image: 'ad-platform:v2-slow' });
    assert.equal(bad.outputs.result, 'promoted', bad.stdout.slice(-3000)); // no analysis: it goes live
    // `for: 1m` in the rule, then Alertmanager's group_wait.
    const firing = await waitForMessage(/^\[FIRING:1\] AdPlatformBidLatencyP99/, 150_000);
    assert.equal(firing.channel, '#ad-platform-alerts');
    assert.match(firing.attachments?.[0]?.title ?? '', new RegExp(`\\(${ns.name}\\)$`));
    assert.match(
      firing.attachments?.[0]?.text ?? '',
      /ad-platform \/bid p99 above 50 ms in .*: p99 of \/bid is \d+(\.\d+)?ms/,
    );
    assert.ok(
      !messages().some((m) => /ErrorBudgetBurn/.test(m.attachments?.[0]?.title ?? '')),
      'no errors were injected',
    );

    const rollback = await deploy({ manifests: manifests({}), action: 'rollback' });
    assert.equal(rollback.outputs.result, 'rolled-back', rollback.stdout.slice(-3000));
    // The slow samples leave the rule's 1m window, then Alertmanager sends the resolution.
    const resolved = await waitForMessage(/^\[RESOLVED\] AdPlatformBidLatencyP99/, 150_000);
    assert.match(resolved.attachments?.[0]?.title ?? '', new RegExp(`\\(${ns.name}\\)$`));
    const stats = await traffic?.stop();
    traffic = undefined;
    assert.ok(stats && stats.sent > 200, JSON.stringify(stats));
  });
});

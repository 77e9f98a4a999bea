// `npm run demo [-- --keep]`: the README's "see it work". Starts the local Kubernetes cluster if it is
// not up (building it on first use) and a local Slack-compatible receiver that prints each message,
// then runs the reference pipeline (.github/workflows/ad-platform.yml) with act, as pushes to
// develop: release v1 (quality gate on the example's real reports, blue-green deploy, smoke and load,
// Slack), release v2 while traffic flows (zero failed requests shown), then a bad release (the
// chart's values set ERROR_RATE: a configuration-only release) that the post-promotion checks catch and roll back, with a failure
// notification. Ends with each stage and its timing. --keep leaves the namespace (and the cluster)
// running with kubectl instructions; otherwise the demo removes its namespace and stops the cluster
// only if it started it.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureAct, runAct, type ActResult } from '../test/act/act.ts';
import { ensureHelm } from '../test/cluster/helm.ts';
import { createActRepository } from '../test/act/repo.ts';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack.ts';
import {
  createAdPlatformNamespace,
  kubectlBinary,
  kubectlOk,
  nodeAddress,
  nodePortOf,
  testKubeconfig,
  type TestNamespace,
} from '../test/cluster/testing.ts';

const root = join(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');
const say = (line = '') => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface StageTiming {
  stage: string;
  outcome: string;
  ms: number;
}
const report: StageTiming[] = [];

async function timed<T>(stage: string, work: () => Promise<T>, outcome: (value: T) => string): Promise<T> {
  const started = Date.now();
  say(`\n━━ ${stage}`);
  const value = await work();
  report.push({ stage, outcome: outcome(value), ms: Date.now() - started });
  return value;
}

function cluster(command: 'up' | 'down' | 'status', quiet = false): number {
  const result = spawnSync(process.execPath, [join(root, 'test', 'cluster', 'cli.ts'), command], {
    cwd: root,
    stdio: quiet ? 'ignore' : 'inherit',
  });
  return result.status ?? 1;
}

/** Prints each message the receiver accepts, as a line a person reads in Slack. */
function printMessages(slack: FakeSlack): () => void {
  let shown = 0;
  const timer = setInterval(() => {
    for (const request of slack.received.slice(shown)) {
      shown++;
      const text = JSON.stringify(request.json ?? {});
      const header = /"type":"header","text":\{"type":"plain_text","text":"([^"]*)"/.exec(text)?.[1] ?? '(no header)';
      const fields = [...text.matchAll(/"\*([^*"]+)\*\\n([^"]*)"/g)].map((m) => `${m[1]}: ${m[2]}`).slice(0, 6);
      say(`   💬 slack ${request.answeredWith}: ${header}${fields.length ? `  [${fields.join(' · ')}]` : ''}`);
    }
  }, 200);
  return () => clearInterval(timer);
}

/** What failed, with undici's cause ("fetch failed" alone does not say: other side closed, ECONNRESET…). */
function failureOf(reason: unknown): string {
  const cause = (reason as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const at = new Date().toISOString().slice(11, 23);
  return `${String(reason)}${cause ? ` (${cause.code ?? cause.message ?? 'no code'})` : ''} at ${at}`;
}

/** Steady traffic on the live Service while a release happens: every answer that is not 2xx counts. */
function traffic(url: string) {
  let sent = 0;
  let failed = 0;
  const failures: string[] = [];
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const started = Date.now();
      const requests = [
        fetch(`${url}/health`),
        fetch(`${url}/bid`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"country":"QQ","device":"desktop"}', // no campaign targets it: the smoke journey's stays untouched
        }),
      ];
      for (const outcome of await Promise.allSettled(requests)) {
        sent++;
        const status = outcome.status === 'fulfilled' ? outcome.value.status : 0;
        if (outcome.status === 'fulfilled') await outcome.value.arrayBuffer().catch(() => undefined);
        if (status < 200 || status > 299) {
          failed++;
          if (failures.length < 5)
            failures.push(outcome.status === 'fulfilled' ? `HTTP ${status}` : failureOf(outcome.reason));
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - started))));
    }
  };
  const running = loop();
  return {
    async stop() {
      stopped = true;
      await running;
      return { sent, failed, failures };
    },
  };
}

/** act's log, reduced to what a person follows: steps, results, notices. */
function followAct(line: string): void {
  if (
    /⭐ Run Main|✅ {2}Success - Main|❌ {2}Failure - Main|🏁|::notice|set-output:: (result|passed|active-color)=/u.test(
      line,
    )
  ) {
    say(`   ${line.replace(/^\[ad-platform\/?/, '[')}`);
  }
}

async function main(): Promise<number> {
  say('adci demo: the reference pipeline (.github/workflows/ad-platform.yml) run by act on a local Kubernetes');
  const startedCluster = cluster('status', true) !== 0;
  if (startedCluster) {
    const code = await timed(
      'local cluster (npm run cluster -- up; the first build takes about 13 minutes)',
      () => Promise.resolve(cluster('up')),
      (c) => (c === 0 ? 'started' : 'failed'),
    );
    if (code !== 0) return 1;
  } else {
    say('local cluster: already up (it stays up after the demo)');
  }
  const kubeconfigPath = testKubeconfig();
  if (!kubeconfigPath) throw new Error('no kubeconfig after `npm run cluster -- up`');
  await timed(
    'act (built once from the Go module proxy, then cached)',
    () => Promise.resolve(ensureAct(say)),
    () => 'ready',
  );

  const slack = await startFakeSlack();
  const stopPrinting = printMessages(slack);
  say(`Slack-compatible receiver on ${new URL(slack.url).host}: each message is printed as 💬`);
  const repo = createActRepository(root);
  let ns: TestNamespace | undefined;
  const token = `demo-${randomBytes(12).toString('hex')}`;
  let ok = false;
  try {
    ns = await createAdPlatformNamespace('adci-demo', `demo=${token}`);
    // The environment's entry point, as its owners set it up once: its URL is vars.STAGING_URL.
    await kubectlOk(['-n', ns.name, 'apply', '-f', join(root, 'examples', 'ad-platform', 'deploy', 'service.yaml')]);
    const url = `http://${nodeAddress()}:${await nodePortOf(ns, 'ad-platform')}`;
    say(`staging: namespace ${ns.name}, ${url}`);
    const kubeconfig = readFileSync(kubeconfigPath, 'utf8');
    const namespace = ns.name;
    // Staging deploys the example's Helm chart: the job finds helm on PATH, as on GitHub's runners.
    const helmDir = dirname(await ensureHelm());

    const release = (title: string, files: Record<string, string> = {}) => {
      const before = repo.head();
      repo.git('checkout', '--quiet', '-B', 'develop');
      const head = repo.commit(title, files);
      say(`   commit ${head.slice(0, 12)} "${title}" pushed to develop -> image ad-platform:sha-${head.slice(0, 12)}`);
      return runAct({
        cwd: repo.dir,
        workflow: '.github/workflows/ad-platform.yml',
        event: 'push',
        payload: repo.payload('push-develop', { head, before, message: title }),
        secrets: { STAGING_KUBECONFIG: kubeconfig, STAGING_SMOKE_TOKEN: token, SLACK_WEBHOOK_URL: slack.webhookUrl },
        vars: {
          // No Docker engine or registry here: the image job is skipped (the workflow says so) and the
          // cluster's image map serves ad-platform:<any tag> from the example's virtual environment.
          IMAGE_BUILD: 'false',
          IMAGE_REPOSITORY: 'ad-platform',
          // No vulnerability service answers from this machine (examples/ad-platform/README.md).
          PIP_AUDIT_ALLOW_UNAUDITED: 'true',
          STAGING_NAMESPACE: namespace,
          STAGING_URL: url,
          POST_PROMOTION_WINDOW: '20s',
          SCALE_DOWN_DELAY: '5s',
          // Latency thresholds for a shared 2-core machine (the checks file's are the service's SLO); errors stay strict.
          SMOKE_LOAD_THRESHOLDS: 'p(95)<500ms\np(99)<1s\nerror_rate<0.01\ndropped_rate<0.01',
        },
        onLine: followAct,
        toolDirs: [helmDir],
      });
    };
    const jobs = (r: ActResult) => r.jobs.map((j) => `${j.job.replace(/\/.*/, '')} ${j.result}`).join(', ');
    const live = async () => ((await (await fetch(`${url}/health`)).json()) as { version: string }).version;

    const v1 = await timed(
      'release v1: quality gate -> deploy -> smoke + load -> notify',
      () => release('v1: the ad platform'),
      (r) => (r.code === 0 ? `passed (${jobs(r)})` : `FAILED (${jobs(r)})`),
    );
    if (v1.code !== 0) throw new Error('release v1 failed: see the log above');
    const v1Version = await live();
    say(`   live: ${v1Version}`);

    const load = traffic(url);
    const v2 = await timed(
      'release v2 while traffic flows (20 requests/s on /health and /bid)',
      () => release('v2: raise the default bid'),
      (r) => (r.code === 0 ? 'passed' : 'FAILED'),
    );
    const flow = await load.stop();
    report.push({
      stage: '  traffic during release v2',
      outcome: `${flow.sent} requests, ${flow.failed} failed${flow.failures.length ? ` (${flow.failures.join(', ')})` : ''}`,
      ms: 0,
    });
    say(`   traffic during the release: ${flow.sent} requests, ${flow.failed} failed`);
    if (v2.code !== 0 || flow.failed !== 0) throw new Error('release v2 failed or dropped requests: see the log above');
    const v2Version = await live();
    say(`   live: ${v2Version}`);

    // Staging deploys the example's chart: the bad release is a configuration change (versioned with
    // the colour), half of /campaigns answering 500.
    const values = readFileSync(join(repo.dir, 'examples', 'ad-platform', 'chart', 'values.yaml'), 'utf8');
    const bad = values.replace(
      'config:\n  GRACEFUL_TIMEOUT: 20s\n',
      "config:\n  GRACEFUL_TIMEOUT: 20s\n  # The bad release: half of /campaigns answers 500.\n  ERROR_RATE: '0.5'\n",
    );
    if (bad === values) throw new Error('chart/values.yaml changed shape: cannot plant ERROR_RATE');
    const v3 = await timed(
      'release v3, a bad one (ERROR_RATE=0.5): post-promotion checks -> automatic rollback -> failure notification',
      () => release('v3: new campaign listing (bad)', { 'examples/ad-platform/chart/values.yaml': bad }),
      (r) =>
        r.code !== 0 && /result=rolled-back/.test(r.output)
          ? 'rolled back, pipeline failed as it should'
          : 'NOT rolled back',
    );
    const afterBad = await live();
    say(`   live after the rollback: ${afterBad} (v2 was ${v2Version})`);
    const rolledBack = v3.code !== 0 && /result=rolled-back/.test(v3.output) && afterBad === v2Version;
    await new Promise((r) => setTimeout(r, 500)); // the last Slack message is printed
    const failureMessages = slack.received.filter((r) =>
      /failed|rolled-back/.test(JSON.stringify(r.json ?? {})),
    ).length;
    report.push({ stage: '  failure notifications', outcome: `${failureMessages} delivered`, ms: 0 });
    if (!rolledBack || failureMessages === 0) throw new Error('the bad release was not rolled back and reported');
    ok = true;
  } catch (error) {
    say(`\n✖ ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    stopPrinting();
    await slack.close();
    repo.remove();
    say('\n━━ report');
    for (const r of report)
      say(`${r.stage.padEnd(100)} ${r.ms ? seconds(r.ms).padStart(8) : ''.padStart(8)}  ${r.outcome}`);
    say(ok ? '\ndemo: all stages behaved as expected' : '\ndemo: FAILED');
    if (keep && ns) {
      const kubectl = kubectlBinary();
      say(`\n--keep: the cluster and namespace ${ns.name} stay up. Explore:`);
      say(`  export KUBECONFIG=${kubeconfigPath}`);
      say(`  ${kubectl} -n ${ns.name} get deployments,pods,services -o wide`);
      say(
        `  ${kubectl} -n ${ns.name} get service ad-platform -o jsonpath='{.spec.selector}{"\\n"}{.metadata.annotations}'`,
      );
      say(
        `  curl ${nodeAddress()}:$(${kubectl} -n ${ns.name} get service ad-platform -o jsonpath='{.spec.ports[0].nodePort}')/health`,
      );
      say(`When done: ${kubectl} delete namespace ${ns.name}; npm run cluster -- down`);
    } else {
      if (ns) {
        await ns.remove().catch(() => undefined);
        for (const suffix of ['', '-wal', '-shm'])
          rmSync(`/var/lib/ad-platform/${ns.name}.db${suffix}`, { force: true });
      }
      if (startedCluster) {
        say('stopping the cluster the demo started (npm run cluster -- down)');
        cluster('down');
      }
    }
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

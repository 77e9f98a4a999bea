// `npm run demo` as the README tells a user to run it, against the shared local cluster: three
// releases through the reference pipeline under act (v1; v2 under traffic with zero failed requests;
// a bad release rolled back and reported), the Slack receiver's printed messages and the final
// report. The cluster was up before, so the demo must leave it up, and it removes its namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { clusterTestSkip, kubectlOk } from '../cluster/testing.ts';
import { repoRoot } from '../runner/index.ts';

test(
  'npm run demo: v1, v2 under traffic without a failed request, a bad release rolled back',
  {
    skip: clusterTestSkip(),
    timeout: 2_400_000,
  },
  async () => {
    const before = await kubectlOk(['get', 'namespaces', '-o', 'name']);
    const env = { ...process.env };
    delete env.KUBECONFIG;
    const result = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn('npm', ['run', '--silent', 'demo'], {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output }));
    });
    const output = result.output.length > 60_000 ? `…${result.output.slice(-60_000)}` : result.output;
    assert.equal(result.code, 0, output);
    assert.match(result.output, /local cluster: already up/);
    // Each stage in the report, with its outcome.
    assert.match(result.output, /━━ report/);
    assert.match(result.output, /release v1: quality gate -> deploy -> smoke \+ load -> notify\s+[\d.]+ s {2}passed/);
    assert.match(result.output, /release v2 while traffic flows.*\s+[\d.]+ s {2}passed/);
    assert.match(result.output, /traffic during release v2\s+\d+ requests, 0 failed/);
    const sent = Number(/traffic during release v2\s+(\d+) requests/.exec(result.output)?.[1]);
    assert.ok(sent > 100, `only ${sent} requests during the release`);
    assert.match(result.output, /release v3, a bad one.*\s+[\d.]+ s {2}rolled back, pipeline failed as it should/);
    assert.match(result.output, /failure notifications\s+[1-9]\d* delivered/);
    assert.match(result.output, /demo: all stages behaved as expected/);
    // The receiver printed the messages as they came: success ones and the rollback.
    assert.match(result.output, /💬 slack 200: .*deploy staging, promoted/);
    assert.match(result.output, /💬 slack 200: .*deploy staging, rolled-back/);
    assert.match(result.output, /image build skipped/);
    // The shared cluster is still up, and the demo's namespace is gone.
    const status = spawnSync(process.execPath, [join(repoRoot, 'test', 'cluster', 'cli.ts'), 'status'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(status.status, 0, `the demo stopped the shared cluster:\n${status.stdout}${status.stderr}`);
    const after = await kubectlOk(['get', 'namespaces', '-o', 'name']);
    const left = after
      .split('\n')
      .filter((n) => n.includes('adci-demo-') && !before.includes(n) && !/Terminating/.test(n));
    const active = [];
    for (const name of left) {
      const phase = await kubectlOk(['get', name, '-o', 'jsonpath={.status.phase}']).catch(() => 'gone');
      if (phase === 'Active') active.push(name);
    }
    assert.deepEqual(active, [], 'the demo left its namespace');
  },
);

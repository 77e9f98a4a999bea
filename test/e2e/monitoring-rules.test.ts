// The example's alerting rules and Alertmanager config, checked by Prometheus's and Alertmanager's
// own tools: `promtool check rules`, `promtool test rules` (the alerts fire on the series that should
// fire them, and not on a healthy service) and `amtool check-config`. promtool is the one built with
// the Prometheus the other tests run the rules in (test/cluster/monitoring.ts: same version).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../runner/index.ts';
import { binary, missingPrometheusReason, promtool } from '../cluster/monitoring.ts';
import { parseAnalysisDocument } from '@adci/analysis';
import { readFileSync } from 'node:fs';

const dir = join(repoRoot, 'examples', 'ad-platform', 'deploy', 'monitoring');
const skip = process.env.CI ? false : (missingPrometheusReason() ?? false);

test('promtool check rules accepts the alerting rules', { skip }, async () => {
  const run = await promtool(['check', 'rules', 'rules.yml'], dir);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /SUCCESS: 5 rules found/);
});

test(
  'promtool test rules: error-budget burn, /bid p99 and target down fire, a healthy service stays quiet',
  { skip },
  async () => {
    const run = await promtool(['test', 'rules', 'rules.test.yml'], dir);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /SUCCESS/);
  },
);

test(
  'promtool test rules fails a rule that does not fire as its test says (the check can fail)',
  { skip },
  async () => {
    const run = await promtool(
      ['test', 'rules', join(repoRoot, 'test', 'fixtures', 'monitoring', 'wrong-expectation.test.yml')],
      dir,
    );
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /FAILED/);
  },
);

test(
  'amtool accepts the Alertmanager config',
  { skip: process.env.CI ? false : binary('amtool') ? false : 'amtool is not installed' },
  () => {
    const amtool = binary('amtool') as string;
    const run = spawnSync(amtool, ['check-config', join(dir, 'alertmanager.yml')], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /SUCCESS/);
  },
);

test("the example's analysis file parses", () => {
  const file = join(dir, 'analysis.yml');
  assert.ok(existsSync(file));
  const doc = parseAnalysisDocument(readFileSync(file, 'utf8'), 'post-promotion-analysis', 'analysis.yml');
  assert.deepEqual(
    doc.metrics.map((m) => m.name),
    ['error-rate', 'bid-p99'],
  );
});

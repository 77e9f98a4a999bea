// End-to-end: the bundled `adci` command (dist/cli via bin/adci.js) as GitLab CI or Jenkins would run it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../runner/index.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';

let slack: FakeSlack;
before(async () => {
  slack = await startFakeSlack();
});
after(async () => {
  await slack.close();
});

function adci(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'adci.js'), ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('adci --help lists every engine', async () => {
  const { code, stdout } = await adci(['--help'], {});
  assert.equal(code, 0);
  for (const command of ['gate', 'smoke', 'notify']) assert.match(stdout, new RegExp(`^  ${command} `, 'm'));
});

test('adci notify from GitLab CI sends the same default message with GitLab facts', async () => {
  slack.reset();
  const gitlab = {
    GITLAB_CI: 'true',
    CI_PROJECT_PATH: 'ads/ad-platform',
    CI_PROJECT_URL: 'https://gitlab.example.test/ads/ad-platform',
    CI_COMMIT_SHA: '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432',
    CI_COMMIT_REF_NAME: 'release/1.4',
    CI_COMMIT_TITLE: 'Cap frequency per user',
    CI_PIPELINE_URL: 'https://gitlab.example.test/ads/ad-platform/-/pipelines/88',
    CI_PIPELINE_ID: '88',
    CI_JOB_NAME: 'deploy-production',
    GITLAB_USER_LOGIN: 'alice',
  };
  const { code, stdout, stderr } = await adci(
    ['notify', '--status', 'failure', '--mention', 'S0614TZR7', '--environment', 'production', '--json'],
    { ...gitlab, SLACK_WEBHOOK_URL: slack.webhookUrl },
  );
  assert.equal(code, 0, stderr);
  assert.equal((JSON.parse(stdout) as { ok?: unknown }).ok, true);
  const message = slack.received[0]?.json as {
    text: string;
    attachments: { blocks: { fields?: { text: string }[] }[] }[];
  };
  assert.match(message.text, /^<!subteam\^S0614TZR7> ❌ deploy-production failed in ads\/ad-platform@9f8e7d6 by alice/);
  const fields = message.attachments[0]?.blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);
  assert.ok(
    fields?.includes(
      '*Commit*\n<https://gitlab.example.test/ads/ad-platform/-/commit/9f8e7d6c5b4a39281706f5e4d3c2b1a098765432|9f8e7d6> Cap frequency per user',
    ),
  );
  assert.ok(!`${stdout}${stderr}`.includes(slack.webhookUrl));
});

test('adci notify: an empty webhook warns and exits 0 (2 with --fail-on-error); a bad option exits 2', async () => {
  slack.reset();
  const missing = await adci(['notify'], {});
  assert.equal(missing.code, 0, missing.stderr);
  assert.match(
    missing.stderr,
    /warning: Slack notification not sent: input 'SLACK_WEBHOOK_URL' is empty \(pull requests from forks get no secrets, or the secret is not set\)\. Exit 0; set --fail-on-error to fail it instead/,
  );
  const required = await adci(['notify', '--fail-on-error'], { SLACK_WEBHOOK_URL: ' ' });
  assert.equal(required.code, 2);
  assert.match(required.stderr, /Input 'SLACK_WEBHOOK_URL': is empty \(pull requests from forks get no secrets/);
  const bad = await adci(['notify', '--timeout', 'later'], { SLACK_WEBHOOK_URL: slack.webhookUrl });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Input '--timeout': 'later' is not a valid duration/);
  assert.equal(slack.received.length, 0);
});

test('adci notify --fail-on-error exits 1 when Slack refuses, explaining why', async () => {
  slack.reset();
  slack.script({ status: 410, body: 'channel_is_archived' });
  const { code, stderr } = await adci(['notify', '--fail-on-error'], { SLACK_WEBHOOK_URL: slack.webhookUrl });
  assert.equal(code, 1);
  assert.match(stderr, /Slack answered 410 channel_is_archived: the webhook's channel is archived/);
  assert.ok(!stderr.includes(slack.webhookUrl));
});

test('exit codes: 2 for usage and input errors, 1 for a failed gate or check, 0 for help', async () => {
  slack.reset();
  const dir = mkdtempSync(join(tmpdir(), 'adci-exit-'));
  const service = createServer((req, res) => {
    res.writeHead(req.url === '/down' ? 503 : 200, { 'content-type': 'text/plain' });
    res.end(req.url === '/down' ? 'unavailable' : 'ok');
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  try {
    writeFileSync(join(dir, 'garbage.xml'), 'Traceback (most recent call last):\n  boom\n');
    cpSync(join(repoRoot, 'test/fixtures/reports/real/pytest-junit.xml'), join(dir, 'pytest-junit.xml'));
    const env = { SLACK_WEBHOOK_URL: slack.webhookUrl };
    const cases: [string[], number, RegExp][] = [
      [[], 2, /Usage: adci/],
      [['deploi'], 2, /unknown command 'deploi'/],
      [['gate', '--bogus'], 2, /unknown option '--bogus'/],
      [['gate', '--reports'], 2, /option '--reports <globs>' argument missing/],
      [['smoke'], 2, /Input '--base-url': is required but was not given/],
      [['smoke', '--base-url', base, '--retries', 'many'], 2, /Input '--retries': 'many' is not an integer/],
      [['notify', '--status', 'green'], 2, /argument 'green' is invalid/],
      [['notify', '--bogus'], 2, /unknown option '--bogus'/],
      [
        ['gate', '--root', dir, '--reports', 'junit: garbage.xml'],
        2,
        /garbage\.xml: does not look like a junit report/,
      ],
      [['gate', '--root', dir, '--reports', 'pytest-junit.xml'], 1, /Quality gate: FAILED/],
      [['smoke', '--base-url', base, '--checks', '- path: /down\n'], 1, /smoke test FAILED: 0 passed, 1 failed/],
      [['smoke', '--base-url', base, '--checks', '- path: /up\n'], 0, /smoke test passed: 1 passed/],
      [['gate', '--help'], 0, /Usage: adci gate/],
      [['--help'], 0, /Usage: adci/],
    ];
    for (const [args, expected, output] of cases) {
      const { code, stdout, stderr } = await adci(args, env);
      assert.equal(code, expected, `adci ${args.join(' ')} exited ${code}: ${stdout}${stderr}`);
      assert.match(`${stdout}${stderr}`, output, `adci ${args.join(' ')}`);
    }
    assert.equal(slack.received.length, 0);
  } finally {
    service.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

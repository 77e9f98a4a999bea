// The README's local-run instructions, run verbatim: its `npx adci …` commands from the
// repository's root (after `npm ci`), and its harness snippet saved as a script and run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../runner/index.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const localRun = readme.slice(readme.indexOf('## Running an action locally'));

test('the README says to run the CLI with npx, and each npx adci --help command works as written', () => {
  const commands = [...localRun.matchAll(/`(npx adci [a-z]+ --help)`/g)].map((m) => m[1]!);
  assert.ok(commands.length >= 2, `expected npx adci … --help commands in:\n${localRun}`);
  assert.doesNotMatch(localRun, /node bin\/adci\.js/);
  for (const command of commands) {
    const result = spawnSync('npx', command.split(' ').slice(1), { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, `${command}: ${result.stderr}`);
    assert.match(result.stdout, new RegExp(`^Usage: adci ${command.split(' ')[2]} `, 'm'));
  }
});

test("the README's harness snippet runs as written and delivers a notification", { timeout: 120_000 }, (t) => {
  const block = /```ts\n([\s\S]*?)```/.exec(localRun);
  assert.ok(block, 'the harness snippet');
  const code = block[1]!.replace(/^ {2}/gm, '');
  const named = /save it as `([^`]+)`/.exec(localRun)?.[1];
  assert.ok(named, 'the README names the file to save the snippet as');
  // Under a name of this test's own, so a user's file of the README's name is never touched.
  const script = join(repoRoot, `.readme-snippet-${process.pid}-${named}`);
  writeFileSync(script, code);
  t.after(() => rmSync(script, { force: true }));
  const result = spawnSync(process.execPath, [script], { cwd: repoRoot, encoding: 'utf8', timeout: 100_000 });
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /^0 \{ ok: 'true', 'status-code': '200', attempts: '1' \}/);
  assert.match(result.stdout, /Delivered to Slack after 1 attempt/);
});

// The harness itself: inputs and defaults, file commands, workflow commands, state into post:, cancellation
// (after a time or at a line of output), an isolated HOME.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFileCommands, runActionBundle } from './index.ts';

function fixtureAction(main: string, post?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'adci-fixture-action-'));
  writeFileSync(
    join(dir, 'action.yml'),
    [
      'name: fixture',
      'description: fixture',
      'inputs:',
      '  who: { description: who, default: world }',
      '  status: { description: status, default: "${{ job.status }}" }',
      'runs:',
      '  using: node24',
      '  main: main.mjs',
      ...(post ? ['  post: post.mjs'] : []),
    ].join('\n'),
  );
  writeFileSync(join(dir, 'main.mjs'), main);
  if (post) writeFileSync(join(dir, 'post.mjs'), post);
  return dir;
}

test('parseFileCommands reads name=value and heredoc entries', () => {
  assert.deepEqual(parseFileCommands('a=1\nb<<EOF_X\nline 1\nline 2\nEOF_X\nc=x=y\n'), {
    a: '1',
    b: 'line 1\nline 2',
    c: 'x=y',
  });
  assert.throws(() => parseFileCommands('b<<EOF\nno end'), /unterminated heredoc/);
});

test('inputs, outputs, summary, annotations, masks and state flow as on a runner', async () => {
  const dir = fixtureAction(
    `import { appendFileSync } from 'node:fs';
     const who = process.env.INPUT_WHO, status = process.env.INPUT_STATUS;
     console.log('::add-mask::hunter22');
     console.log('the password is hunter22');
     console.log('::warning file=src/a.ts,line=3,title=Heads up::careful%0Anext line');
     console.log('::error::broken, really');
     appendFileSync(process.env.GITHUB_OUTPUT, 'greeting<<D\\nhello ' + who + '\\nD\\nstatus=' + status + '\\n');
     appendFileSync(process.env.GITHUB_STATE, 'saved=42\\n');
     appendFileSync(process.env.GITHUB_STEP_SUMMARY, '## Summary\\n');
     process.exitCode = 1;`,
    `console.log('post saw ' + process.env.STATE_saved);`,
  );
  const result = await runActionBundle(dir, { with: { who: 'ads' }, jobStatus: 'failure' });
  assert.equal(result.exitCode, 1);
  assert.deepEqual(result.outputs, { greeting: 'hello ads', status: 'failure' });
  assert.equal(result.summary, '## Summary\n');
  assert.deepEqual(result.masks, ['hunter22']);
  assert.match(result.stdout, /the password is hunter22/);
  assert.match(result.log, /the password is \*\*\*/);
  assert.ok(!result.stdout.includes('add-mask'));
  assert.deepEqual(result.annotations, [
    { level: 'warning', message: 'careful\nnext line', title: 'Heads up', file: 'src/a.ts', line: 3 },
    { level: 'error', message: 'broken, really' },
  ]);
  assert.deepEqual(result.state, { saved: '42' });
  assert.match(result.post?.stdout ?? '', /post saw 42/);
});

test('an input not declared in action.yml is refused', async () => {
  const dir = fixtureAction('');
  await assert.rejects(runActionBundle(dir, { with: { nope: '1' } }), /unexpected input 'nope'/);
});

test('cancellation sends SIGINT, then SIGTERM 7.5 s later', async () => {
  const dir = fixtureAction(
    `process.on('SIGINT', () => console.log('got SIGINT'));
     process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(3); });
     setInterval(() => {}, 1000);`,
  );
  const result = await runActionBundle(dir, { cancelAfterMs: 200, timeoutMs: 20_000 });
  assert.equal(result.exitCode, 3);
  assert.match(result.stdout, /got SIGINT\ngot SIGTERM/);
  assert.ok(result.durationMs >= 7500, `SIGTERM came after ${result.durationMs} ms`);
});

// An action that logs named phases the way blue-green-deploy does, and stops at SIGINT.
const PHASED_MAIN = `
const phases = ['lock', 'plan', 'apply', 'switch', 'unlock'];
let current = 'none';
process.on('SIGINT', () => {
  console.log('got SIGINT during ' + current);
  console.log('::save-state name=interrupted::' + current);
  process.exit(1);
});
let i = 0;
function next() {
  if (i === phases.length) return console.log('finished');
  current = phases[i++];
  console.log('::group::phase ' + current);
  console.error('stderr: in ' + current);
  // Without a cancel the next phase would come only after the harness's time-out.
  setTimeout(next, current === 'apply' ? 60_000 : 10);
}
next();
`;

test('cancelOn sends SIGINT when a line of the output matches; post: still runs', async () => {
  const dir = fixtureAction(PHASED_MAIN, `console.log('post saw ' + process.env.STATE_interrupted);`);
  const result = await runActionBundle(dir, { cancelOn: /^::group::phase apply$/, timeoutMs: 30_000 });
  assert.equal(result.cancelled, true);
  assert.equal(result.cancelledOn, '::group::phase apply');
  assert.equal(result.exitCode, 1);
  assert.equal(result.timedOut, false);
  assert.match(result.stdout, /got SIGINT during apply/);
  assert.doesNotMatch(result.stdout, /phase switch|finished/);
  assert.equal(result.post?.exitCode, 0);
  assert.equal(result.post?.cancelled, false);
  assert.match(result.post?.stdout ?? '', /post saw apply/);
});

test('cancelOn takes a string and watches stderr too', async () => {
  const dir = fixtureAction(PHASED_MAIN);
  const result = await runActionBundle(dir, { cancelOn: 'stderr: in plan', timeoutMs: 30_000 });
  assert.equal(result.cancelledOn, 'stderr: in plan');
  assert.match(result.stdout, /got SIGINT during (plan|apply)/);
});

test('a cancelOn that never matches fails the run instead of passing quietly', async () => {
  const dir = fixtureAction(`console.log('::group::phase lock'); console.log('done');`);
  await assert.rejects(
    runActionBundle(dir, { cancelOn: /phase deploy/ }),
    /cancelOn \/phase deploy\/ matched no line of main\.mjs's output \(exit 0\); its last lines:\n::group::phase lock\ndone/,
  );
});

test('each run gets a fresh, empty HOME that is removed afterwards', async () => {
  const dir = fixtureAction(
    `import { existsSync, readdirSync, writeFileSync } from 'node:fs';
     import { homedir } from 'node:os';
     import { join } from 'node:path';
     console.log('::set-output name=home::' + homedir());
     console.log('::set-output name=entries::' + readdirSync(homedir()).length);
     console.log('::set-output name=kube::' + existsSync(join(homedir(), '.kube', 'config')));
     writeFileSync(join(homedir(), 'left-behind'), 'x');`,
  );
  const first = await runActionBundle(dir);
  const second = await runActionBundle(dir);
  const home = first.outputs.home as string;
  assert.notEqual(home, process.env.HOME);
  assert.notEqual(home, second.outputs.home);
  assert.equal(first.outputs.entries, '0');
  assert.equal(second.outputs.entries, '0'); // the first run's file is not there
  assert.equal(first.outputs.kube, 'false');
  assert.equal(existsSync(home), false);
  // A test that needs its own HOME still sets it through env.
  const own = mkdtempSync(join(tmpdir(), 'adci-own-home-'));
  assert.equal((await runActionBundle(dir, { env: { HOME: own } })).outputs.home, own);
});

// The adci program: its commands, its version, and exit code 2 for a usage error (main.ts, the
// entry, run from the sources in a child process).
// Each command's behaviour is tested end to end through the built CLI (test/e2e/*cli*.test.ts).
import { test } from 'node:test';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ADCI_VERSION } from '@adci/common';
import { buildProgram } from './index.ts';

/** Runs `adci …` from the sources (packages/cli/src/main.ts) in a child process. */
function adci(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(import.meta.dirname, 'main.ts'), ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, out, err) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, out, err }),
    );
  });
}

test('the program has the four commands and the version', () => {
  const program = buildProgram();
  assert.deepEqual(program.commands.map((c) => c.name()).sort(), ['deploy', 'gate', 'notify', 'smoke']);
  assert.equal(program.version(), ADCI_VERSION);
});

test('a command named on the command line is the only one built; help and anything else get all four', () => {
  const names = (...args: string[]) => buildProgram(['node', 'adci', ...args]).commands.map((c) => c.name());
  assert.deepEqual(names('deploy', '--action', 'status'), ['deploy']);
  assert.deepEqual(names('gate'), ['gate']);
  for (const args of [[], ['help'], ['help', 'deploy'], ['--help'], ['-V'], ['launch']])
    assert.deepEqual(names(...args), ['gate', 'smoke', 'deploy', 'notify'], args.join(' '));
});

test('--version prints the version and exits 0; usage errors exit 2 with the help after them', async () => {
  const version = await adci('--version');
  assert.equal(version.out.trim(), ADCI_VERSION);
  assert.equal(version.code, 0);
  const unknown = await adci('gate', '--no-such-flag');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown option '--no-such-flag'/);
  assert.match(unknown.err, /Usage: adci gate/);
  const command = await adci('launch');
  assert.equal(command.code, 2);
  assert.match(command.err, /unknown command 'launch'/);
});

// The adci program: its commands, its version, and exit code 2 for a usage error, in process.
// Each command's behaviour is tested end to end through the built CLI (test/e2e/*cli*.test.ts).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADCI_VERSION } from '@adci/common';
import { buildProgram, main } from './index.ts';

afterEach(() => {
  process.exitCode = undefined;
});

/** Runs main() with stdout and stderr captured. */
async function run(...args: string[]): Promise<{ code: typeof process.exitCode; out: string; err: string }> {
  let out = '';
  let err = '';
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = (chunk: string | Uint8Array) => ((out += String(chunk)), true);
  process.stderr.write = (chunk: string | Uint8Array) => ((err += String(chunk)), true);
  try {
    await main(['node', 'adci', ...args]);
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
  const code = process.exitCode;
  process.exitCode = undefined;
  return { code, out, err };
}

test('the program has the four commands and the version', () => {
  const program = buildProgram();
  assert.deepEqual(program.commands.map((c) => c.name()).sort(), ['deploy', 'gate', 'notify', 'smoke']);
  assert.equal(program.version(), ADCI_VERSION);
});

test('--version prints the version and exits 0; usage errors exit 2 with the help after them', async () => {
  const version = await run('--version');
  assert.equal(version.out.trim(), ADCI_VERSION);
  assert.ok(version.code === 0 || version.code === undefined);
  const unknown = await run('gate', '--no-such-flag');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown option '--no-such-flag'/);
  assert.match(unknown.err, /Usage: adci gate/);
  const command = await run('launch');
  assert.equal(command.code, 2);
  assert.match(command.err, /unknown command 'launch'/);
});

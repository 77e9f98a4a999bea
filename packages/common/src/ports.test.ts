// Unit tests of ports.ts: the real clock (sleep ends, or rejects at once with the signal's reason)
// and the CLI's console logger (plain lines on stderr, debug only when verbose).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { consoleLogger, silentLogger, systemClock } from './ports.ts';

test('systemClock.sleep waits about the time asked and the clock moves forward', async () => {
  const start = systemClock.now();
  await systemClock.sleep(20);
  assert.ok(systemClock.now() - start >= 15, `slept ${systemClock.now() - start} ms`);
});

test('systemClock.sleep rejects with the signal reason: already aborted, or aborted while sleeping', async () => {
  const reason = new Error('cancelled by SIGTERM');
  await assert.rejects(() => systemClock.sleep(10, AbortSignal.abort(reason)), reason);
  const controller = new AbortController();
  const start = systemClock.now();
  const sleeping = systemClock.sleep(60_000, controller.signal);
  setTimeout(() => controller.abort(reason), 10);
  await assert.rejects(() => sleeping, reason);
  assert.ok(systemClock.now() - start < 5_000, 'the abort ended the sleep at once');
});

test('consoleLogger writes plain lines to stderr, with debug only when verbose; silentLogger writes nothing', () => {
  const script = `
    const { consoleLogger, silentLogger } = await import(${JSON.stringify(new URL('./ports.ts', import.meta.url).href)});
    for (const logger of [consoleLogger(false), consoleLogger(true), silentLogger]) {
      logger.debug('d'); logger.info('i'); logger.warning('w'); logger.error('e');
      process.stderr.write('--\\n');
    }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, '');
  assert.equal(run.stderr, 'i\nwarning: w\nerror: e\n--\ndebug: d\ni\nwarning: w\nerror: e\n--\n--\n');
  assert.equal(typeof consoleLogger, 'function');
  assert.equal(typeof silentLogger.info, 'function');
});

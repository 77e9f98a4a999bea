import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@adci/common';
import { SMOKE_DEFAULTS } from './engine.ts';
import { smokeSettings, type SmokeSettingsSource } from './settings.ts';

function source(overrides: Partial<SmokeSettingsSource> = {}): SmokeSettingsSource {
  return {
    baseUrl: 'http://127.0.0.1:8080',
    checks: '- path: /healthz\n',
    checksFile: '',
    readChecksFile: () => assert.fail('the checks file is not read unless it is named'),
    waitFor: '',
    headers: {},
    load: {},
    ...overrides,
  };
}

const cli = (name: string): string => `--${name}`;

async function refusal(src: SmokeSettingsSource, namer?: (name: string) => string): Promise<InputError> {
  try {
    await smokeSettings(src, namer);
  } catch (error) {
    assert.ok(error instanceof InputError, String(error));
    return error;
  }
  assert.fail('expected an InputError');
}

test('unset values take the engine defaults', async () => {
  const settings = await smokeSettings(source());
  assert.equal(settings.baseUrl, 'http://127.0.0.1:8080/');
  assert.equal(settings.timeoutMs, SMOKE_DEFAULTS.timeoutMs);
  assert.equal(settings.retries, SMOKE_DEFAULTS.retries);
  assert.equal(settings.checks.length, 1);
  assert.equal(settings.load, undefined);
});

test('the same rule gives the same refusal, named as the action input or as the CLI flag', async () => {
  for (const [bad, setting, pattern] of [
    [{ baseUrl: '' }, 'base-url', /is required/],
    [{ baseUrl: 'staging' }, 'base-url', /'staging' is not a URL/],
    [{ baseUrl: 'ftp://example.com' }, 'base-url', /http or https URL, not ftp:/],
    [{ checksFile: 'smoke.yml' }, 'checks', /give either (--)?checks or (--)?checks-file, not both/],
    [{ checks: '', load: { rate: '10/s', connections: '4' } }, 'load-connections', /open model.*not both/],
    [{ checks: '' }, 'checks', /nothing to judge/],
    [{ checks: '', waitFor: '/ready' }, 'checks', /nothing to judge: .*wait-for alone only waits/],
    [{ timeoutMs: 0 }, 'timeout', /must be longer than 0/],
    [{ waitIntervalMs: 0 }, 'wait-interval', /must be longer than 0/],
  ] as const) {
    const action = await refusal(source(bad));
    assert.equal(action.input, setting);
    assert.match(action.message, pattern);
    const flag = await refusal(source(bad), cli);
    assert.equal(flag.input, `--${setting}`);
    assert.match(flag.message, pattern);
  }
});

test('a checks file is read through the front end and named in parse errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'adci-settings-'));
  const file = join(dir, 'smoke.yml');
  writeFileSync(file, '- path: /a\n- path: /b\n  expect: { status: 204 }\n');
  const settings = await smokeSettings(
    source({ checks: '', checksFile: file, readChecksFile: (p) => readFileText(p) }),
  );
  assert.deepEqual(
    settings.checks.map((c) => c.path),
    ['/a', '/b'],
  );
  writeFileSync(file, '- path: /a\n  retries: many\n');
  const error = await refusal(source({ checks: '', checksFile: file, readChecksFile: readFileText }), cli);
  assert.match(error.message, new RegExp(`--checks-file ${file}`));
});

test('load values from settings win over the file and still go through its validation', async () => {
  const settings = await smokeSettings(
    source({
      checks: 'load: { path: /, rate: 5/s, duration: 2s, thresholds: ["p(95)<300ms"] }\n',
      load: { rate: '20/s' },
    }),
  );
  assert.equal(settings.load?.model.kind, 'open');
  assert.equal(settings.load?.model.kind === 'open' ? settings.load.model.ratePerSecond : 0, 20);
  const error = await refusal(source({ load: { rate: 'fast' } }), cli);
  assert.match(error.message, /--load-\*/);
});

function readFileText(path: string): string {
  return readFileSync(path, 'utf8');
}

test('max-body reads binary sizes or bytes, names itself in messages, and refuses what is not a size', async () => {
  assert.equal((await smokeSettings(source())).maxBodyBytes, 4 * 1024 * 1024);
  assert.equal((await smokeSettings(source())).maxBodySetting, 'max-body');
  assert.equal((await smokeSettings(source(), cli)).maxBodySetting, '--max-body');
  assert.equal((await smokeSettings(source({ maxBody: '8MiB' }))).maxBodyBytes, 8 * 1024 * 1024);
  assert.equal((await smokeSettings(source({ maxBody: '512 KiB' }))).maxBodyBytes, 512 * 1024);
  assert.equal((await smokeSettings(source({ maxBody: '1048576' }))).maxBodyBytes, 1048576);
  assert.equal((await smokeSettings(source({ maxBody: '' }))).maxBodyBytes, 4 * 1024 * 1024);
  assert.match((await refusal(source({ maxBody: 'lots' }))).message, /^Input 'max-body': 'lots' is not a size/);
  assert.match(
    (await refusal(source({ maxBody: '4MB' }), cli)).message,
    /^Input '--max-body': .*units are binary: 4MiB/,
  );
  assert.match((await refusal(source({ maxBody: '0' }))).message, /less than 1 byte/);
  assert.match((await refusal(source({ maxBody: '1GiB' }))).message, /more than the largest allowed, 256 MiB/);
});

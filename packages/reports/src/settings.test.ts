import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateSettings, type GateSettingsSource } from './settings.ts';

const source: GateSettingsSource = {
  root: '/repo',
  reports: ['junit.xml'],
  minChangedLines: '',
  ignoreMalformed: false,
};
const flag = (name: string): string => `--${name}`;

test('gateSettings: the defaults, and an empty thresholds setting marked as defaulted', async () => {
  const given = await gateSettings({ ...source, thresholds: 'coverage.line: ">= 80"' });
  assert.equal(given.minChangedLines, 20);
  assert.equal(given.thresholdsDefaulted, false);
  assert.equal(given.reportsName, 'reports');
  const none = await gateSettings(source);
  assert.deepEqual(
    none.thresholds.map((t) => t.key),
    ['tests.failed', 'tests.min'],
  );
  const empty = await gateSettings({ ...source, thresholds: ' ' });
  assert.equal(empty.thresholdsDefaulted, true);
  assert.match(empty.thresholds[0]?.text ?? '', /\(default: thresholds was empty\)$/);
});

test('gateSettings: every error names the setting as the front end spells it', async () => {
  await assert.rejects(
    async () => gateSettings({ ...source, minChangedLines: '-1' }, flag),
    /Input '--min-changed-lines': '-1' is not an integer >= 0/,
  );
  await assert.rejects(
    async () => gateSettings({ ...source, thresholds: 'nope: 1', thresholdsFromFile: true }, flag),
    /'--thresholds-file'/,
  );
  await assert.rejects(async () => gateSettings({ ...source, reports: [] }, flag), /'--reports'/);
  await assert.rejects(
    async () => gateSettings({ ...source, baseline: { file: 'old.json', text: '{' } }, flag),
    /Input '--baseline': 'old.json' is not JSON/,
  );
  await assert.rejects(
    async () => gateSettings({ ...source, baseline: { file: 'old.json', text: '[]' } }, flag),
    /'--baseline'/,
  );
});

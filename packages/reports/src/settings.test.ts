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

test('gateSettings: the defaults, and an empty thresholds setting marked as defaulted', () => {
  const given = gateSettings({ ...source, thresholds: 'coverage.line: ">= 80"' });
  assert.equal(given.minChangedLines, 20);
  assert.equal(given.thresholdsDefaulted, false);
  assert.equal(given.reportsName, 'reports');
  const none = gateSettings(source);
  assert.deepEqual(
    none.thresholds.map((t) => t.key),
    ['tests.failed', 'tests.min'],
  );
  const empty = gateSettings({ ...source, thresholds: ' ' });
  assert.equal(empty.thresholdsDefaulted, true);
  assert.match(empty.thresholds[0]?.text ?? '', /\(default: thresholds was empty\)$/);
});

test('gateSettings: every error names the setting as the front end spells it', () => {
  assert.throws(
    () => gateSettings({ ...source, minChangedLines: '-1' }, flag),
    /Input '--min-changed-lines': '-1' is not an integer >= 0/,
  );
  assert.throws(
    () => gateSettings({ ...source, thresholds: 'nope: 1', thresholdsFromFile: true }, flag),
    /'--thresholds-file'/,
  );
  assert.throws(() => gateSettings({ ...source, reports: [] }, flag), /'--reports'/);
  assert.throws(
    () => gateSettings({ ...source, baseline: { file: 'old.json', text: '{' } }, flag),
    /Input '--baseline': 'old.json' is not JSON/,
  );
  assert.throws(() => gateSettings({ ...source, baseline: { file: 'old.json', text: '[]' } }, flag), /'--baseline'/);
});

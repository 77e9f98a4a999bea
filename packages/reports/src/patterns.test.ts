// The `reports` input: one glob per line, an optional format prefix, comments and blank lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '@adci/common';
import { FORMATS } from './detect.ts';
import { parseReportPatterns } from './patterns.ts';

test('one pattern per line, a known format prefix kept, blank lines and comments skipped', () => {
  assert.deepEqual(
    parseReportPatterns(['reports/**/*.xml', '', '  # lint', 'pylint: lint/*.json ', '!**/vendor/**', 'C:/x.xml']),
    [
      { pattern: 'reports/**/*.xml' },
      { pattern: 'lint/*.json', format: 'pylint' },
      { pattern: '!**/vendor/**' },
      { pattern: 'C:/x.xml' },
    ],
  );
  for (const format of FORMATS) assert.deepEqual(parseReportPatterns([`${format}: a`]), [{ pattern: 'a', format }]);
});

test('an unknown format or no pattern at all is an InputError naming the input', () => {
  assert.throws(
    () => parseReportPatterns(['pylnt: x.json'], '--reports'),
    (e: unknown) =>
      e instanceof InputError &&
      /'--reports'/.test(e.message) &&
      /unknown format 'pylnt' in 'pylnt: x.json'; known: /.test(e.message),
  );
  assert.throws(() => parseReportPatterns(['', '# only a comment']), /'reports'.*no report patterns given/);
});

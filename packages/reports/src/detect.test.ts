// Format detection: a file in another encoding is named as such, never guessed at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectFormat } from './detect.ts';
import { runGate } from './gate.ts';
import { parseReportPatterns } from './patterns.ts';
import { parseThresholds } from './thresholds.ts';

const REAL = join(import.meta.dirname, '../../../test/fixtures/reports/real');
const root = mkdtempSync(join(tmpdir(), 'qg-detect-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

/** UTF-16 as Windows PowerShell 5.1's `>` writes it (little-endian with a BOM), and its variants. */
function utf16(text: string, variant: 'le-bom' | 'be-bom' | 'le'): Buffer {
  const le = Buffer.from(text, 'utf16le');
  if (variant === 'le') return le;
  if (variant === 'le-bom') return Buffer.concat([Buffer.from([0xff, 0xfe]), le]);
  return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le).swap16()]);
}

test('a UTF-16 report is named as such, with or without a byte-order mark, forced to a format or not', async () => {
  const junit = readFileSync(join(REAL, 'pytest-junit.xml'), 'utf8');
  const flake8 = readFileSync(join(REAL, 'flake8.txt'), 'utf8');
  const cases = [
    ['pytest-le.xml', junit, 'le-bom', 'UTF-16 (little-endian, with a byte-order mark)'],
    ['pytest-be.xml', junit, 'be-bom', 'UTF-16 (big-endian, with a byte-order mark)'],
    ['flake8-le.txt', flake8, 'le', 'UTF-16 (little-endian, without a byte-order mark)'],
  ] as const;
  for (const [name, text, variant, encoding] of cases) {
    writeFileSync(join(root, name), utf16(text, variant));
    const message = `${name}: is ${encoding}, not UTF-8: re-encode it (iconv -f UTF-16 -t UTF-8, or PowerShell's Out-File -Encoding utf8)`;
    assert.throws(() => detectFormat(join(root, name)), {
      message: `${join(root, name)}: ${message.slice(name.length + 2)}`,
    });
    for (const pattern of [name, `flake8: ${name}`]) {
      await assert.rejects(
        async () =>
          runGate({
            reports: parseReportPatterns([pattern]),
            root,
            thresholds: await parseThresholds('findings.total: 100'),
            minChangedLines: 0,
            ignoreMalformed: false,
          }),
        { name: 'ReportError', message },
      );
    }
  }
  // UTF-8 with a BOM is still UTF-8.
  writeFileSync(join(root, 'bom.xml'), `\uFEFF${junit}`);
  assert.deepEqual(detectFormat(join(root, 'bom.xml')), { format: 'junit', kind: 'xml' });
});

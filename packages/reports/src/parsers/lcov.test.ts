// LCOV read from its bytes: the record kinds, line breaks, and lines across read chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../collector.ts';
import { ReportError } from '../errors.ts';
import { forEachLineBytes, parseLcov } from './text.ts';

const dir = mkdtempSync(join(tmpdir(), 'qg-lcov-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Per file: covered and coverable lines, and branches covered and total. */
function read(content: string | Buffer): Record<string, [number, number, number, number]> {
  const collector = new Collector('/repo');
  parseLcov(write('cov.info', content), collector);
  const out: Record<string, [number, number, number, number]> = {};
  for (const [file, entry] of collector.coverage) {
    let covered = 0;
    let coverable = 0;
    let branchCovered = 0;
    let branchTotal = 0;
    entry.lines.forEach((state, line) => {
      if (state !== 0) coverable++;
      if (state === 2) covered++;
      branchTotal += entry.branchTotal?.[line] ?? 0;
      branchCovered += entry.branchCovered?.[line] ?? 0;
    });
    out[file] = [covered, coverable, branchCovered, branchTotal];
  }
  return out;
}

const SAMPLE = [
  'TN:',
  'SF:/repo/src/a.ts',
  'FN:1,main',
  'FNDA:1,main',
  'DA:1,1',
  'DA:2,0',
  'DA:3,12,Zm9v', // with a checksum
  'DA:4,-1', // negative hits, as some tools write for "not run"
  'BRDA:3,0,0,1',
  'BRDA:3,0,1,-', // a block that never ran
  'BRDA:3,0,2,0',
  'LF:4',
  'LH:2',
  'end_of_record',
  'SF:src/b.ts',
  'DA:10,3',
  'DA:007,1', // leading zeros
  'DA:1e1,0', // what Number() reads (line 10 again)
  'end_of_record',
];

test('LCOV records: DA with and without checksums, BRDA taken/not taken/never run, paths made relative', () => {
  assert.deepEqual(read(SAMPLE.join('\n') + '\n'), {
    'src/a.ts': [2, 4, 1, 3],
    'src/b.ts': [2, 2, 0, 0],
  });
});

test('CRLF line breaks, a byte order mark, and a last line without a line break read the same', () => {
  const expected = read(SAMPLE.join('\n') + '\n');
  assert.deepEqual(read(SAMPLE.join('\r\n') + '\r\n'), expected);
  assert.deepEqual(read(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SAMPLE.join('\n'))])), expected);
});

test('lines that straddle read chunks (files of several MiB) are read whole', () => {
  const lines: string[] = [];
  for (let f = 0; f < 300; f++) {
    lines.push(`SF:/repo/src/pkg/module-with-a-long-name-${f}.ts`);
    for (let l = 1; l <= 1000; l++) lines.push(`DA:${l},${l % 3},${'x'.repeat(l % 7)}`);
    lines.push('end_of_record');
  }
  const content = lines.join('\n') + '\n';
  assert.ok(content.length > 3 * 1024 * 1024);
  const files = read(content);
  assert.equal(Object.keys(files).length, 300);
  for (const counts of Object.values(files)) assert.deepEqual(counts, [667, 1000, 0, 0]);
  // And the line numbers the reader gives are those of the file.
  let count = 0;
  forEachLineBytes(write('n.info', content), (bytes, from, to, lineNumber) => {
    count++;
    assert.equal(lineNumber, count);
    assert.equal(bytes.toString('utf8', from, to), lines[lineNumber - 1]);
  });
  assert.equal(count, lines.length);
});

test('a DA record before any SF record is an error naming its line; a file of no records is not LCOV', () => {
  assert.throws(
    () => read('TN:\nDA:1,1\n'),
    (e: unknown) => e instanceof ReportError && /line 2: DA record outside an SF record/.test(e.message),
  );
  assert.throws(
    () => read('\n  Error: no coverage data\n'),
    /not LCOV output: .*starts with "Error: no coverage data"/,
  );
});

test('coverage of files read in turns, each growing past the others, keeps every line apart', () => {
  const lines: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const name of ['a', 'b', 'c']) {
      lines.push(`SF:src/${name}.ts`);
      // Each round reaches further down the file: its per-line arrays grow while the others exist.
      for (let l = round * 300 + 1; l <= (round + 1) * 300; l++) {
        if (name !== 'b' || l % 2 === 0) lines.push(`DA:${l},${name === 'c' ? 0 : 1}`);
        if (l % 50 === 0) lines.push(`BRDA:${l},0,0,1`, `BRDA:${l},0,1,0`);
      }
      lines.push('end_of_record');
    }
  }
  assert.deepEqual(read(lines.join('\n') + '\n'), {
    'src/a.ts': [1200, 1200, 24, 48],
    'src/b.ts': [600, 600, 24, 48],
    'src/c.ts': [0, 1200, 24, 48],
  });
});

// readInChunks on real files: every byte reaches the consumer once and in order across read
// boundaries, what a call leaves is handed back at the front of the next, and the last call says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHUNK_BYTES, readInChunks } from './chunks.ts';

function withFile(content: Buffer, body: (fd: number) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'adci-chunks-'));
  const path = join(dir, 'data');
  writeFileSync(path, content);
  const fd = openSync(path, 'r');
  try {
    body(fd);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a consumer that keeps the tail after its last separator sees every record once, in order', () => {
  const records = Array.from({ length: 50_000 }, (_, i) => `record ${i} ${'x'.repeat(i % 97)}`);
  const content = Buffer.from(records.join('\n'));
  assert.ok(content.length > 2 * CHUNK_BYTES, 'the file spans several reads');
  const seen: string[] = [];
  let calls = 0;
  let endedCalls = 0;
  withFile(content, (fd) =>
    readInChunks(fd, (bytes, ended) => {
      calls++;
      if (ended) endedCalls++;
      let start = 0;
      for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, start)) {
        seen.push(bytes.toString('utf8', start, i));
        start = i + 1;
      }
      if (ended && start < bytes.length) {
        seen.push(bytes.toString('utf8', start));
        return bytes.length;
      }
      return start;
    }),
  );
  assert.deepEqual(seen, records);
  assert.equal(endedCalls, 1);
  assert.ok(calls >= 3);
});

test('a run longer than a chunk grows the buffer; an empty file gets one ended call with nothing', () => {
  const long = Buffer.alloc(CHUNK_BYTES * 3 + 5, 0x61);
  let total = -1;
  withFile(long, (fd) =>
    readInChunks(fd, (bytes, ended) => {
      if (!ended) return 0; // keep everything until the end
      total = bytes.length;
      return bytes.length;
    }),
  );
  assert.equal(total, long.length);
  const calls: [number, boolean][] = [];
  withFile(Buffer.alloc(0), (fd) => readInChunks(fd, (bytes, ended) => (calls.push([bytes.length, ended]), 0)));
  assert.deepEqual(calls, [[0, true]]);
});

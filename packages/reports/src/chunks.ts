// Streaming a file through one work buffer, for the readers that parse bytes (the XML scanner, the
// line reader of LCOV and the text formats): memory stays at the longest unconsumed run, not the file.
import { readSync } from 'node:fs';

export const CHUNK_BYTES = 1024 * 1024;

/**
 * Reads `fd` to its end in CHUNK_BYTES reads. Each time, `consume(bytes, ended)` gets the bytes not
 * consumed yet (what an earlier call left, then the new read) and returns how many it used; the rest
 * move to the front of the buffer and the next read lands after them. The last call has `ended`
 * true (nothing more will come) and gets what is left, possibly nothing.
 */
export function readInChunks(fd: number, consume: (bytes: Buffer, ended: boolean) => number): void {
  let work = Buffer.allocUnsafe(CHUNK_BYTES * 2);
  let kept = 0;
  for (;;) {
    if (work.length - kept < CHUNK_BYTES) {
      const bigger = Buffer.allocUnsafe(Math.max(work.length * 2, kept + CHUNK_BYTES));
      work.copy(bigger, 0, 0, kept);
      work = bigger;
    }
    const read = readSync(fd, work, kept, CHUNK_BYTES, null);
    const filled = kept + read;
    const consumed = consume(work.subarray(0, filled), read === 0);
    if (read === 0) return;
    kept = filled - consumed;
    if (kept > 0 && consumed > 0) work.copyWithin(0, consumed, filled);
  }
}

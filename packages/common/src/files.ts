// Writing a result file (a JSON report, JUnit XML) where a front end was told to: its folder is
// made first, as a runner's or a terminal's report path may name one that does not exist yet.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes `text` to `path`, making the folders it needs. */
export function writeReportFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

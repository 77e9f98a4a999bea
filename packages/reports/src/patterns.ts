// The `reports` input: one glob per line, optionally prefixed by a format ("pylint: lint/*.json")
// for files whose content alone is ambiguous.
import { InputError } from '@adci/common';
import { FORMATS, type Format } from './detect.ts';
import type { ReportPattern } from './gate.ts';

const PREFIX = /^([a-z0-9-]+):\s+(.+)$/;

export function parseReportPatterns(lines: readonly string[], source = 'reports'): ReportPattern[] {
  const patterns: ReportPattern[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = PREFIX.exec(line);
    if (m) {
      const format = m[1] as string;
      if (!(FORMATS as readonly string[]).includes(format)) {
        throw new InputError(source, `unknown format '${format}' in '${line}'; known: ${FORMATS.join(', ')}`);
      }
      patterns.push({ pattern: (m[2] as string).trim(), format: format as Format });
    } else {
      patterns.push({ pattern: line });
    }
  }
  if (patterns.length === 0) throw new InputError(source, 'no report patterns given');
  return patterns;
}

// Chooses the file/line annotations worth showing. GitHub shows only 10 of each level per step,
// so errors and changed lines come first, and one closing notice says how many more exist and
// where the full list is (the anchors' most requested missing feature).
import type { GateReport } from '../gate.ts';
import { ranges } from './markdown.ts';

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  title?: string;
  file?: string;
  line?: number;
  endLine?: number;
}

export interface AnnotationOptions {
  /** Most annotations per level (GitHub shows 10 per level per step). 0 disables annotations. */
  perLevel: number;
  /** Where the full list lives, for the closing notice. */
  fullListHint: string;
}

export function selectAnnotations(r: GateReport, options: AnnotationOptions): Annotation[] {
  if (options.perLevel <= 0) return [];
  const candidates: Annotation[] = [];
  for (const f of r.tests.failures) {
    if (f.outcome !== 'failed' && f.outcome !== 'errored') continue;
    candidates.push({
      level: 'error',
      title: `Test ${f.outcome}: ${f.id}`,
      message: f.details ? `${f.message ?? ''}\n\n${f.details}`.trim() : (f.message ?? 'failed'),
      file: f.file,
      line: f.line,
    });
  }
  for (const x of r.findings.list) {
    candidates.push({
      level: x.severity === 'note' ? 'notice' : x.severity,
      title: `${x.tool} ${x.rule}${x.security ? ` (${x.security})` : ''}${x.onChangedLine ? ' on a changed line' : ''}`,
      message: x.message,
      file: x.file,
      line: x.line,
      endLine: x.endLine,
    });
  }
  for (const u of r.coverage.diff?.uncovered ?? []) {
    candidates.push({
      level: 'notice',
      title: 'Changed lines not covered by tests',
      message: `Lines ${ranges(u.lines)} were changed but no test covers them.`,
      file: u.file,
      line: u.lines[0],
      endLine: u.lines.length === 1 ? u.lines[0] : undefined,
    });
  }
  // Findings are already sorted (errors, then changed lines first); keep that order per level.
  const kept: Annotation[] = [];
  const omitted = { error: 0, warning: 0, notice: 0 };
  const shown = { error: 0, warning: 0, notice: 0 };
  const perLevel = { error: 0, warning: 0, notice: 0 };
  for (const a of candidates) perLevel[a.level]++;
  const overflowing =
    perLevel.error > options.perLevel ||
    perLevel.warning > options.perLevel ||
    perLevel.notice > options.perLevel ||
    r.findings.dropped > 0 ||
    r.tests.failuresDropped > 0;
  for (const a of candidates) {
    const cap = a.level === 'notice' && overflowing ? options.perLevel - 1 : options.perLevel;
    if (shown[a.level] < cap) {
      shown[a.level]++;
      kept.push(a);
    } else {
      omitted[a.level]++;
    }
  }
  const dropped = r.findings.dropped + r.tests.failuresDropped;
  const more = omitted.error + omitted.warning + omitted.notice + dropped;
  const order = { error: 0, warning: 1, notice: 2 };
  kept.sort((a, b) => order[a.level] - order[b.level]);
  if (more > 0) {
    kept.push({
      level: 'notice',
      title: 'More annotations not shown',
      message:
        `${more} more annotation(s) not shown (${omitted.error} error, ${omitted.warning} warning, ` +
        `${omitted.notice} notice${dropped ? `, ${dropped} beyond the kept lists` : ''}): GitHub shows ` +
        `${options.perLevel} per level per step. The full list is in ${options.fullListHint}.`,
    });
  }
  return kept;
}

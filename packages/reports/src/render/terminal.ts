// The gate's result as plain text for a terminal (`adci gate`): the verdict table first, then
// counts, the first failures and findings. The same facts as the job summary, without Markdown.
import { formatDuration } from '@adci/common';
import type { GateReport, Ratio } from '../gate.ts';
import { loadText } from '../parsers/artillery.ts';

function pct(r: Ratio): string {
  return r.percent === null ? 'n/a' : `${(Math.floor(r.percent * 100) / 100).toFixed(2)}%`;
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderTerminal(r: GateReport, options: { maxItems?: number } = {}): string {
  const max = options.maxItems ?? 10;
  const out: string[] = [];
  out.push(`Quality gate: ${r.passed ? 'PASSED' : 'FAILED'}`);
  if (r.conditions.length > 0) {
    out.push(
      '',
      table([
        ['', 'check', 'wanted', 'actual', 'note'],
        ...r.conditions.map((c) => [c.passed ? 'ok' : 'FAIL', c.key, c.wanted, c.actual, c.note ?? '']),
      ]),
    );
  } else {
    out.push('', 'No thresholds configured: nothing is gated.');
  }
  out.push('', `Reports: ${r.reports.map((x) => `${x.path} (${x.format})`).join(', ')}`);
  for (const s of r.skippedReports) out.push(`Skipped malformed report: ${s.reason}`);
  for (const w of r.warnings ?? []) out.push(`Warning: ${w}`);
  for (const e of r.findings.scanErrors?.list ?? [])
    out.push(`Not scanned (${e.tool}): ${e.file ? `${e.file}: ` : ''}${e.reason}`);
  const t = r.tests;
  if (t.reports > 0) {
    out.push(
      '',
      `Tests: ${t.tests} total, ${t.passed} passed, ${t.failed} failed, ${t.errored} errored, ` +
        `${t.skipped} skipped, ${t.flaky} flaky, ${formatDuration(t.durationMs)}`,
    );
    const failures = t.failures.filter((f) => f.outcome === 'failed' || f.outcome === 'errored');
    for (const f of failures.slice(0, max)) {
      out.push(
        `  ${f.outcome === 'errored' ? 'ERROR' : 'FAIL '} ${f.id}${f.file ? ` (${f.file}${f.line ? `:${f.line}` : ''})` : ''}: ${f.message ?? ''}`,
      );
    }
    if (failures.length > max) out.push(`  …and ${failures.length - max + t.failuresDropped} more`);
  }
  const c = r.coverage;
  if (c.reports > 0) {
    out.push(
      '',
      `Coverage: lines ${pct(c.lines)} (${c.lines.covered}/${c.lines.total}), branches ${pct(c.branches)}` +
        (c.diff ? `, changed lines ${pct(c.diff)} (${c.diff.covered}/${c.diff.total})` : ''),
    );
    for (const f of c.files.slice(0, Math.min(5, max))) out.push(`  ${pct(f.lines).padStart(7)}  ${f.file}`);
  }
  out.push(...loadText(r.load));
  const f = r.findings;
  if (f.tools.length > 0) {
    out.push('', 'Findings:');
    out.push(
      table([
        ['tool', 'error', 'warning', 'note', 'critical', 'high', 'medium', 'low'],
        ...[...f.tools, ...(f.tools.length > 1 ? ['all'] : [])].map((tool) => {
          const n = f.counts[tool];
          return [tool, ...(n ? [n.error, n.warning, n.note, n.critical, n.high, n.medium, n.low] : []).map(String)];
        }),
      ]).replace(/^/gm, '  '),
    );
    for (const x of f.list.slice(0, max)) {
      out.push(
        `  ${x.severity.padEnd(7)} ${x.file ?? ''}${x.line ? `:${x.line}` : ''} ${x.tool}/${x.rule}: ${x.message.split('\n')[0]}`,
      );
    }
    if (f.list.length + f.dropped > max) out.push(`  …and ${f.list.length + f.dropped - max} more`);
  }
  const b = r.baseline;
  if (b) {
    const d = (n: number | null): string => (n === null ? 'n/a' : `${n > 0 ? '+' : ''}${Math.round(n * 100) / 100}`);
    out.push(
      '',
      `Since baseline: line coverage ${d(b.coverageLine)} pts, ${b.newFindings} new / ${b.fixedFindings} fixed findings, ` +
        `${b.newlyFailing.length} newly failing, ${b.newlySkipped.length} newly skipped tests`,
    );
  }
  return `${out.join('\n')}\n`;
}

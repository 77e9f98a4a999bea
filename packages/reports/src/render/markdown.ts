// The gate's result as Markdown for the job summary and the pull-request comment. GitHub drops a
// summary over 1 MiB entirely and rejects comments over 65,536 characters, so sections are
// rendered at decreasing detail, least important first, until the text fits.
import { formatDuration, markdownCell, markdownCode } from '@adci/common';
import type { ConditionResult, FileCoverageSummary, GateReport, Ratio } from '../gate.ts';
import { loadMarkdown } from '../parsers/artillery.ts';
import type { Finding } from '../model.ts';

export const SUMMARY_LIMIT_BYTES = 1024 * 1024;
export const COMMENT_LIMIT_CHARS = 65_536;
export const COMMENT_MARKER_PREFIX = '<!-- adci:quality-gate';

export interface MarkdownOptions {
  title?: string;
  /** Budget, measured by `measure` (bytes for the summary, characters for a comment). */
  limit?: number;
  measure?: (text: string) => number;
  /** Where the full result lives (the report file or run URL), named when things are cut. */
  fullReportHint?: string;
}

interface Section {
  /** Renderings from most to least detailed; the last one is the smallest acceptable. */
  levels: (() => string)[];
  /** Lower is trimmed first. */
  priority: number;
}

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * Report text is untrusted (a pull request writes it): it must not ping people or teams
 * (`@org/team`) nor cross-reference issues (`#12`) from the comment, so a zero-width space
 * breaks those up; HTML is escaped.
 */
function defuse(text: string): string {
  return text.replace(/([@#])(?=[\w-])/g, '$1\u200b');
}

/** Free text from a report, outside code spans. */
function prose(text: string): string {
  return defuse(markdownCell(text));
}

function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

function pct(r: Ratio): string {
  return r.percent === null ? 'n/a' : `${(Math.floor(r.percent * 100) / 100).toFixed(2)}%`;
}

function signed(n: number | null, unit = ''): string {
  if (n === null) return 'n/a';
  const rounded = Math.round(n * 100) / 100;
  return `${rounded > 0 ? '+' : ''}${rounded}${unit}`;
}

function verdictSection(r: GateReport, title: string): string {
  const icon = r.passed ? '✅' : '❌';
  const failed = r.conditions.filter((c) => !c.passed).length;
  const head = `## ${icon} ${title}: ${r.passed ? 'passed' : `failed (${failed} of ${r.conditions.length} checks)`}\n\n`;
  if (r.conditions.length === 0) return `${head}_No thresholds configured: nothing is gated._\n`;
  const rows = r.conditions.map(
    (c: ConditionResult) =>
      `| ${c.passed ? '✅' : '❌'} | ${markdownCode(c.key)} | ${markdownCell(c.wanted)} | ${markdownCell(c.actual)} | ${prose(c.note ?? '')} |`,
  );
  return `${head}| | Check | Wanted | Actual | Note |\n|---|---|---|---|---|\n${rows.join('\n')}\n`;
}

function notesSection(r: GateReport): string {
  const lines: string[] = [];
  if (r.changes?.error) lines.push(`> [!WARNING]\n> Changed lines unknown: ${prose(r.changes.error)}`);
  for (const s of r.skippedReports) lines.push(`> [!WARNING]\n> Skipped malformed report: ${prose(s.reason)}`);
  for (const w of r.warnings ?? []) lines.push(`> [!WARNING]\n> ${prose(w)}`);
  const scan = r.findings.scanErrors;
  if (scan && scan.count > 0) {
    const items = scan.list
      .slice(0, 20)
      .map((e) => `- ${markdownCell(e.tool)}: ${e.file ? `${markdownCode(e.file)} ` : ''}${prose(e.reason)}`);
    const more = scan.count > items.length ? `\n- … and ${scan.count - items.length} more` : '';
    lines.push(
      `**Not scanned** (${scan.count}, threshold key \`findings.scan-errors\`):\n\n${items.join('\n')}${more}`,
    );
  }
  const formats = r.reports.map((x) => `${markdownCode(x.path)} (${x.format})`);
  const read =
    formats.length > 20 ? `${formats.slice(0, 20).join(', ')} and ${formats.length - 20} more` : formats.join(', ');
  lines.push(`Reports read: ${read || 'none'}.`);
  if (r.changes && !r.changes.error)
    lines.push(`Pull request changes: ${r.changes.lines} line(s) in ${r.changes.files} file(s).`);
  return `${lines.join('\n\n')}\n`;
}

function testsSection(r: GateReport, maxFailures: number, withDetails: boolean): string {
  const t = r.tests;
  if (t.reports === 0) return '';
  let out =
    `### Tests\n\n| Tests | Passed | Failed | Errored | Skipped | Flaky | Duration |\n|---|---|---|---|---|---|---|\n` +
    `| ${t.tests} | ${t.passed} | ${t.failed} | ${t.errored} | ${t.skipped} | ${t.flaky} | ${formatDuration(t.durationMs)} |\n`;
  const failures = t.failures.filter((f) => f.outcome === 'failed' || f.outcome === 'errored');
  const flaky = t.failures.filter((f) => f.outcome === 'flaky');
  const shown = failures.slice(0, maxFailures);
  if (shown.length > 0) {
    out += `\n**Failed tests**\n\n`;
    for (const f of shown) {
      const where = f.file ? ` (${markdownCode(`${f.file}${f.line ? `:${f.line}` : ''}`)})` : '';
      const icon = f.outcome === 'errored' ? '💥' : '❌';
      const summary = `${icon} ${markdownCode(f.id)}${where}: ${prose(f.message ?? '')}`;
      if (withDetails && f.details) {
        // Markdown is not rendered inside <summary>: HTML there.
        const place = f.file ? ` (<code>${html(f.file)}${f.line ? `:${f.line}` : ''}</code>)` : '';
        const head = `${icon} <code>${html(f.id)}</code>${place}: ${defuse(html(f.message ?? ''))}`;
        out += `<details><summary>${head}</summary>\n\n\`\`\`text\n${f.details.replace(/```/g, '`\u200b``')}\n\`\`\`\n\n</details>\n`;
      } else {
        out += `- ${summary}\n`;
      }
    }
  }
  const more = failures.length - shown.length + t.failuresDropped;
  if (more > 0) out += `\n…and ${more} more failed test(s).\n`;
  if (flaky.length > 0 && maxFailures > 0) {
    out += `\n**Flaky tests** (failed, then passed on a rerun): ${flaky
      .slice(0, maxFailures)
      .map((f) => markdownCode(f.id))
      .join(', ')}${flaky.length > maxFailures ? ', …' : ''}\n`;
  }
  return out;
}

function coverageSection(r: GateReport, maxUncovered: number): string {
  const c = r.coverage;
  if (c.reports === 0) return '';
  let out = `### Coverage\n\n| Lines | Branches | Changed lines |\n|---|---|---|\n`;
  const diff = c.diff ? `${pct(c.diff)} (${c.diff.covered}/${c.diff.total})` : 'n/a';
  out += `| ${pct(c.lines)} (${c.lines.covered}/${c.lines.total}) | ${pct(c.branches)} (${c.branches.covered}/${c.branches.total}) | ${diff} |\n`;
  if (c.diff && c.diff.uncovered.length > 0 && maxUncovered > 0) {
    out += `\n**Changed lines not covered**\n\n`;
    for (const u of c.diff.uncovered.slice(0, maxUncovered)) out += `- ${markdownCode(u.file)}: ${ranges(u.lines)}\n`;
    if (c.diff.uncovered.length > maxUncovered)
      out += `- …and ${c.diff.uncovered.length - maxUncovered} more file(s)\n`;
  }
  return out;
}

/** 3,4,5,9 -> "3-5, 9" */
export function ranges(lines: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = lines[i] as number;
    let end = start;
    while (i + 1 < lines.length && lines[i + 1] === end + 1) end = lines[++i] as number;
    parts.push(start === end ? String(start) : `${start}-${end}`);
  }
  return parts.join(', ');
}

function fileTable(title: string, rows: FileCoverageSummary[], max: number, total: number): string {
  if (rows.length === 0 || max === 0) return '';
  let out = `\n**${title}**\n\n| | Lines | Branches |\n|---|---|---|\n`;
  for (const f of rows.slice(0, max)) out += `| ${markdownCode(f.file)} | ${pct(f.lines)} | ${pct(f.branches)} |\n`;
  if (total > max) out += `\n…${total - max} more.\n`;
  return out;
}

function coverageDetailSection(r: GateReport, maxPackages: number, maxFiles: number): string {
  const c = r.coverage;
  if (c.reports === 0) return '';
  const packages = [...c.packages].sort((a, b) => (a.lines.percent ?? 101) - (b.lines.percent ?? 101));
  return (
    fileTable('Coverage per package (worst first)', packages, maxPackages, packages.length) +
    fileTable('Worst files', c.files, maxFiles, c.filesTotal)
  );
}

function findingsSection(r: GateReport): string {
  const f = r.findings;
  if (f.tools.length === 0) return '';
  let out = `### Findings\n\n| Tool | Error | Warning | Note | Critical | High | Medium | Low |\n|---|---|---|---|---|---|---|---|\n`;
  for (const tool of f.tools) {
    const n = f.counts[tool];
    if (!n) continue;
    out += `| ${markdownCell(tool)} | ${n.error} | ${n.warning} | ${n.note} | ${n.critical} | ${n.high} | ${n.medium} | ${n.low} |\n`;
  }
  const all = f.counts.all;
  if (all && f.tools.length > 1) {
    out += `| **all** | **${all.error}** | **${all.warning}** | **${all.note}** | **${all.critical}** | **${all.high}** | **${all.medium}** | **${all.low}** |\n`;
  }
  if (r.changes && !r.changes.error) out += `\n${f.onChangedLines} finding(s) on changed lines.\n`;
  return out;
}

function findingLine(x: Finding): string {
  const icon = x.severity === 'error' ? '❌' : x.severity === 'warning' ? '⚠️' : 'ℹ️';
  const where = x.file ? ` ${markdownCode(`${x.file}${x.line ? `:${x.line}` : ''}`)}` : '';
  const security = x.security ? ` (${x.security})` : '';
  const changed = x.onChangedLine ? ' 🆕' : '';
  return `- ${icon}${changed} **${markdownCell(x.tool)}** ${markdownCode(x.rule)}${security}${where}: ${prose(x.message)}`;
}

function findingsListSection(r: GateReport, max: number): string {
  const list = r.findings.list;
  if (list.length === 0 || max === 0) return '';
  let out = `\n<details><summary>Findings (${list.length + r.findings.dropped}${list.length > max ? `, first ${max}` : ''}; errors and changed lines 🆕 first)</summary>\n\n`;
  out += list.slice(0, max).map(findingLine).join('\n');
  return `${out}\n\n</details>\n`;
}

function baselineSection(r: GateReport, maxIds: number): string {
  const b = r.baseline;
  if (!b) return '';
  let out = `### Compared with the baseline${b.approximate ? ' (approximate: lists were capped)' : ''}\n\n`;
  out += `| Line coverage | Branch coverage | Tests | New findings | Fixed findings | Newly failing | Newly skipped |\n|---|---|---|---|---|---|---|\n`;
  out += `| ${signed(b.coverageLine, ' pts')} | ${signed(b.coverageBranch, ' pts')} | ${signed(b.testsDelta)} | ${b.newFindings} | ${b.fixedFindings} | ${b.newlyFailing.length} | ${b.newlySkipped.length} |\n`;
  const list = (label: string, ids: string[]): string =>
    ids.length === 0 || maxIds === 0
      ? ''
      : `\n**${label}**: ${ids
          .slice(0, maxIds)
          .map((id) => markdownCode(id))
          .join(', ')}${ids.length > maxIds ? `, …${ids.length - maxIds} more` : ''}\n`;
  return out + list('Newly failing', b.newlyFailing) + list('Newly skipped', b.newlySkipped);
}

function slowestSection(r: GateReport, max: number): string {
  const slow = r.tests.slowest.slice(0, max);
  if (slow.length === 0 || max === 0) return '';
  let out = `\n**Slowest tests**\n\n| Test | Duration |\n|---|---|\n`;
  for (const s of slow) out += `| ${markdownCode(s.id)} | ${formatDuration(s.durationMs)} |\n`;
  return out;
}

function sections(r: GateReport, title: string): Section[] {
  return [
    { priority: 100, levels: [() => verdictSection(r, title)] },
    { priority: 90, levels: [() => notesSection(r), () => ''] },
    {
      priority: 80,
      levels: [
        ...[200, 100, 50, 25, 12, 6, 3].map((n) => () => testsSection(r, n, true)),
        () => testsSection(r, 20, false),
        () => testsSection(r, 5, false),
        () => testsSection(r, 0, false),
      ],
    },
    { priority: 70, levels: [() => coverageSection(r, 50), () => coverageSection(r, 10), () => coverageSection(r, 0)] },
    { priority: 60, levels: [() => findingsSection(r)] },
    { priority: 55, levels: [() => loadMarkdown(r.load)] },
    { priority: 50, levels: [() => baselineSection(r, 50), () => baselineSection(r, 10), () => baselineSection(r, 0)] },
    {
      priority: 40,
      levels: [
        () => coverageDetailSection(r, 50, 20),
        () => coverageDetailSection(r, 15, 10),
        () => coverageDetailSection(r, 5, 5),
        () => '',
      ],
    },
    {
      priority: 30,
      levels: [
        () => findingsListSection(r, 1000),
        () => findingsListSection(r, 300),
        () => findingsListSection(r, 100),
        () => findingsListSection(r, 25),
        () => '',
      ],
    },
    { priority: 20, levels: [() => slowestSection(r, 10), () => slowestSection(r, 3), () => ''] },
  ];
}

/** The full Markdown within `limit`, trimmed least important first. */
export function renderMarkdown(r: GateReport, options: MarkdownOptions = {}): string {
  const title = options.title ?? 'Quality gate';
  const limit = options.limit ?? SUMMARY_LIMIT_BYTES - 1024;
  const measure = options.measure ?? bytes;
  const parts = sections(r, title);
  const level = parts.map(() => 0);
  const texts = parts.map((s) => (s.levels[0] as () => string)());
  let trimmed = false;
  const footer = (): string =>
    trimmed
      ? `\n---\n_Some details were left out to stay within GitHub's size limit${options.fullReportHint ? `; the full result is in ${options.fullReportHint}` : ''}._\n`
      : '';
  const total = (): number => measure(texts.join('\n')) + measure(footer());
  const order = parts.map((s, i) => ({ s, i })).sort((a, b) => a.s.priority - b.s.priority);
  while (total() > limit) {
    const next = order.find(({ s, i }) => (level[i] as number) < s.levels.length - 1);
    if (!next) break;
    const i = next.i;
    level[i] = (level[i] as number) + 1;
    texts[i] = (next.s.levels[level[i]] as () => string)();
    trimmed = true;
  }
  let text = texts.filter((t) => t !== '').join('\n') + footer();
  if (measure(text) > limit) text = hardCut(text, limit, measure);
  return text;
}

/** Last resort (e.g. thousands of thresholds): cut at a line boundary and say so. */
function hardCut(text: string, limit: number, measure: (t: string) => number): string {
  const note = "\n\n_…cut to fit GitHub's size limit._\n";
  let end = Math.min(text.length, limit);
  while (end > 0 && measure(text.slice(0, end)) + measure(note) > limit) end = Math.floor(end * 0.9);
  const cut = text.lastIndexOf('\n', end);
  return text.slice(0, cut > 0 ? cut : end) + note;
}

export interface CommentOptions {
  /** Distinguishes several gates commenting on one pull request. */
  id?: string;
  title?: string;
  runUrl?: string;
}

export function commentMarker(id = 'default'): string {
  return `${COMMENT_MARKER_PREFIX} id=${id.replace(/[^\w.-]/g, '_')} -->`;
}

/** The pull-request comment: a hidden marker to find it again, then the Markdown, ≤ 65,536 chars. */
export function renderComment(r: GateReport, options: CommentOptions = {}): string {
  const marker = commentMarker(options.id);
  const link = options.runUrl ? `\n\n[Full report in the workflow run](${options.runUrl})\n` : '\n';
  const body = renderMarkdown(r, {
    title: options.title,
    limit: COMMENT_LIMIT_CHARS - marker.length - link.length - 2,
    measure: (t) => t.length,
    fullReportHint: options.runUrl ? 'the workflow run summary' : 'the job summary',
  });
  return `${marker}\n${body}${link}`;
}

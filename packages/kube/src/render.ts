// Platform-neutral presentation of a blue-green result: Markdown for the job summary (phases as
// a Mermaid gantt, pods, the switch and its endpoint verification, checks) and plain text for the CLI.
import { renderAnalysisMarkdown, renderAnalysisText } from '@adci/analysis';
import { markdownCell } from '@adci/common';
import type { BlueGreenResult, ContainerDiagnosis, HistoryEntry, PhaseRecord } from './model.ts';
import { PHASES } from './state.ts';
import type { TargetOutcome, WavesResult } from './waves.ts';

const escapeCell = markdownCell;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

function headline(result: BlueGreenResult): string {
  const icon = result.failed ? '❌' : result.result === 'unchanged' || result.result === 'status' ? 'ℹ️' : '✅';
  const where = `${result.app} in ${result.namespace}`;
  switch (result.result) {
    case 'promoted':
      return `${icon} ${where}: ${result.activeColor} is live (revision ${result.revision}, ${result.image})`;
    case 'rolled-back':
      return `${icon} ${where}: rolled back to ${result.activeColor}`;
    case 'preview-ready':
      return `${icon} ${where}: ${result.previewColor} is ready as a preview; promote to switch traffic`;
    case 'unchanged':
      return `${icon} ${where}: ${result.image} is already live on ${result.activeColor}; nothing changed`;
    case 'aborted':
      return `${icon} ${where}: preview aborted; ${result.activeColor ?? 'nothing'} stays live`;
    case 'planned':
      return `${icon} ${where}: dry run, nothing changed`;
    case 'status':
      return `${icon} ${where}: ${result.activeColor ?? 'not deployed'} is live${result.previewColor ? `, ${result.previewColor} waits as a preview` : ''}`;
    default:
      return `${icon} ${where}: deploy failed; traffic stays on ${result.activeColor ?? 'nothing (first deploy)'}`;
  }
}

function gantt(phases: PhaseRecord[]): string[] {
  const finished = phases.filter((p) => p.endedAt !== undefined);
  if (finished.length === 0) return [];
  const origin = finished[0]?.startedAt ?? 0;
  const lines = ['```mermaid', 'gantt', '  title Phases', '  dateFormat x', '  axisFormat %M:%S'];
  for (const p of finished) {
    const tag = p.outcome === 'failed' || p.outcome === 'cancelled' ? 'crit, ' : '';
    const start = Math.round(p.startedAt - origin);
    const end = Math.max(start + 1, Math.round((p.endedAt ?? p.startedAt) - origin));
    lines.push(`  ${p.name} : ${tag}${start}, ${end}`);
  }
  lines.push('```');
  return lines;
}

function termination(d: ContainerDiagnosis): string {
  return [d.reason, d.exitCode === undefined ? undefined : `exit code ${d.exitCode}`, `${d.restarts} restarts`]
    .filter(Boolean)
    .join(', ');
}

/** How many releases the history shows in a summary (all of them in --json). */
const HISTORY_SHOWN = 10;

function historyMarkdown(history: HistoryEntry[]): string[] {
  const out = [
    '### Releases',
    '',
    '| Revision | Image | Commit | Outcome | Colour | When | Run |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const h of history.slice(0, HISTORY_SHOWN)) {
    const outcome = h.rollbackOf === undefined ? h.outcome : `${h.outcome} (again revision ${h.rollbackOf})`;
    out.push(
      `| ${h.revision} | ${escapeCell(h.image)} | ${escapeCell(h.commit?.slice(0, 12) ?? '')} | ${escapeCell(outcome)} | ${h.color ?? ''} | ${escapeCell(h.time)} | ${h.runUrl ? `[run](${h.runUrl})` : ''} |`,
    );
  }
  out.push('');
  return out;
}

export function renderHistoryText(history: HistoryEntry[]): string[] {
  if (!history.length) return ['  no releases stored'];
  const lines = ['  revision  outcome      colour  image / commit / when'];
  for (const h of history.slice(0, HISTORY_SHOWN)) {
    const outcome = h.rollbackOf === undefined ? h.outcome : `${h.outcome}<-${h.rollbackOf}`;
    lines.push(
      `  ${String(h.revision).padStart(8)}  ${outcome.padEnd(11)}  ${(h.color ?? '').padEnd(6)}  ${h.image}${h.commit ? ` ${h.commit.slice(0, 12)}` : ''} ${h.time}`,
    );
  }
  return lines;
}

/**
 * A phase as it starts (`▶ name`) or ends (`✔ name (1.23 s): detail`), for the action's log and the
 * CLI's stderr alike; `target` prefixes the phase in a release to several clusters.
 */
export function phaseLine(phase: PhaseRecord, target?: string): string {
  const name = target ? `${target} ${phase.name}` : phase.name;
  if (phase.endedAt === undefined) return `▶ ${name}`;
  const took = ((phase.endedAt - phase.startedAt) / 1000).toFixed(2);
  return `${phase.outcome === 'ok' ? '✔' : '✖'} ${name} (${took} s)${phase.detail ? `: ${phase.detail}` : ''}`;
}

export function renderMarkdown(result: BlueGreenResult): string {
  const out: string[] = [`## blue-green-deploy: ${result.action}`, '', headline(result), ''];
  if (result.error)
    out.push(
      `> **${result.result === 'rolled-back' ? 'Why it rolled back' : 'Why it failed'}:** ${escapeCell(result.error)}`,
      '',
    );
  if (result.recovered) out.push(`> **An earlier run:** ${escapeCell(result.recovered)}`, '');
  const d = result.diagnosis;
  if (d) {
    out.push(
      `### Why container ${d.container} of ${d.pod} failed`,
      '',
      `Last termination: ${termination(d) || 'unknown'}`,
      '',
      '```text',
      ...d.logs.map((l) => l.replace(/```/g, "'''")),
      '```',
      '',
    );
  }
  const facts: [string, string | undefined][] = [
    ['Result', result.result],
    ['Active colour', result.activeColor],
    ['Previous colour', result.previousColor],
    ['Revision', result.revision === undefined ? undefined : String(result.revision)],
    ['Image', result.image],
    ['Services', result.services.join(', ')],
    ['Ready after', result.readySeconds === undefined ? undefined : `${result.readySeconds.toFixed(1)} s`],
    ['Switch verified after', result.switchSeconds === undefined ? undefined : `${result.switchSeconds.toFixed(2)} s`],
    [
      'Last pod ready → switch',
      result.switchLatencyMs === undefined ? undefined : `${Math.round(result.switchLatencyMs)} ms`,
    ],
  ];
  out.push('| | |', '|---|---|');
  for (const [k, v] of facts) if (v) out.push(`| ${k} | ${escapeCell(v)} |`);
  out.push('');
  if (result.phases.length) {
    out.push('### Phases', '', '| Phase | Outcome | Duration | Detail |', '|---|---|---|---|');
    for (const p of result.phases) {
      const duration = p.endedAt === undefined ? '' : seconds(p.endedAt - p.startedAt);
      out.push(`| ${p.name} | ${p.outcome ?? 'running'} | ${duration} | ${escapeCell(p.detail ?? '')} |`);
    }
    out.push('', ...gantt(result.phases), '');
  }
  if (result.pods.length) {
    out.push('### Pods', '', '| Pod | Ready | Restarts | Phase |', '|---|---|---|---|');
    for (const pod of result.pods)
      out.push(
        `| ${pod.name} | ${pod.ready ? 'yes' : `no${pod.reason ? ` (${pod.reason})` : ''}`} | ${pod.restarts} | ${pod.phase} |`,
      );
    out.push('');
  }
  if (result.endpoints.length) {
    out.push(
      '### Endpoint verification',
      '',
      '| Service | Ready endpoints | Of the new colour | Others |',
      '|---|---|---|---|',
    );
    for (const e of result.endpoints)
      out.push(`| ${e.service} | ${e.ready} | ${e.readyNew} | ${e.readyOther.join(', ') || 'none'} |`);
    out.push('');
  }
  if (result.checks.length) {
    out.push('### Checks', '', '| Phase | Passed | Failed | Detail |', '|---|---|---|---|');
    for (const { phase, result: r } of result.checks) {
      const failed = r.checks.filter((c) => c.outcome === 'failed').map((c) => c.name);
      const thresholds = (r.load?.thresholds ?? []).filter((t) => !t.passed).map((t) => t.threshold);
      out.push(
        `| ${phase} | ${r.counts.passed} | ${r.counts.failed} | ${escapeCell([...failed, ...thresholds].join(', '))} |`,
      );
    }
    out.push('');
  }
  for (const { result: analysis } of result.analyses ?? []) {
    out.push(renderAnalysisMarkdown(analysis), '');
  }
  if (result.plan?.length) out.push('### Plan', '', ...result.plan.map((l) => `- ${l}`), '');
  if (result.helm?.advice) out.push('### Helm release', '', escapeCell(result.helm.advice), '');
  if (result.history?.length && (result.action === 'status' || result.action === 'rollback'))
    out.push(...historyMarkdown(result.history));
  return out.join('\n');
}

export function renderText(result: BlueGreenResult): string {
  const lines = [headline(result).replace(/^\S+ /, '')];
  if (result.error) lines.push(`reason: ${result.error}`);
  if (result.recovered) lines.push(`earlier run: ${result.recovered}`);
  if (result.diagnosis) {
    lines.push(`container ${result.diagnosis.container} of ${result.diagnosis.pod}: ${termination(result.diagnosis)}`);
    lines.push(...result.diagnosis.logs.map((l) => `  | ${l}`));
  }
  for (const p of result.phases) {
    if (p.endedAt === undefined) continue;
    lines.push(
      `  ${p.name.padEnd(17)} ${(p.outcome ?? '').padEnd(9)} ${seconds(p.endedAt - p.startedAt).padStart(9)}  ${p.detail ?? ''}`,
    );
  }
  for (const { result: analysis } of result.analyses ?? []) lines.push(renderAnalysisText(analysis));
  if (result.plan?.length) lines.push(...result.plan.map((l) => `  plan: ${l}`));
  if (result.helm?.advice) lines.push(`helm: ${result.helm.advice}`);
  if (result.action === 'status') lines.push('releases:', ...renderHistoryText(result.history ?? []));
  return lines.join('\n');
}

// ── a release in waves across clusters ─────────────────────────────────────────────────────

const MARK: Record<string, string> = { ok: '✔', failed: '✖', cancelled: '⏹', skipped: '·' };

function wavesHeadline(result: WavesResult): string {
  switch (result.result) {
    case 'promoted':
      return result.mode === 'finish'
        ? `✅ finished on ${result.targets.length} targets: the old colours drained and scaled down`
        : `✅ released to ${result.targets.length} targets in ${result.waves.length} waves`;
    case 'planned':
      return `✅ ${result.targets.length} targets reachable with every permission; waves ${result.waves.map((w) => `[${w.join(', ')}]`).join(' → ')}`;
    case 'held':
      return `✅ released to ${result.targets.map((t) => t.name).join(', ')}, the previous colour held up until the finish`;
    case 'status':
      return result.failed
        ? `❌ not every target holds this release: ${result.error ?? ''}`
        : `✅ ${result.targets.map((t) => t.name).join(', ')} hold this release`;
    case 'rolled-back':
      return result.mode === 'rollback' && !result.failed
        ? `↩️ global rollback: ${result.error ?? ''}`
        : `❌ rolled back everywhere: ${result.error ?? ''}`;
    case 'stopped':
      return `❌ stopped: ${result.error ?? ''}`;
    default:
      return `❌ failed: ${result.error ?? ''}`;
  }
}

function targetPhases(o: TargetOutcome): PhaseRecord[] {
  return [
    ...(o.stage?.phases ?? []),
    ...(o.release?.phases ?? []),
    ...(o.rollback?.phases ?? []).map((p) => ({ ...p, name: 'rollback' as const })),
    ...(o.finish?.phases ?? []).filter((p) => p.name === 'drain' || p.name === 'scale-down'),
  ];
}

/** One table of targets × phases and a Mermaid gantt across the clusters. */
export function renderWavesMarkdown(result: WavesResult): string {
  const columns = [...PHASES.filter((p) => p !== 'lock' && p !== 'unlock'), 'rollback'].filter((phase) =>
    result.targets.some((o) => targetPhases(o).some((p) => p.name === phase)),
  );
  const out = ['## blue-green-deploy: waves', '', wavesHeadline(result), ''];
  out.push(
    `| Target | Wave | Outcome | Revision | ${columns.join(' | ')} |`,
    `|---|---|---|---|${columns.map(() => '---').join('|')}|`,
  );
  for (const o of result.targets) {
    const phases = targetPhases(o);
    const cells = columns.map((c) => {
      const p = phases.filter((x) => x.name === c).at(-1);
      return p ? (MARK[p.outcome ?? ''] ?? '…') : '';
    });
    out.push(
      `| ${o.name} | ${o.wave} | ${o.state} | ${o.release?.revision ?? o.leftRevision ?? ''} | ${cells.join(' | ')} |`,
    );
  }
  out.push('');
  const found = result.targets.filter((o) => o.found);
  if (found.length) {
    out.push('### Found on each cluster', '');
    for (const o of found) out.push(`- **${o.name}**: ${escapeCell(o.found ?? '')}`);
    out.push('');
  }
  const failed = result.targets.filter((o) => o.error);
  if (failed.length) {
    out.push('### Why', '');
    for (const o of failed) out.push(`- **${o.name}**: ${escapeCell(o.error ?? '')}`);
    out.push('');
  }
  const all = result.targets.flatMap((o) => targetPhases(o).filter((p) => p.endedAt !== undefined));
  if (all.length) {
    const origin = Math.min(...all.map((p) => p.startedAt));
    out.push('```mermaid', 'gantt', '  title Waves across clusters', '  dateFormat x', '  axisFormat %M:%S');
    for (const o of result.targets) {
      out.push(`  section ${o.name}`);
      for (const p of targetPhases(o).filter((x) => x.endedAt !== undefined)) {
        const tag = p.outcome === 'failed' || p.outcome === 'cancelled' ? 'crit, ' : '';
        const start = Math.round(p.startedAt - origin);
        const end = Math.max(start + 1, Math.round((p.endedAt ?? p.startedAt) - origin));
        out.push(`  ${p.name} : ${tag}${start}, ${end}`);
      }
    }
    out.push('```', '');
  }
  return out.join('\n');
}

export function renderWavesText(result: WavesResult): string {
  const lines = [wavesHeadline(result).replace(/^\S+ /, '')];
  for (const o of result.targets) {
    const phases = targetPhases(o)
      .filter((p) => p.endedAt !== undefined)
      .map((p) => `${p.name}${p.outcome === 'ok' ? '' : `(${p.outcome})`}`)
      .join(' ');
    lines.push(`  wave ${o.wave} ${o.name.padEnd(16)} ${o.state.padEnd(11)} ${phases}`);
    if (o.found) lines.push(`    found: ${o.found}`);
    if (o.error) lines.push(`    ${o.error}`);
  }
  return lines.join('\n');
}

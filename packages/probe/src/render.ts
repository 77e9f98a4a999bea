// Platform-neutral presentation of a smoke result: Markdown for a job summary (checks table,
// shard and threshold verdicts, a Mermaid latency chart), the one-line failure message, and plain
// text for the CLI. The smoke-test action and `adci smoke` both render through here.
import { formatDuration, markdownCell, markdownCode } from '@adci/common';
import { describeFailure } from './checks.ts';
import type { LoadResult, ShardSummary, SmokeResult, ThresholdResult, TimelinePoint } from './types.ts';

const MAX_CHART_POINTS = 60;

function ms(value: number | undefined): string {
  return value === undefined ? '' : formatDuration(value);
}

/** A threshold's measured value as its verdict shows it: `2.1s` for a latency, the number otherwise. */
export function thresholdActual(t: ThresholdResult): string {
  return t.latency ? formatDuration(t.actual) : String(t.actual);
}

/** Said beside the implicit error-rate threshold wherever thresholds are listed. */
export const IMPLICIT_THRESHOLD_NOTE = 'implicit: no threshold names the error rate';

const ICON = { passed: '✅', failed: '❌', skipped: '⏭️' } as const;

/** Merges timeline buckets so the chart stays readable; keeps the worst latency of each group. */
export function chartPoints(timeline: readonly TimelinePoint[]): TimelinePoint[] {
  const group = Math.ceil(timeline.length / MAX_CHART_POINTS) || 1;
  const out: TimelinePoint[] = [];
  for (let i = 0; i < timeline.length; i += group) {
    const slice = timeline.slice(i, i + group);
    const last = slice[slice.length - 1] as TimelinePoint;
    out.push({
      second: last.second,
      requests: slice.reduce((n, p) => n + p.requests, 0),
      errors: slice.reduce((n, p) => n + p.errors, 0),
      p50: Math.max(...slice.map((p) => p.p50)),
      p95: Math.max(...slice.map((p) => p.p95)),
      p99: Math.max(...slice.map((p) => p.p99)),
      max: Math.max(...slice.map((p) => p.max)),
    });
  }
  return out;
}

function latencyChart(load: LoadResult): string {
  const points = chartPoints(load.timeline);
  if (points.length === 0) return '';
  const top = Math.max(1, ...points.map((p) => p.p99));
  return [
    '```mermaid',
    'xychart-beta',
    '  title "Latency of requests by second sent (ms): p50, p95, p99"',
    `  x-axis "second" [${points.map((p) => Number(p.second.toFixed(1))).join(', ')}]`,
    `  y-axis "latency (ms)" 0 --> ${Math.ceil(top * 1.1)}`,
    `  line [${points.map((p) => p.p50).join(', ')}]`,
    `  line [${points.map((p) => p.p95).join(', ')}]`,
    `  line [${points.map((p) => p.p99).join(', ')}]`,
    '```',
  ].join('\n');
}

function loadSection(load: LoadResult): string {
  const model =
    load.scenarios !== undefined
      ? `open model, ${load.scenarios} scenario(s) over ${load.phases ?? 1} phase(s), ` +
        `${load.requestedRate} arrivals/s on average (max ${load.maxInFlight} virtual users)`
      : load.model === 'open'
        ? `open model at ${load.requestedRate}/s (max ${load.maxInFlight} in flight)`
        : `closed model, ${load.connections} connections`;
  const lines = [
    `### Load phase: ${model} for ${formatDuration(load.plannedDurationMs)}`,
    '',
    load.aborted
      ? `**Stopped early after ${formatDuration(load.durationMs)}: ${markdownCell(load.abortReason ?? '')}**\n`
      : '',
    '| Threshold | Verdict | Actual |',
    '| --- | --- | --- |',
    ...load.thresholds.map(
      (t) =>
        `| ${markdownCode(t.threshold)}${t.implicit ? ` (${IMPLICIT_THRESHOLD_NOTE})` : ''} | ${t.passed ? '✅ pass' : '❌ fail'} | ${thresholdActual(t)} |`,
    ),
    load.thresholds.length === 0 ? '| (none) | | |' : '',
    '',
    '| Requests | Achieved rate | Dropped | Error rate | p50 | p90 | p95 | p99 | max |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${load.completed} | ${load.rps.toFixed(1)}/s | ${load.dropped} | ${(load.errorRate * 100).toFixed(2)}% | ${ms(load.latency.p50)} | ${ms(load.latency.p90)} | ${ms(load.latency.p95)} | ${ms(load.latency.p99)} | ${ms(load.latency.max)} |`,
    '',
    `Status codes: ${
      Object.entries(load.statusCounts)
        .map(([s, n]) => `${s} × ${n}`)
        .join(', ') || 'none'
    }.` +
      (Object.keys(load.errorKinds).length > 0
        ? ` Errors: ${Object.entries(load.errorKinds)
            .map(([k, n]) => `${k} × ${n}`)
            .join(', ')}.`
        : ''),
    '',
    connectionsLine(load),
    '',
    latencyChart(load),
    '',
  ];
  return lines.filter((l, i) => !(l === '' && lines[i - 1] === '')).join('\n');
}

/**
 * The open model's own connections (raw-http.ts): opened ahead, open at the end, and the requests
 * that found every connection busy. Empty when the load ran on undici (the counts are unknown).
 */
function connectionsLine(load: LoadResult): string {
  if (load.preopenedConnections === undefined || load.waitedForConnection === undefined) return '';
  const share = load.sent === 0 ? 0 : (load.waitedForConnection / load.sent) * 100;
  return (
    `Connections: ${load.preopenedConnections} opened before the schedule started, ${load.openedConnections ?? load.preopenedConnections} at the end; ` +
    `${load.waitedForConnection} requests (${share.toFixed(2)}%) waited for a connection ` +
    '(their latency counts from their scheduled time, the wait included).'
  );
}

/** A merged load phase: one line per shard it was merged from. */
function shardsSection(shards: readonly ShardSummary[]): string {
  return [
    `Merged from ${shards.length} shards (thresholds judged on the merged histogram and summed counts):`,
    '',
    '| Shard | Verdict | Responses | Started | Duration |',
    '| --- | --- | --- | --- | --- |',
    ...shards.map(
      (s) =>
        `| ${s.index}/${s.count} | ${s.passed ? '✅' : `❌ ${markdownCell((s.problems ?? []).join('; '))}`} | ${s.completed} | ${s.startedAt} | ${formatDuration(s.durationMs)} |`,
    ),
  ].join('\n');
}

/** The result as Markdown for a job summary: checks table, shard and threshold verdicts, a latency chart. */
export function renderSmokeMarkdown(result: SmokeResult): string {
  const out: string[] = [`## Smoke test ${result.passed ? 'passed ✅' : 'failed ❌'}`, ''];
  out.push(
    `Target: ${result.baseUrl} · ${result.counts.passed} passed, ${result.counts.failed} failed` +
      (result.counts.skipped ? `, ${result.counts.skipped} skipped` : '') +
      '.',
    '',
  );
  if (result.wait) {
    const w = result.wait;
    out.push(
      w.ready
        ? `Waited ${formatDuration(w.elapsedMs)} (${w.attempts} attempts) for ${w.url} to answer.`
        : `❌ ${w.url} did not answer 2xx within ${formatDuration(w.elapsedMs)} (${w.attempts} attempts); last: ${markdownCell(w.lastProblem ?? '')}.`,
      '',
    );
  }
  if (result.checks.length > 0) {
    out.push('| Check | Status | Latency | Failure |', '| --- | --- | --- | --- |');
    for (const c of result.checks) {
      const status = `${ICON[c.outcome]} ${c.status ?? ''}`.trim();
      out.push(
        `| ${markdownCell(c.name)} | ${status} | ${ms(c.latencyMs)} | ${c.outcome === 'passed' ? '' : markdownCell(describeFailure(c))} |`,
      );
    }
    out.push('');
  }
  if (result.shards) out.push(shardsSection(result.shards), '');
  if (result.load) out.push(loadSection(result.load));
  return out.join('\n');
}

/** Why the smoke test failed, in one line (the action's failure message). */
export function smokeFailureMessage(result: SmokeResult): string {
  const parts: string[] = [];
  if (result.wait && !result.wait.ready)
    parts.push(`${result.wait.url} never became ready (${result.wait.lastProblem})`);
  const failed = result.checks.filter((c) => c.outcome === 'failed');
  if (failed.length > 0)
    parts.push(`${failed.length} of ${result.checks.length} checks failed (${failed.map((c) => c.name).join(', ')})`);
  for (const s of result.shards?.filter((shard) => !shard.passed) ?? [])
    parts.push(`shard ${s.index}/${s.count} failed (${(s.problems ?? []).join('; ')})`);
  if (result.load?.aborted) parts.push(`load phase stopped early: ${result.load.abortReason}`);
  const breached = result.load?.thresholds.filter((t) => !t.passed) ?? [];
  if (breached.length > 0)
    parts.push(
      `thresholds breached: ${breached.map((t) => `${t.threshold} (actual ${thresholdActual(t)})`).join(', ')}`,
    );
  return `Smoke test failed: ${parts.join('; ')}`;
}

/** The result as terminal text. */
export function renderSmokeText(result: SmokeResult): string {
  const lines: string[] = [];
  if (result.wait) {
    const w = result.wait;
    lines.push(
      w.ready
        ? `ready    ${w.url} after ${w.attempts} attempt(s), ${formatDuration(w.elapsedMs)}`
        : `NOT READY ${w.url} after ${formatDuration(w.elapsedMs)}: ${w.lastProblem ?? ''}`,
    );
  }
  for (const c of result.checks) {
    const latency = c.latencyMs === undefined ? '' : ` ${formatDuration(c.latencyMs)}`;
    const status = c.status === undefined ? '' : ` ${c.status}`;
    const line = `${c.outcome.toUpperCase().padEnd(8)} ${c.name}${status}${latency}`;
    lines.push(c.outcome === 'passed' ? line : `${line}: ${describeFailure(c)}`);
    if (c.outcome === 'failed' && c.excerpt) lines.push(`         response: ${c.excerpt.slice(0, 300)}`);
  }
  const load = result.load;
  if (load) {
    const l = load.latency;
    lines.push(
      `load     ${load.model} model: ${load.completed} responses, ${load.rps}/s, ${load.dropped} dropped, ` +
        `error rate ${(load.errorRate * 100).toFixed(2)}%`,
      `         p50 ${l.p50}ms  p90 ${l.p90}ms  p95 ${l.p95}ms  p99 ${l.p99}ms  max ${l.max}ms`,
    );
    if (load.waitedForConnection !== undefined) {
      lines.push(
        `         connections: ${load.preopenedConnections ?? 0} opened ahead, ${load.openedConnections ?? 0} at the end; ` +
          `${load.waitedForConnection} requests waited for one`,
      );
    }
    if (load.aborted) lines.push(`         stopped early: ${load.abortReason ?? ''}`);
    for (const s of result.shards ?? []) {
      lines.push(
        `${s.passed ? 'shard' : 'SHARD FAILED'}    ${s.index}/${s.count}: ${s.completed} responses from ${s.startedAt} ` +
          `for ${formatDuration(s.durationMs)}${s.problems ? ` (${s.problems.join('; ')})` : ''}`,
      );
    }
    for (const t of load.thresholds)
      lines.push(
        `${t.passed ? 'PASSED' : 'FAILED'}   ${t.threshold} (actual ${t.actual}${t.latency ? 'ms' : ''})` +
          (t.implicit ? ` (${IMPLICIT_THRESHOLD_NOTE})` : ''),
      );
  }
  lines.push(
    `${result.passed ? 'smoke test passed' : 'smoke test FAILED'}: ${result.counts.passed} passed, ${result.counts.failed} failed` +
      (result.counts.skipped ? `, ${result.counts.skipped} skipped` : ''),
  );
  return `${lines.join('\n')}\n`;
}

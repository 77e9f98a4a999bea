// Presentation of a smoke result on GitHub: outputs, the job summary (checks table, threshold
// verdicts, a latency chart), and an error annotation per failed check or threshold.
import * as core from '@actions/core';
import { formatDuration, redactUrlSecrets, type Redactor } from '@adci/common';
import {
  describeFailure,
  type LoadResult,
  type ShardSummary,
  type SmokeResult,
  type ThresholdResult,
  type TimelinePoint,
} from '@adci/probe';

const MAX_CHART_POINTS = 60;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function ms(value: number | undefined): string {
  return value === undefined ? '' : formatDuration(value);
}

function shownActual(t: ThresholdResult): string {
  return t.latency ? formatDuration(t.actual) : String(t.actual);
}

/** Said beside the implicit error-rate threshold wherever thresholds are listed. */
const IMPLICIT = 'implicit: no threshold names the error rate';

const ICON = { passed: '✅', failed: '❌', skipped: '⏭️' } as const;

export function setOutputs(result: SmokeResult, reportFile: string): void {
  core.setOutput('passed', String(result.counts.passed));
  core.setOutput('failed', String(result.counts.failed));
  const load = result.load;
  core.setOutput('p95-ms', load ? String(load.latency.p95) : '');
  core.setOutput('p99-ms', load ? String(load.latency.p99) : '');
  core.setOutput('error-rate', load ? String(load.errorRate) : '');
  core.setOutput('rps', load ? String(load.rps) : '');
  core.setOutput('report', reportFile);
}

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

export function latencyChart(load: LoadResult): string {
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
    load.aborted ? `**Stopped early after ${formatDuration(load.durationMs)}: ${cell(load.abortReason ?? '')}**\n` : '',
    '| Threshold | Verdict | Actual |',
    '| --- | --- | --- |',
    ...load.thresholds.map(
      (t) =>
        `| \`${cell(t.threshold)}\`${t.implicit ? ` (${IMPLICIT})` : ''} | ${t.passed ? '✅ pass' : '❌ fail'} | ${shownActual(t)} |`,
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
        `| ${s.index}/${s.count} | ${s.passed ? '✅' : `❌ ${cell((s.problems ?? []).join('; '))}`} | ${s.completed} | ${s.startedAt} | ${formatDuration(s.durationMs)} |`,
    ),
  ].join('\n');
}

export function renderSummary(result: SmokeResult): string {
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
        : `❌ ${w.url} did not answer 2xx within ${formatDuration(w.elapsedMs)} (${w.attempts} attempts); last: ${cell(w.lastProblem ?? '')}.`,
      '',
    );
  }
  if (result.checks.length > 0) {
    out.push('| Check | Status | Latency | Failure |', '| --- | --- | --- | --- |');
    for (const c of result.checks) {
      const status = `${ICON[c.outcome]} ${c.status ?? ''}`.trim();
      out.push(
        `| ${cell(c.name)} | ${status} | ${ms(c.latencyMs)} | ${c.outcome === 'passed' ? '' : cell(describeFailure(c))} |`,
      );
    }
    out.push('');
  }
  if (result.shards) out.push(shardsSection(result.shards), '');
  if (result.load) out.push(loadSection(result.load));
  return out.join('\n');
}

/** One line for `core.setFailed`. */
export function failureMessage(result: SmokeResult): string {
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
    parts.push(`thresholds breached: ${breached.map((t) => `${t.threshold} (actual ${shownActual(t)})`).join(', ')}`);
  return `Smoke test failed: ${parts.join('; ')}`;
}

/** The text with the redactor's secrets masked, or at least URL credentials and secret parameters. */
function redactWith(redactor: Redactor | undefined): (text: string) => string {
  return redactor ? (text) => redactor.redact(text) : redactUrlSecrets;
}

export function annotate(result: SmokeResult, redactor?: Redactor): void {
  const redact = redactWith(redactor);
  for (const c of result.checks.filter((check) => check.outcome === 'failed')) {
    const excerpt = c.excerpt ? `\nResponse: ${c.excerpt.slice(0, 300)}` : '';
    core.error(redact(`${c.method} ${c.url}: ${describeFailure(c)}${excerpt}`), {
      title: redact(`Smoke check failed: ${c.name}`),
    });
  }
  for (const t of result.load?.thresholds.filter((threshold) => !threshold.passed) ?? []) {
    core.error(`${t.threshold} breached: actual ${shownActual(t)}${t.implicit ? ` (${IMPLICIT})` : ''}`, {
      title: 'Load threshold breached',
    });
  }
  if (result.load && result.load.dropped > 0) {
    core.warning(
      result.load.scenarios !== undefined
        ? `${result.load.dropped} arrivals (virtual users) were dropped: ${result.load.maxInFlight} were already running, so the service was slower than the scenario's rate allows`
        : `${result.load.dropped} requests were dropped: max-in-flight (${result.load.maxInFlight}) was reached, so the service was slower than the requested rate allows`,
      { title: 'Load phase dropped requests' },
    );
  }
}

export async function writeSummary(result: SmokeResult, redactor?: Redactor): Promise<void> {
  await core.summary.addRaw(redactWith(redactor)(renderSummary(result))).write();
}

// Platform-neutral presentation of an analysis: per metric a Markdown table of its measurements
// and a Mermaid xychart of the values against the threshold; plain text for the CLI.
import { markdownCell, markdownCode } from '@adci/common';
import { formatValue, type AnalysisResult, type Measurement, type MetricResult } from './engine.ts';

const ICON: Record<MetricResult['outcome'], string> = {
  passed: '✅',
  failed: '❌',
  inconclusive: '⚠️',
  error: '❌',
};

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function measurementCell(m: Measurement): string {
  if (m.value === undefined) return m.countedAs ? `no data (counted as ${m.countedAs})` : 'no data';
  return formatValue(m.value);
}

function seriesCell(m: Measurement): string {
  if (m.series.length <= 1) return '';
  return m.series
    .map((s) => {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      return `{${labels}} ${formatValue(s.value)}`;
    })
    .join('; ');
}

/** A Mermaid xychart: the measured values as one line, the threshold as another. */
export function metricChart(metric: MetricResult): string[] {
  const points = metric.measurements.filter((m) => m.value !== undefined && Number.isFinite(m.value));
  if (points.length === 0) return [];
  const values = points.map((m) => m.value as number);
  const low = Math.min(0, metric.threshold, ...values);
  const high = Math.max(metric.threshold, ...values);
  const top = high === low ? low + 1 : high + (high - low) * 0.1;
  const number = (v: number): string => String(Number(v.toPrecision(6)));
  const title = `${metric.name}: ${metric.success}`.replace(/"/g, "'");
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${title}"`,
    `  x-axis "seconds" [${points.map((m) => `"${(m.atMs / 1000).toFixed(0)}"`).join(', ')}]`,
    `  y-axis "result" ${number(low)} --> ${number(top)}`,
    `  line [${values.map(number).join(', ')}]`,
    `  line [${values.map(() => number(metric.threshold)).join(', ')}]`,
    '```',
  ];
}

export function renderAnalysisMarkdown(result: AnalysisResult, heading = '###'): string {
  const out: string[] = [
    `${heading} Analysis: ${markdownCell(result.source)} ${result.passed ? '✅ passed' : '❌ failed'}`,
    '',
    `Prometheus: ${result.prometheus}${result.message ? `  \n**Why:** ${markdownCell(result.message)}` : ''}`,
    '',
  ];
  for (const metric of result.metrics) {
    out.push(
      `${heading}# ${ICON[metric.outcome]} ${markdownCell(metric.name)}: ${metric.outcome}`,
      '',
      `${markdownCode(metric.success)} · ${metric.measurements.length} measurements, ${metric.failures} failed ` +
        `(failure-limit ${metric.failureLimit}) · every ${seconds(metric.intervalMs)}`,
      '',
    );
    if (metric.message) out.push(`> ${markdownCell(metric.message)}`, '');
    out.push(`<details><summary>Query</summary>\n\n\`\`\`promql\n${metric.query}\n\`\`\`\n\n</details>`, '');
    if (metric.measurements.length) {
      const withSeries = metric.measurements.some((m) => m.series.length > 1);
      out.push(
        `| # | At | Result | Threshold | Outcome |${withSeries ? ' Series |' : ''}`,
        `|---|---|---|---|---|${withSeries ? '---|' : ''}`,
      );
      metric.measurements.forEach((m, i) => {
        const row = `| ${i + 1} | ${seconds(m.atMs)} | ${measurementCell(m)} | ${markdownCell(metric.success)} | ${m.outcome} |`;
        out.push(withSeries ? `${row} ${markdownCell(seriesCell(m))} |` : row);
      });
      out.push('', ...metricChart(metric), '');
    }
  }
  return out.join('\n');
}

export function renderAnalysisText(result: AnalysisResult): string {
  const lines = [`analysis ${result.source}: ${result.passed ? 'passed' : 'failed'} (${result.prometheus})`];
  if (result.message) lines.push(`  reason: ${result.message}`);
  for (const metric of result.metrics) {
    const values = metric.measurements.map(measurementCell).join(', ');
    lines.push(`  ${metric.name.padEnd(20)} ${metric.outcome.padEnd(12)} ${metric.success}  [${values}]`);
  }
  return lines.join('\n');
}

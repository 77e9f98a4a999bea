// Smoke results as JUnit XML, so any test reporter lists checks and thresholds like tests.
import { describeFailure } from './checks.ts';
import type { SmokeResult } from './types.ts';

function escape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function seconds(ms: number | undefined): string {
  return ((ms ?? 0) / 1000).toFixed(3);
}

export function toJUnitXml(result: SmokeResult, suiteName = 'smoke-test'): string {
  const cases: string[] = [];
  let failures = 0;
  let skippedCount = 0;
  if (result.wait) {
    const w = result.wait;
    const body = w.ready
      ? ''
      : `\n      <failure message="${escape(`not ready: ${w.lastProblem ?? ''}`)}" type="wait">${escape(
          `${w.url} did not answer 2xx within ${seconds(w.elapsedMs)}s after ${w.attempts} attempts: ${w.lastProblem ?? ''}`,
        )}</failure>\n    `;
    if (!w.ready) failures++;
    cases.push(
      `    <testcase classname="${suiteName}.wait" name="wait for ${escape(w.url)}" time="${seconds(w.elapsedMs)}">${body}</testcase>`,
    );
  }
  for (const check of result.checks) {
    let body = '';
    if (check.outcome === 'failed') {
      failures++;
      const detail = [describeFailure(check), check.excerpt ? `response: ${check.excerpt}` : '']
        .filter(Boolean)
        .join('\n');
      body = `\n      <failure message="${escape(describeFailure(check))}" type="assertion">${escape(detail)}</failure>\n    `;
    } else if (check.outcome === 'skipped') {
      skippedCount++;
      body = `\n      <skipped message="${escape(check.error ?? 'skipped')}"/>\n    `;
    }
    cases.push(
      `    <testcase classname="${suiteName}.checks" name="${escape(check.name)}" time="${seconds(check.latencyMs)}">${body}</testcase>`,
    );
  }
  if (result.load) {
    const load = result.load;
    if (load.aborted) {
      failures++;
      cases.push(
        `    <testcase classname="${suiteName}.load" name="load phase" time="${seconds(load.durationMs)}">\n      <failure message="${escape(`stopped early: ${load.abortReason ?? ''}`)}" type="aborted"/>\n    </testcase>`,
      );
    }
    for (const t of load.thresholds) {
      const body = t.passed
        ? ''
        : `\n      <failure message="${escape(`${t.threshold} failed: actual ${t.actual}${t.latency ? 'ms' : ''}`)}" type="threshold"/>\n    `;
      if (!t.passed) failures++;
      cases.push(
        `    <testcase classname="${suiteName}.load" name="${escape(t.threshold)}${t.implicit ? ' (implicit)' : ''}" time="0.000">${body}</testcase>`,
      );
    }
  }
  const attrs = `name="${escape(suiteName)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skippedCount}" time="${seconds(result.durationMs)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attrs}>`,
    `  <testsuite ${attrs} timestamp="${result.startedAt}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

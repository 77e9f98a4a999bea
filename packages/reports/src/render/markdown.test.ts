// The gate's Markdown (job summary and pull-request comment) from real tool reports
// (test/fixtures/reports/real): the verdict table, each section, untrusted text defused, and the
// budget met by trimming least important sections first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runGate, type GateReport } from '../gate.ts';
import { parseReportPatterns } from '../patterns.ts';
import { parseThresholds } from '../thresholds.ts';
import { parseUnifiedDiff } from '../diff.ts';
import { markdownCell as cell } from '@adci/common';
import { commentMarker, COMMENT_LIMIT_CHARS, ranges, renderComment, renderMarkdown } from './markdown.ts';

const root = join(import.meta.dirname, '../../../../test/fixtures/reports');

async function gate(reports: string[], thresholds: string, diff?: string): Promise<GateReport> {
  return await runGate({
    reports: parseReportPatterns(reports),
    root,
    thresholds: await parseThresholds(thresholds),
    minChangedLines: 0,
    ignoreMalformed: false,
    ...(diff === undefined ? {} : { changedLines: parseUnifiedDiff(diff) }),
  });
}

const python = (): Promise<GateReport> =>
  gate(
    ['real/pytest-junit.xml', 'real/coverage.xml', 'real/bandit.json', 'real/flake8.txt'],
    'tests.failed: 0\ncoverage.line: 50',
    '+++ b/shop/pricing.py\n@@ -1 +1,30 @@\n',
  );

test('markdownCell (from @adci/common) and ranges: a table cell on one line, pipes and < escaped; line numbers as ranges', () => {
  assert.equal(cell('a|b\r\nc <script>'), 'a\\|b c &lt;script>');
  assert.equal(cell(42), '42');
  assert.equal(ranges([3, 4, 5, 9, 11, 12]), '3-5, 9, 11-12');
  assert.equal(ranges([]), '');
});

test('the summary of a failing Python run: verdict table, tests with details, coverage, findings', async () => {
  const md = renderMarkdown(await python());
  const lines = md.split('\n');
  assert.equal(lines[0], '## ❌ Quality gate: failed (1 of 3 checks)');
  assert.ok(lines.includes('| ❌ | `tests.failed` | &lt;= 0 | 2 |  |'), md);
  assert.ok(lines.includes('| ✅ | `coverage.line` | >= 50% | 55.17% |  |'));
  assert.match(md, /Reports read: `real\/pytest-junit\.xml` \(junit\), `real\/coverage\.xml` \(cobertura\)/);
  assert.match(md, /### Tests\n\n\| Tests \| Passed \| Failed \| Errored \| Skipped \| Flaky \| Duration \|/);
  // Failure text in <details>, with the test id and place in HTML (Markdown is not rendered in <summary>).
  assert.match(
    md,
    /<details><summary>❌ <code>tests\.test_pricing::test_total_is_wrong<\/code> \(<code>tests\/test_pricing\.py:21<\/code>\): /,
  );
  assert.match(md, /💥 <code>tests\.test_pricing::test_with_broken_fixture<\/code>/);
  assert.match(md, /\| 55\.17% \(\d+\/\d+\) \| .* \| 93\.33% \(14\/15\) \|/);
  assert.match(md, /\*\*Changed lines not covered\*\*\n\n- `shop\/pricing\.py`: 28\n/);
  assert.match(md, /\| bandit \| \d+ \| \d+ \| \d+ \| \d+ \| \d+ \| \d+ \| \d+ \|/);
  assert.match(md, /\| \*\*all\*\* \|/);
  assert.match(md, /- ❌ 🆕 \*\*bandit\*\* `B324 hashlib` \(high\) `shop\/pricing\.py:23`: Use of weak MD5 hash/);
  assert.match(md, /\*\*Slowest tests\*\*/);
  assert.match(md, /Pull request changes: 30 line\(s\) in 1 file\(s\)\./);
});

test('a passing gate and a gate with nothing to check say so', async () => {
  const passing = renderMarkdown(await gate(['real/vitest-junit.xml', 'real/coverage.xml'], 'coverage.line: 50'), {
    title: 'Gate (web)',
  });
  assert.match(passing, /^## ✅ Gate \(web\): passed\n/);
  const report = await gate(['real/coverage.xml'], 'coverage.line: 50');
  report.conditions = [];
  assert.match(renderMarkdown(report), /_No thresholds configured: nothing is gated\._/);
});

test('report text cannot ping, cross-reference, break a table or inject HTML', async () => {
  const report = await python();
  const finding = report.findings.list[0];
  assert.ok(finding);
  finding.message = 'ask @acme/security about #12 | <img src=x>';
  const failure = report.tests.failures[0];
  assert.ok(failure);
  failure.message = '<b>@oncall</b> see #7';
  const md = renderMarkdown(report);
  assert.match(md, /ask @\u200bacme\/security about #\u200b12 \\\| &lt;img src=x>/);
  assert.match(md, /: &lt;b&gt;@\u200boncall&lt;\/b&gt; see #\u200b7<\/summary>/);
  assert.doesNotMatch(md, /<img/);
});

test('a small budget trims the least important sections first and says where the rest is', async () => {
  const report = await gate(['real/*', 'handmade/*.json'], 'tests.failed: 0\nfindings.error: 0');
  const full = renderMarkdown(report);
  assert.ok(Buffer.byteLength(full) > 20_000, `${Buffer.byteLength(full)} bytes in full`);
  for (const limit of [20_000, 8_000, 3_000]) {
    const small = renderMarkdown(report, { limit, fullReportHint: 'quality-gate.json' });
    assert.ok(Buffer.byteLength(small) <= limit, `${limit}: ${Buffer.byteLength(small)} bytes`);
    assert.match(small, /^## ❌ Quality gate: failed/, 'the verdict is always kept');
    assert.match(small, /`findings\.error`/);
    assert.match(small, /full result is in quality-gate\.json\._\n$/);
  }
  assert.match(full, /\*\*Slowest tests\*\*/);
  assert.doesNotMatch(full, /left out/, 'nothing is cut within the default budget');
  assert.doesNotMatch(renderMarkdown(report, { limit: 3_000 }), /Slowest tests/, 'slowest tests go first');
  // Below what the verdict alone needs: cut at a line and said so.
  const tiny = renderMarkdown(report, { limit: 300 });
  assert.ok(Buffer.byteLength(tiny) <= 300);
  assert.match(tiny, /_…cut to fit GitHub's size limit\._\n$/);
});

test('the comment: a marker to find it again, a link to the run, at most 65,536 characters', async () => {
  assert.equal(commentMarker(), '<!-- adci:quality-gate id=default -->');
  assert.equal(commentMarker('web app/π'), '<!-- adci:quality-gate id=web_app__ -->', 'no way out of the HTML comment');
  const report = await gate(['real/*', 'handmade/*.json'], 'tests.failed: 0');
  const comment = renderComment(report, { id: 'api', runUrl: 'https://github.com/o/r/actions/runs/1' });
  assert.ok(comment.startsWith('<!-- adci:quality-gate id=api -->\n## ❌ Quality gate: failed'));
  assert.ok(comment.endsWith('\n\n[Full report in the workflow run](https://github.com/o/r/actions/runs/1)\n'));
  assert.ok(comment.length <= COMMENT_LIMIT_CHARS);
});

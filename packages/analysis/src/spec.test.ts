// Unit tests of spec.ts: the analysis file's defaults and placeholders, and every mistake an
// InputError naming the input, the file and the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '@adci/common';
import { parseAnalysisDocument } from './index.ts';

const parse = (text: string) => parseAnalysisDocument(text, 'post-promotion-analysis', 'deploy/analysis.yml');

test('the analysis file: defaults and placeholders', () => {
  const doc = parse(`prometheus: http://prometheus.monitoring:9090
metrics:
  - name: error-rate
    query: sum(rate(http_requests_total{version="{{ version }}",code=~"5.."}[1m]))
    success: result < 0.01
    interval: 10s
    count: 6
    failure-limit: 1
  - name: bid-p99
    query: histogram_quantile(0.99, sum by (le) (rate(x_bucket{namespace="{{ namespace }}"}[1m])))
    success: result < 0.05
    inconclusive: fail
`);
  assert.equal(doc.prometheus, 'http://prometheus.monitoring:9090');
  assert.equal(doc.metrics.length, 2);
  assert.deepEqual(
    doc.metrics.map((m) => [m.name, m.intervalMs, m.count, m.failureLimit, m.inconclusive, m.line]),
    [
      ['error-rate', 10_000, 6, 1, 'wait', 3],
      ['bid-p99', 10_000, 1, 0, 'fail', 9],
    ],
  );
  assert.equal(doc.source, 'post-promotion-analysis (deploy/analysis.yml)');
});
test('the analysis file: every mistake is an input error with file and line', () => {
  const cases: [string, RegExp][] = [
    [
      'metrics:\n  - name: a\n    query: up\n    sucess: result < 1\n',
      /deploy\/analysis\.yml:4: metrics\[0\]\.sucess: unknown key 'sucess'/,
    ],
    [
      'metrics:\n  - name: a\n    query: up\n    success: result lt 1\n',
      /analysis\.yml:4: metrics\[0\]\.success: 'result lt 1' is not a comparison/,
    ],
    [
      'metrics:\n  - name: a\n    query: up{v="{{ versoin }}"}\n    success: result < 1\n',
      /analysis\.yml:3: .*unknown placeholder \{\{ versoin \}\}/,
    ],
    ['metrics:\n  - name: a\n    query: up\n', /analysis\.yml:2: metrics\[0\]: is missing 'success'/],
    [
      'metrics:\n  - name: a\n    query: up\n    success: result < 1\n    count: 2\n    failure-limit: 2\n',
      /analysis\.yml:6: .*tolerates every one/,
    ],
    [
      'metrics:\n  - name: a\n    query: up\n    success: result < 1\n    interval: soon\n',
      /analysis\.yml:5: .*'soon' is not a valid duration/,
    ],
    [
      'metrics:\n  - name: a\n    query: up\n    success: result < 1\n    inconclusive: maybe\n',
      /analysis\.yml:5: .*must be one of fail, pass, wait/,
    ],
    [
      'prometheus: localhost:9090\nmetrics: []\n',
      /analysis\.yml:1: prometheus: 'localhost:9090' is not an http\(s\) URL/,
    ],
    ['metrics: []\n', /analysis\.yml:1: metrics: must be a non-empty list/],
    ['promethus: http://x\n', /analysis\.yml:1: promethus: unknown key/],
    ['metrics: [a, \n', /deploy\/analysis\.yml: line \d+, column \d+/],
    ['', /deploy\/analysis\.yml: is empty/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(
      () => parse(text),
      (error: unknown) => {
        assert.ok(error instanceof InputError, `${text}: not an InputError`);
        assert.match(error.message, /^Input 'post-promotion-analysis': /);
        assert.match(error.message, pattern);
        return true;
      },
    );
  }
});

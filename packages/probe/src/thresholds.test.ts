import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canJudgeEarly, evaluateThresholds, parseThreshold, type MetricSource } from './thresholds.ts';

const source: MetricSource = {
  percentile: (p) => (p >= 99 ? 1200 : p >= 95 ? 250 : 40),
  avg: 60,
  min: 1,
  max: 2100,
  errorRate: 0.02,
  rps: 190,
  dropped: 3,
  droppedRate: 0.001,
};

test('k6-style thresholds parse with units and evaluate', () => {
  const thresholds = [
    'p(95)<300ms',
    'p(99)<1s',
    'error_rate<0.01',
    'rps>=180',
    'max<=2.1s',
    'dropped==3',
    'error_rate<5%',
  ].map((t) => parseThreshold(t, 'thresholds'));
  assert.deepEqual(
    evaluateThresholds(thresholds, source).map((r) => [r.threshold, r.passed, r.actual]),
    [
      ['p(95)<300ms', true, 250],
      ['p(99)<1s', false, 1200],
      ['error_rate<0.01', false, 0.02],
      ['rps>=180', true, 190],
      ['max<=2.1s', true, 2100],
      ['dropped==3', true, 3],
      ['error_rate<5%', true, 0.02],
    ],
  );
});

test('unknown metrics and malformed expressions are input errors, never silent passes', () => {
  assert.throws(() => parseThreshold('p95<300', 'thresholds'), /unknown metric 'p95'.*did you mean p\(95\)/);
  assert.throws(() => parseThreshold('latency<300ms', 'thresholds'), /unknown metric 'latency'/);
  assert.throws(() => parseThreshold('p(95) 300ms', 'thresholds'), /is not a threshold/);
  assert.throws(() => parseThreshold('p(101)<1s', 'thresholds'), /percentile must be in/);
  assert.throws(() => parseThreshold('p(95)<fast', 'thresholds'), /not a valid duration/);
  assert.throws(() => parseThreshold('rps>lots', 'thresholds'), /'lots' is not a number/);
});

test('only upper bounds on non-rate metrics are judged before the end', () => {
  assert.equal(canJudgeEarly(parseThreshold('p(99)<1s', 't')), true);
  assert.equal(canJudgeEarly(parseThreshold('error_rate<0.01', 't')), true);
  assert.equal(canJudgeEarly(parseThreshold('rps>=100', 't')), false);
  assert.equal(canJudgeEarly(parseThreshold('rps<100', 't')), false);
});

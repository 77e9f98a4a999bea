// The latency histogram: percentiles to 3 significant digits and never past the largest value,
// exact sums and extremes, and the compressed encoding other processes exchange (layout checked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as hdr from 'hdr-histogram-js';
import { LatencyHistogram } from './histogram.ts';

test('percentiles within 0.1%, min, max and average exact, p99 never past max', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.recordMs(i);
  assert.equal(h.count, 1000);
  for (const [p, want] of [
    [50, 500],
    [90, 900],
    [99, 990],
  ] as const) {
    const got = h.percentileMs(p);
    assert.ok(Math.abs(got - want) / want <= 0.001, `p${p}: ${got}`);
  }
  assert.equal(h.maxMs, 1000);
  assert.equal(h.minMs, 1);
  assert.equal(h.avgMs, 500.5);
  const s = h.summary();
  assert.ok(s.p99 <= s.max && s.p50 <= s.p90 && s.p90 <= s.p95);
  const one = new LatencyHistogram();
  one.recordMs(123.4567);
  assert.deepEqual(
    [one.percentileMs(99), one.maxMs],
    [123.457, 123.457],
    'a single value: the bucket bound is clamped to it',
  );
  h.destroy();
  one.destroy();
});

test('an empty histogram answers 0; values are clamped to 1 µs..1 h; counts record at once', () => {
  const h = new LatencyHistogram();
  assert.deepEqual(h.summary(), { p50: 0, p90: 0, p95: 0, p99: 0, max: 0, min: 0, avg: 0 });
  h.recordMs(0);
  h.recordMs(10_000_000);
  assert.equal(h.minMs, 0.001);
  assert.equal(h.maxMs, 3_600_000);
  h.recordMs(5, 98);
  assert.equal(h.count, 100);
  assert.ok(Math.abs(h.percentileMs(50) - 5) <= 0.005, `p50 ${h.percentileMs(50)}`);
  h.reset();
  assert.equal(h.count, 0);
  assert.equal(h.sumMicros, 0);
  h.destroy();
});

test('add, and the compressed encoding with exact extremes, give the same figures as one histogram', () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  const all = new LatencyHistogram();
  for (let i = 0; i < 500; i++) {
    const ms = 1 + ((i * 37) % 400) / 3;
    (i % 2 ? a : b).recordMs(ms);
    all.recordMs(ms);
  }
  const sum = new LatencyHistogram();
  sum.add(a);
  sum.add(b);
  assert.deepEqual(sum.summary(), all.summary());
  const decoded = new LatencyHistogram();
  for (const part of [a, b]) {
    assert.equal(decoded.addCompressed(part.encodeCompressed()), part.count);
    decoded.addExact({ count: part.count, sum: part.sumMicros, min: part.minMicros, max: part.maxMicros });
  }
  assert.deepEqual(decoded.summary(), all.summary());
  decoded.addExact({ count: 0, sum: 0, min: 0, max: 0 });
  assert.equal(decoded.minMicros, all.minMicros, 'an empty part changes nothing');
  for (const h of [a, b, all, sum, decoded]) h.destroy();
});

test('a histogram of another layout is refused, saying which', () => {
  const other = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 2,
  });
  other.recordValue(1000);
  const h = new LatencyHistogram();
  assert.throws(
    () => h.addCompressed(hdr.encodeIntoCompressedBase64(other)),
    /recorded with another layout \(2 significant digits, values 1\.\.3600000000\); adci writes 3 digits/,
  );
  assert.equal(h.count, 0);
  other.destroy();
  h.destroy();
});

// Latency recording in an HDR histogram at microsecond resolution: constant memory whatever the
// number of samples, 3 significant digits on every percentile.
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from './types.ts';

/** One hour in microseconds: anything longer is clamped (and is a timeout anyway). */
const HIGHEST_US = 3_600_000_000;

export class LatencyHistogram {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
    autoResize: false,
  });
  private sumUs = 0;

  recordMs(latencyMs: number, count = 1): void {
    const us = Math.min(HIGHEST_US, Math.max(1, Math.round(latencyMs * 1000)));
    if (count === 1) this.histogram.recordValue(us);
    else this.histogram.recordValueWithCount(us, count);
    this.sumUs += us * count;
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Milliseconds at a percentile in (0, 100]; 0 when empty. */
  percentileMs(percentile: number): number {
    if (this.count === 0) return 0;
    return this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  get maxMs(): number {
    return this.count === 0 ? 0 : this.histogram.maxValue / 1000;
  }

  get minMs(): number {
    return this.count === 0 ? 0 : this.histogram.minNonZeroValue / 1000;
  }

  get avgMs(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count / 1000;
  }

  summary(): LatencySummary {
    const round = (ms: number): number => Math.round(ms * 1000) / 1000;
    return {
      p50: round(this.percentileMs(50)),
      p90: round(this.percentileMs(90)),
      p95: round(this.percentileMs(95)),
      p99: round(this.percentileMs(99)),
      max: round(this.maxMs),
      min: round(this.minMs),
      avg: round(this.avgMs),
    };
  }

  /** Adds another histogram's samples to this one. */
  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
    this.sumUs += other.sumUs;
  }

  reset(): void {
    this.histogram.reset();
    this.sumUs = 0;
  }

  destroy(): void {
    this.histogram.destroy();
  }
}

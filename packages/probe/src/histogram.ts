// Latency recording in an HDR histogram at microsecond resolution: constant memory whatever the
// number of samples, 3 significant digits on every percentile.
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from './types.ts';

/** One hour in microseconds: anything longer is clamped (and is a timeout anyway). */
const HIGHEST_US = 3_600_000_000;
/** The layout every LatencyHistogram shares, so histograms from several processes add exactly. */
export const HISTOGRAM_LAYOUT = { lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, significantDigits: 3 };

export class LatencyHistogram {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
    autoResize: false,
  });
  private sumUs = 0;
  /**
   * Exact extremes of the histograms added with addCompressed (their encoding only has buckets,
   * whose bounds are not the values recorded); undefined until one is added.
   */
  private exactMinUs: number | undefined;
  private exactMaxUs: number | undefined;

  recordMs(latencyMs: number, count = 1): void {
    const us = Math.min(HIGHEST_US, Math.max(1, Math.round(latencyMs * 1000)));
    if (count === 1) this.histogram.recordValue(us);
    else this.histogram.recordValueWithCount(us, count);
    this.sumUs += us * count;
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /**
   * Milliseconds at a percentile in (0, 100]; 0 when empty. HdrHistogram answers with the upper
   * bound of the value's bucket, which may lie past the largest value recorded: clamped to the
   * exact extremes, so p99 <= max always holds.
   */
  percentileMs(percentile: number): number {
    if (this.count === 0) return 0;
    const us = Math.min(this.maxMicros, Math.max(this.minMicros, this.histogram.getValueAtPercentile(percentile)));
    return us / 1000;
  }

  get maxMs(): number {
    return this.maxMicros / 1000;
  }

  get minMs(): number {
    return this.minMicros / 1000;
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

  /** Sum of the recorded values in microseconds (the histogram keeps no exact sum). */
  get sumMicros(): number {
    return this.sumUs;
  }

  /** The exact largest and smallest recorded values in microseconds; 0 when empty. */
  get maxMicros(): number {
    if (this.count === 0) return 0;
    return this.exactMaxUs ?? this.histogram.maxValue;
  }

  get minMicros(): number {
    if (this.count === 0) return 0;
    return this.exactMinUs ?? this.histogram.minNonZeroValue;
  }

  /** The histogram in HdrHistogram's compressed V2 encoding, base64 (an interval log line's last field). */
  encodeCompressed(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }

  /**
   * Adds the counts of a compressed base64 histogram (as written by encodeCompressed or any
   * HdrHistogram) to this one. Throws unless it has this histogram's layout, since adding a
   * histogram of another precision would not be exact. Returns the number of values it held.
   * The exact sum, minimum and maximum are not in the encoding: give them to addExact. A histogram
   * filled this way is for reading, not for recording more values.
   */
  addCompressed(base64: string): number {
    const decoded = hdr.decodeFromCompressedBase64(base64, 32);
    try {
      const layout = decoded as unknown as { lowestDiscernibleValue: number; highestTrackableValue: number };
      if (
        decoded.numberOfSignificantValueDigits !== HISTOGRAM_LAYOUT.significantDigits ||
        layout.lowestDiscernibleValue !== HISTOGRAM_LAYOUT.lowestDiscernibleValue ||
        layout.highestTrackableValue !== HISTOGRAM_LAYOUT.highestTrackableValue
      ) {
        throw new Error(
          `recorded with another layout (${decoded.numberOfSignificantValueDigits} significant digits, values ` +
            `${layout.lowestDiscernibleValue}..${layout.highestTrackableValue}); adci writes 3 digits, 1..${HIGHEST_US} µs`,
        );
      }
      this.histogram.add(decoded);
      return decoded.totalCount;
    } finally {
      decoded.destroy();
    }
  }

  /** The exact sum, minimum and maximum of values added with addCompressed. */
  addExact(values: { count: number; sum: number; min: number; max: number }): void {
    if (values.count === 0) return;
    this.sumUs += values.sum;
    this.exactMinUs = Math.min(this.exactMinUs ?? Infinity, values.min);
    this.exactMaxUs = Math.max(this.exactMaxUs ?? 0, values.max);
  }

  /** Adds another histogram's samples to this one. */
  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
    this.sumUs += other.sumUs;
  }

  reset(): void {
    this.histogram.reset();
    this.sumUs = 0;
    this.exactMinUs = undefined;
    this.exactMaxUs = undefined;
  }

  destroy(): void {
    this.histogram.destroy();
  }
}

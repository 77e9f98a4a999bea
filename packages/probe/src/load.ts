// The load phase. The open model sends at a constant arrival rate and times each request from
// its *scheduled* send time, so a stall shows up in the percentiles instead of being skipped
// (coordinated omission; wrk2, k6's arrival-rate executors). Arrivals that find the in-flight cap
// reached are dropped and counted, never queued. The closed model keeps N connections busy.
import { silentLogger, type Clock, type Logger, type TemplateLookup } from '@adci/common';
import { LatencyHistogram } from './histogram.ts';
import type { HttpClient, LoadCallback, LoadRequest, LoadSender, TransportErrorKind } from './http.ts';
import { RawHttpConnection, RawHttpPool, encodeRawRequest, type RawRequest } from './raw-http.ts';
import { buildRequest, loadRequestOf } from './request.ts';
import { statusMatches } from './expect.ts';
import { canJudgeEarly, evaluateThresholds, type MetricSource } from './thresholds.ts';
import { arrivalSchedule, peakRate } from './schedule.ts';
import { createFlowRunner, type FlowRecorder } from './flows.ts';
import type { LoadResult, LoadSpec, StatusExpectation, TimelinePoint } from './types.ts';

export interface LoadTarget {
  baseUrl: URL;
  /** Headers sent with every request (a request's own headers win). */
  headers: Record<string, string>;
  timeoutMs: number;
  /** Captured variables and `env.*` values for placeholders. */
  lookup: TemplateLookup;
}

export interface LoadPorts {
  client: HttpClient;
  clock: Clock;
  logger?: Logger;
  signal?: AbortSignal;
  /** Called at each timeline bucket, e.g. for progress lines. */
  onProgress?: (point: TimelinePoint) => void;
  /** Called with every latency recorded (`count` at once for requests abandoned in flight). */
  onSample?: (latencyMs: number, count: number) => void;
  /** Called at the end with the histogram of every latency recorded, before it is released. */
  onHistogram?: (histogram: LatencyHistogram) => void;
}

interface PreparedRequest {
  request: LoadRequest;
  success: (status: number) => boolean;
  /** Its bytes for raw-http.ts, when the closed model sends it that way. */
  raw?: RawRequest;
}

/**
 * Connections the open model opens before its schedule starts: this many seconds of arrivals at
 * the peak rate, within max-in-flight (so 1,000 at 2,000/s by default, 50 at 50/s). A service
 * that stops answering for up to this long then finds every request of the stall already on the
 * wire when it resumes, as a client sending each request at its intended time would have it;
 * requests past that wait for a connection (and are counted), and the pool grows as the service
 * answers (RawHttpPool).
 */
const PREOPEN_SECONDS = 1;

/** Most timeline points kept: the bucket widens for long runs so memory stays bounded. */
const MAX_TIMELINE_POINTS = 600;

const defaultSuccess = (status: number): boolean => status >= 200 && status < 400;

/**
 * Encodes the requests for raw-http.ts when all of them can go that way to one `http:` origin;
 * returns false (undici is used) otherwise. Requests are filled once in `prepare`, so their bytes
 * never change during the phase.
 */
function encodeAllRaw(requests: PreparedRequest[]): boolean {
  const raws = requests.map((r) => encodeRawRequest(r.request));
  const first = raws[0];
  if (!first || raws.some((raw) => !raw || raw.host !== first.host || raw.port !== first.port)) return false;
  requests.forEach((r, i) => (r.raw = raws[i]));
  return true;
}

function prepare(spec: LoadSpec, target: LoadTarget): PreparedRequest[] {
  return spec.requests.map((r) => {
    const built = buildRequest(r, target.baseUrl, target.headers, target.lookup);
    const expected: StatusExpectation | undefined = r.status;
    return {
      request: loadRequestOf(built),
      success: expected ? (s: number) => statusMatches(s, expected) : defaultSuccess,
    };
  });
}

/** A request in flight: its timeline bucket and the moment its latency counts from. */
interface InFlight {
  bucket: number;
  startedAt: number;
}

/** Requests scheduled within one timeline bucket; emitted once all of them have answered. */
interface Bucket {
  histogram: LatencyHistogram;
  requests: number;
  errors: number;
  pending: number;
}

/**
 * Counters and histograms of one load phase. The timeline groups requests by when they were
 * *scheduled*, so a stall shows at the second it happened rather than when it ended. A bucket is
 * emitted when its time is over and its last request has answered; only buckets with requests
 * still in flight stay open (a request timeout's worth), so memory stays bounded.
 */
class LoadStats {
  readonly total = new LatencyHistogram();
  /** Scratch histogram for `liveSource`. */
  private readonly live = new LatencyHistogram();
  sent = 0;
  completed = 0;
  dropped = 0;
  errors = 0;
  readonly statusCounts: Record<string, number> = {};
  readonly errorKinds: Record<string, number> = {};
  readonly timeline: TimelinePoint[] = [];
  /** Every request sent and not yet answered, with its own start (scheduled or sent). */
  readonly inFlight = new Set<InFlight>();
  private readonly buckets = new Map<number, Bucket>();
  private readonly spare: LatencyHistogram[] = [];
  /** Index of the next bucket to emit. */
  private nextEmit = 0;
  private readonly bucketMs: number;

  private readonly onSample: ((latencyMs: number, count: number) => void) | undefined;

  constructor(bucketMs: number, onSample?: (latencyMs: number, count: number) => void) {
    this.bucketMs = bucketMs;
    this.onSample = onSample;
  }

  /** The bucket most recently looked up: nearly every request of a second lands in the same one. */
  private lastIndex = -1;
  private lastBucket: Bucket | undefined;

  private bucket(index: number): Bucket {
    if (index === this.lastIndex && this.lastBucket) return this.lastBucket;
    let bucket = this.buckets.get(index);
    if (!bucket) {
      bucket = { histogram: this.spare.pop() ?? new LatencyHistogram(), requests: 0, errors: 0, pending: 0 };
      this.buckets.set(index, bucket);
    }
    this.lastIndex = index;
    this.lastBucket = bucket;
    return bucket;
  }

  /** Returns the bucket index of a request sent (or due) at `offsetMs` after the start. */
  sending(offsetMs: number): number {
    const index = Math.max(this.nextEmit, Math.floor(offsetMs / this.bucketMs));
    this.bucket(index).pending++;
    this.sent++;
    return index;
  }

  record(
    index: number,
    latencyMs: number,
    status: number,
    kind: TransportErrorKind | undefined,
    ok: boolean,
    failure = 'unexpected-status',
  ): void {
    const bucket = this.bucket(index);
    bucket.pending--;
    bucket.requests++;
    bucket.histogram.recordMs(latencyMs);
    this.completed++;
    this.total.recordMs(latencyMs);
    this.onSample?.(latencyMs, 1);
    if (kind !== undefined) {
      this.errors++;
      bucket.errors++;
      this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + 1;
      return;
    }
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    if (!ok) {
      this.errors++;
      bucket.errors++;
      this.errorKinds[failure] = (this.errorKinds[failure] ?? 0) + 1;
    }
  }

  /** Emits, in order, every bucket whose time is over at `elapsedMs` and has nothing in flight. */
  emitReady(elapsedMs: number, force = false): TimelinePoint[] {
    const emitted: TimelinePoint[] = [];
    for (;;) {
      const end = (this.nextEmit + 1) * this.bucketMs;
      const bucket = this.buckets.get(this.nextEmit);
      if (!force && (elapsedMs < end || (bucket !== undefined && bucket.pending > 0))) break;
      if (force && bucket === undefined && [...this.buckets.keys()].every((k) => k < this.nextEmit)) break;
      emitted.push(this.emit(this.nextEmit, bucket));
      this.nextEmit++;
    }
    return emitted;
  }

  private emit(index: number, bucket: Bucket | undefined): TimelinePoint {
    const round = (ms: number): number => Math.round(ms * 10) / 10;
    const h = bucket?.histogram;
    const point: TimelinePoint = {
      second: ((index + 1) * this.bucketMs) / 1000,
      requests: bucket?.requests ?? 0,
      errors: bucket?.errors ?? 0,
      p50: h ? round(h.percentileMs(50)) : 0,
      p95: h ? round(h.percentileMs(95)) : 0,
      p99: h ? round(h.percentileMs(99)) : 0,
      max: h ? round(h.maxMs) : 0,
    };
    this.timeline.push(point);
    if (bucket) {
      bucket.histogram.reset();
      this.spare.push(bucket.histogram);
      this.buckets.delete(index);
      if (this.lastBucket === bucket) this.lastBucket = undefined;
    }
    return point;
  }

  /**
   * Records requests abandoned in flight (the phase ended, aborted or was cancelled before they
   * answered) as errors at their own age: from each request's scheduled (open model) or sent
   * (closed model) time to `nowMs`. A request that never answered is never counted as a fast
   * one, and a hung service's percentiles are exact.
   */
  recordUnfinished(nowMs: number): void {
    for (const request of this.inFlight) {
      const ageMs = Math.max(0, nowMs - request.startedAt);
      const bucket = this.bucket(request.bucket);
      bucket.histogram.recordMs(ageMs);
      this.total.recordMs(ageMs);
      this.onSample?.(ageMs, 1);
      bucket.requests++;
      bucket.errors++;
      bucket.pending--;
    }
    this.inFlight.clear();
  }

  /**
   * Metrics for judging thresholds while requests run. Requests still in flight are counted at
   * their age so far, so a service that stops answering breaches a latency threshold now rather
   * than when its requests finally time out.
   */
  liveSource(elapsedMs: number, nowMs: number): MetricSource {
    this.live.reset();
    this.live.add(this.total);
    for (const request of this.inFlight) {
      const ageMs = nowMs - request.startedAt;
      if (ageMs > 0) this.live.recordMs(ageMs);
    }
    return this.source(elapsedMs, 0, this.live);
  }

  source(elapsedMs: number, unfinished = 0, latencies: LatencyHistogram = this.total): MetricSource {
    const judged = this.completed + unfinished;
    return {
      percentile: (p) => latencies.percentileMs(p),
      avg: latencies.avgMs,
      min: latencies.minMs,
      max: latencies.maxMs,
      errorRate: judged === 0 ? 0 : (this.errors + unfinished) / judged,
      rps: elapsedMs <= 0 ? 0 : this.completed / (elapsedMs / 1000),
      dropped: this.dropped,
      droppedRate: this.sent + this.dropped === 0 ? 0 : this.dropped / (this.sent + this.dropped),
    };
  }

  destroy(): void {
    this.total.destroy();
    this.live.destroy();
    for (const bucket of this.buckets.values()) bucket.histogram.destroy();
    for (const histogram of this.spare) histogram.destroy();
  }
}

export async function runLoad(spec: LoadSpec, target: LoadTarget, ports: LoadPorts): Promise<LoadResult> {
  const { client, clock } = ports;
  const logger = ports.logger ?? silentLogger;
  const requests = prepare(spec, target);
  const bucketMs = Math.max(1, Math.ceil(spec.durationMs / 1000 / MAX_TIMELINE_POINTS)) * 1000;
  const stats = new LoadStats(bucketMs, ports.onSample);
  const earlyThresholds = spec.abortOnFail ? spec.thresholds.filter(canJudgeEarly) : [];
  // To a plain `http:` service the load loops use raw-http.ts, a minimal keep-alive client, as
  // autocannon does: undici's per-request overhead would otherwise make the client, not the
  // service, the bottleneck. A deliberate exception to "one HTTP client", limited to these loops;
  // TLS, unusual requests, flows and test doubles stay on the client port.
  const raw = client.allowsRawHttp === true && !spec.flows && encodeAllRaw(requests);
  if (!raw) await client.prepareLoad?.();
  // The open model's connections are opened before the schedule starts (see RawHttpPool).
  let pool: RawHttpPool | undefined;
  let preopened = 0;
  if (raw && spec.model.kind === 'open' && !ports.signal?.aborted) {
    const first = requests[0]?.raw as RawRequest;
    pool = new RawHttpPool(first.host, first.port, spec.model.maxInFlight);
    const wanted = Math.max(1, Math.ceil((peakRate(spec) / (spec.shard?.count ?? 1)) * PREOPEN_SECONDS));
    preopened = await pool.preopen(Math.min(spec.model.maxInFlight, wanted));
    logger.debug(`load phase: ${preopened} of ${Math.min(spec.model.maxInFlight, wanted)} connections opened ahead`);
  }
  let waitedForConnection = 0;
  const start = clock.now();
  const startedAt = new Date().toISOString();
  let inFlight = 0;
  let stopped = false;
  let aborted = false;
  let abortReason: string | undefined;
  let stoppedAt = 0;
  let nextRequest = 0;
  let finished = false;

  const stop = (reason?: string): void => {
    if (stopped) return;
    stopped = true;
    stoppedAt = clock.now() - start;
    if (reason) {
      aborted = true;
      abortReason = reason;
      logger.warning(`load phase stopped early: ${reason}`);
    }
  };
  // Raw connections of the closed model (see below); the load phase owns and closes them.
  const rawConnections: RawHttpConnection[] = [];
  const closeRaw = (): void => {
    for (const connection of rawConnections) connection.close();
    pool?.close();
  };
  const onCancel = (): void => {
    stop('cancelled');
    // Requests in flight are abandoned at once (counted unfinished, as with undici).
    closeRaw();
  };
  ports.signal?.addEventListener('abort', onCancel, { once: true });
  if (ports.signal?.aborted) stop('cancelled');

  const pick = (): PreparedRequest => {
    const prepared = requests[nextRequest] as PreparedRequest;
    nextRequest = (nextRequest + 1) % requests.length;
    return prepared;
  };

  // Sends one request; latency runs from `scheduledAt`, the moment it *should* have been sent.
  const send = (scheduledAt: number, sender: LoadSender | RawHttpPool): void => {
    const prepared = pick();
    const success = prepared.success;
    inFlight++;
    const bucket = stats.sending(scheduledAt - start);
    const entry: InFlight = { bucket, startedAt: scheduledAt };
    stats.inFlight.add(entry);
    const done: LoadCallback = (status, kind) => {
      // A request abandoned at the end of the drain may still call back when the client closes.
      if (finished) return;
      inFlight--;
      stats.inFlight.delete(entry);
      stats.record(bucket, clock.now() - scheduledAt, status, kind, kind === undefined && success(status));
    };
    if (sender instanceof RawHttpPool) {
      if (sender.send(prepared.raw as RawRequest, target.timeoutMs, done)) waitedForConnection++;
    } else sender.fire(prepared.request, target.timeoutMs, done);
  };

  // Virtual users running flows (Artillery scenarios), when the load phase has them.
  const recorder: FlowRecorder = {
    begin(startedAt) {
      const entry: InFlight = { bucket: stats.sending(startedAt - start), startedAt };
      stats.inFlight.add(entry);
      return entry;
    },
    end(token, status, kind, ok, failure) {
      if (finished) return;
      const entry = token as InFlight;
      stats.inFlight.delete(entry);
      stats.record(entry.bucket, clock.now() - entry.startedAt, status, kind, ok, failure);
    },
    error(kind) {
      stats.errors++;
      stats.errorKinds[kind] = (stats.errorKinds[kind] ?? 0) + 1;
    },
    halted: () => finished || aborted,
  };
  const flows = createFlowRunner(spec, target, client, clock, recorder, ports.signal);

  // The monitor emits finished timeline buckets and, every second, judges the thresholds that
  // can be judged early.
  let nextJudgement = 1000;
  const monitor = (elapsed: number): void => {
    for (const point of stats.emitReady(elapsed)) ports.onProgress?.(point);
    if (elapsed < nextJudgement) return;
    nextJudgement = (Math.floor(elapsed / 1000) + 1) * 1000;
    if (earlyThresholds.length > 0 && !stopped && stats.sent > 0) {
      const live = stats.liveSource(elapsed, start + elapsed);
      const breached = evaluateThresholds(earlyThresholds, live).find((t) => !t.passed);
      if (breached) stop(`threshold ${breached.threshold} breached (actual ${formatActual(breached.actual)})`);
    }
  };

  if (spec.model.kind === 'open') {
    const { maxInFlight } = spec.model;
    const schedule = arrivalSchedule(spec);
    const planned = schedule.planned;
    // Each arrival sends one request, or runs one flow as a virtual user (flows.ts).
    const arrive = flows
      ? (scheduledAt: number): void => {
          inFlight++;
          // A flow never rejects by design; should one, it is an error, never an unhandled rejection.
          void flows
            .run(scheduledAt)
            .catch(() => recorder.error('other'))
            .finally(() => inFlight--);
        }
      : (scheduledAt: number): void => send(scheduledAt, pool ?? client);
    // A shard sends every `stride`-th arrival of the whole schedule, from its own offset, so the
    // shards together send exactly the schedule one runner would.
    const stride = spec.shard?.count ?? 1;
    let index = (spec.shard?.index ?? 1) - 1;
    let due = index < planned ? schedule.at(index) : 0;
    while (!stopped && index < planned) {
      const elapsed = clock.now() - start;
      // Catch up on every arrival that is due: after a pause of the event loop they are late,
      // and their latency (from the schedule) says so.
      while (index < planned && due <= elapsed) {
        if (inFlight >= maxInFlight) stats.dropped++;
        else arrive(start + due);
        index += stride;
        if (index < planned) due = schedule.at(index);
      }
      monitor(elapsed);
      if (index >= planned) break;
      const wait = due - (clock.now() - start);
      await clock.sleep(Math.max(0, Math.min(wait, 1000)));
    }
    // The schedule is over at the planned duration even if the last arrival came a little earlier.
    for (let elapsed = clock.now() - start; !stopped && elapsed < spec.durationMs; elapsed = clock.now() - start) {
      monitor(elapsed);
      await clock.sleep(Math.max(0, Math.min(spec.durationMs - elapsed, nextJudgement - elapsed, 1000)));
    }
  } else {
    const { connections } = spec.model;
    // One request in flight per worker, so its state lives in the worker and one callback serves
    // all its requests: nothing is allocated per request here.
    const worker = (fire: (prepared: PreparedRequest, done: LoadCallback) => void): void => {
      // The worker's one request in flight, reused for each request it sends.
      const entry: InFlight = { bucket: 0, startedAt: 0 };
      let success = defaultSuccess;
      const next = (): void => {
        const prepared = pick();
        success = prepared.success;
        inFlight++;
        entry.startedAt = clock.now();
        entry.bucket = stats.sending(entry.startedAt - start);
        stats.inFlight.add(entry);
        fire(prepared, done);
      };
      const done: LoadCallback = (status, kind) => {
        // A request abandoned at the end of the drain may still call back when the client closes.
        if (finished) return;
        inFlight--;
        stats.inFlight.delete(entry);
        const latencyMs = clock.now() - entry.startedAt;
        stats.record(entry.bucket, latencyMs, status, kind, kind === undefined && success(status));
        if (!stopped) next();
      };
      if (!stopped) next();
    };
    const timeoutMs = target.timeoutMs;
    for (let i = 0; i < connections; i++) {
      if (raw) {
        const first = requests[0]?.raw as RawRequest;
        const connection = new RawHttpConnection(first.host, first.port);
        rawConnections.push(connection);
        worker((prepared, done) => connection.send(prepared.raw as RawRequest, timeoutMs, done));
      } else {
        const sender = client.dedicated();
        worker((prepared, done) => sender.fire(prepared.request, timeoutMs, done));
      }
    }
    while (!stopped) {
      const elapsed = clock.now() - start;
      if (elapsed >= spec.durationMs) break;
      monitor(elapsed);
      await clock.sleep(Math.max(1, Math.min(nextJudgement, spec.durationMs) - elapsed));
    }
  }
  stop();
  ports.signal?.removeEventListener('abort', onCancel);

  // Let requests in flight finish (or time out), then close the last bucket. A cancellation
  // ends the wait at once: the runner's SIGKILL follows soon after.
  // Virtual users finish their flows, pauses included (as Artillery lets them).
  const drainUntil =
    clock.now() + (aborted ? Math.min(1000, target.timeoutMs) : target.timeoutMs + 1000 + (flows?.thinkMs ?? 0));
  while (inFlight > 0 && clock.now() < drainUntil && !ports.signal?.aborted) {
    await clock.sleep(5);
    for (const point of stats.emitReady(Math.min(clock.now() - start, stoppedAt))) ports.onProgress?.(point);
  }
  // With flows, `inFlight` counts virtual users; the requests abandoned are those in `stats.inFlight`.
  const unfinished = flows ? stats.inFlight.size : inFlight;
  finished = true;
  closeRaw();
  if (unfinished > 0) {
    stats.errorKinds.unfinished = unfinished;
    stats.recordUnfinished(clock.now());
  }
  for (const point of stats.emitReady(stoppedAt, true)) ports.onProgress?.(point);

  const source = stats.source(stoppedAt, unfinished);
  const thresholds = evaluateThresholds(spec.thresholds, source);
  const result: LoadResult = {
    model: spec.model.kind,
    plannedDurationMs: spec.durationMs,
    durationMs: Math.round(stoppedAt),
    startedAt,
    aborted,
    sent: stats.sent,
    completed: stats.completed,
    dropped: stats.dropped,
    errors: stats.errors + unfinished,
    errorRate: round4(source.errorRate),
    rps: round4(source.rps),
    sentRate: round4(stoppedAt > 0 ? stats.sent / (stoppedAt / 1000) : 0),
    statusCounts: stats.statusCounts,
    errorKinds: stats.errorKinds,
    latency: stats.total.summary(),
    timeline: stats.timeline,
    timelineBucketSeconds: bucketMs / 1000,
    thresholds,
    passed: !aborted && thresholds.every((t) => t.passed),
  };
  if (spec.model.kind === 'open') {
    result.requestedRate = round4(spec.model.ratePerSecond / (spec.shard?.count ?? 1));
    result.maxInFlight = spec.model.maxInFlight;
    if (pool) {
      result.preopenedConnections = preopened;
      result.openedConnections = pool.size;
      result.waitedForConnection = waitedForConnection;
    }
  } else result.connections = spec.model.connections;
  if (abortReason) result.abortReason = abortReason;
  if (spec.flows) {
    result.scenarios = spec.flows.length;
    result.phases = spec.phases?.length ?? 1;
  }
  ports.onHistogram?.(stats.total);
  stats.destroy();
  return result;
}

function round4(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

function formatActual(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

// The engine's vocabulary: what a checks file says (specs) and what a run found (results).
// Plain data only, so the CLI can print it as JSON and blue-green-deploy can embed it.

/** One HTTP request as written in a checks file, before placeholders are filled. */
export interface RequestSpec {
  method: string;
  /** A path joined to the base URL, or an absolute URL; exactly one is set. */
  path?: string;
  url?: string;
  headers: Record<string, string>;
  /** Raw body text, or a JSON value sent as application/json; at most one is set. */
  body?: string;
  json?: unknown;
}

/** Expected status: listed codes and classes such as `2xx`. */
export interface StatusExpectation {
  codes: number[];
  classes: number[];
  /** As the user wrote it, for messages. */
  text: string;
}

/** A value matcher: equality, a regular expression, a JSON type, or existence. */
export type ValueMatcher =
  | { kind: 'equals'; value: unknown }
  | { kind: 'regex'; regex: RegExp }
  | { kind: 'type'; type: JsonType }
  | { kind: 'exists'; exists: boolean };

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'null';

export interface Expectation {
  status?: StatusExpectation;
  headers: { name: string; matcher: ValueMatcher }[];
  bodyContains: string[];
  /** Key is a JSONPath (`$.a.b`) or a JSON Pointer (`/a/b`). */
  json: { path: string; matcher: ValueMatcher }[];
  maxLatencyMs?: number;
}

export interface CheckSpec extends RequestSpec {
  name: string;
  expect: Expectation;
  /** Variable name -> JSONPath, JSON Pointer or `header:Name` read from the response. */
  capture: Record<string, string>;
}

export interface LoadRequestSpec extends RequestSpec {
  /** Statuses counted as success; default is any status below 400. */
  status?: StatusExpectation;
}

export type LoadModel =
  { kind: 'open'; ratePerSecond: number; maxInFlight: number } | { kind: 'closed'; connections: number };

export type ThresholdMetric =
  | { kind: 'percentile'; percentile: number }
  | { kind: 'avg' | 'min' | 'max' | 'med' }
  | { kind: 'error_rate' | 'rps' | 'dropped' | 'dropped_rate' };

export interface Threshold {
  /** As written, e.g. `p(95)<300ms`. */
  text: string;
  metric: ThresholdMetric;
  operator: '<' | '<=' | '>' | '>=' | '==';
  /** Milliseconds for latency metrics, a plain number otherwise. */
  value: number;
  /** Added by adci, not written by the user: the error rate of a load phase whose thresholds do not name it. */
  implicit?: boolean;
}

/**
 * One stretch of an open model's arrival schedule (an Artillery phase): arrivals per second
 * change linearly from `fromRate` to `toRate` over `durationMs`; both are 0 for a pause.
 */
export interface ArrivalPhase {
  name?: string;
  durationMs: number;
  fromRate: number;
  toRate: number;
}

/** What a flow's request must meet beyond its status (artillery-plugin-expect's checks). */
export interface FlowExpectation {
  /** The Content-Type header, exactly; `json` for any JSON type with a body that parses. */
  contentType?: string;
  /** Paths (`a.b`, `items[0].id`) that must exist in the JSON body. */
  hasProperty: string[];
}

/** One step of a flow: a request (with captures and expectations) or a pause (Artillery's `think`). */
export type FlowStep =
  | {
      kind: 'request';
      request: LoadRequestSpec;
      /** Variable name -> JSONPath read from the response for the rest of the flow. */
      capture: Record<string, string>;
      expect: FlowExpectation;
    }
  | { kind: 'think'; ms: number };

/** A scenario: each arrival runs one flow, chosen by weight, as one virtual user. */
export interface LoadFlow {
  name: string;
  weight: number;
  steps: FlowStep[];
}

/** Values given to each virtual user: lists cycled through (variables) or rows of a payload file. */
export interface FlowData {
  /** Variable name -> its values; each virtual user takes one at random. */
  variables: Record<string, string[]>;
  /** Payload rows (field name -> value); each virtual user takes one, in order or at random. */
  rows: Record<string, string>[];
  order: 'sequence' | 'random';
}

export interface LoadSpec {
  model: LoadModel;
  durationMs: number;
  requests: LoadRequestSpec[];
  /**
   * The open model's arrival schedule when it is not one constant rate (Artillery phases);
   * `durationMs` is then the sum of the phases and `model.ratePerSecond` their average rate.
   */
  phases?: ArrivalPhase[];
  /** Each arrival runs one of these flows instead of one request of `requests` (Artillery scenarios). */
  flows?: LoadFlow[];
  /** Per-virtual-user values for the flows' placeholders. */
  data?: FlowData;
  thresholds: Threshold[];
  abortOnFail: boolean;
  /**
   * This runner is shard `index` of `count` (shards.ts): the open model sends arrivals index-1,
   * index-1+count, ... of the whole schedule (`ratePerSecond` stays the whole rate).
   */
  shard?: { index: number; count: number };
}

/** What a checks file (or the `checks` input) holds. */
export interface ChecksDocument {
  checks: CheckSpec[];
  load?: LoadSpec;
}

// ---- results ----

export interface AssertionFailure {
  /** e.g. `status`, `json $.name`, `header content-type`, `max-latency`. */
  assertion: string;
  expected: string;
  actual: string;
}

export interface CheckResult {
  name: string;
  /** `skipped` after a fail-fast stop or a failed wait. */
  outcome: 'passed' | 'failed' | 'skipped';
  method: string;
  /** The URL requested, secrets masked. */
  url: string;
  status?: number;
  latencyMs?: number;
  attempts: number;
  failures: AssertionFailure[];
  /** A transport or template error, when no response could be judged. */
  error?: string;
  /** The start of the response body (bounded, secrets masked) when the check failed. */
  excerpt?: string;
  /** Names of variables captured by this check (values are not reported). */
  captured: string[];
}

export interface WaitResult {
  url: string;
  ready: boolean;
  attempts: number;
  elapsedMs: number;
  /** Why the last attempt was not ready. */
  lastProblem?: string;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  min: number;
  avg: number;
}

export interface TimelinePoint {
  /** Seconds since the load phase started, at the end of the bucket. */
  second: number;
  requests: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface ThresholdResult {
  threshold: string;
  passed: boolean;
  /** The measured value: milliseconds when `latency` is true, a plain number otherwise. */
  actual: number;
  latency: boolean;
  /** The implicit `error_rate<0.01` (no threshold named the error rate). */
  implicit?: boolean;
}

export interface LoadResult {
  model: 'open' | 'closed';
  requestedRate?: number;
  connections?: number;
  maxInFlight?: number;
  /**
   * Open model on raw connections (a plain `http:` service): connections opened before the
   * schedule started, connections open at the end, and requests that found every connection busy
   * and waited for one (their latency still runs from their scheduled time). Absent on undici.
   */
  preopenedConnections?: number;
  openedConnections?: number;
  waitedForConnection?: number;
  plannedDurationMs: number;
  /** Time requests were being issued; shorter than planned when aborted. */
  durationMs: number;
  /** Wall-clock time the load phase started (ISO 8601, milliseconds). */
  startedAt?: string;
  aborted: boolean;
  abortReason?: string;
  /** Requests issued, responses or errors received, and arrivals dropped at the in-flight cap. */
  sent: number;
  completed: number;
  dropped: number;
  errors: number;
  errorRate: number;
  /** Completed requests per second of issuing time. */
  rps: number;
  /** Issued requests per second (the open model's achieved arrival rate). */
  sentRate: number;
  statusCounts: Record<string, number>;
  errorKinds: Record<string, number>;
  /** Milliseconds, from each request's scheduled send time in the open model. */
  latency: LatencySummary;
  timeline: TimelinePoint[];
  /** Width of a timeline bucket in seconds (grows for long runs to keep memory bounded). */
  timelineBucketSeconds: number;
  thresholds: ThresholdResult[];
  passed: boolean;
  /** Artillery scenarios: how many flows and phases; arrivals (and drops) are then virtual users. */
  scenarios?: number;
  phases?: number;
}

/** One shard of a merged load phase (shards.ts). */
export interface ShardSummary {
  index: number;
  count: number;
  /** Its result file. */
  file: string;
  /** Its checks passed and its load phase ran to the end. */
  passed: boolean;
  problems?: string[];
  completed: number;
  startedAt: string;
  durationMs: number;
}

export interface SmokeResult {
  passed: boolean;
  baseUrl: string;
  startedAt: string;
  durationMs: number;
  wait?: WaitResult;
  checks: CheckResult[];
  load?: LoadResult;
  /** A merged load phase: the shards it was merged from. */
  shards?: ShardSummary[];
  /** Checks and thresholds that passed / failed (and, merged, shards that failed). */
  counts: { passed: number; failed: number; skipped: number };
}

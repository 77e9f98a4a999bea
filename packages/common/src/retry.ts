// The shared retry loop with exponential back-off, used by the Kubernetes API client (429/5xx/409),
// the Prometheus client, GitHub deployments and the quality-gate PR comment, so their budgets and
// jitter agree. Slack delivery (@adci/slack deliver.ts) keeps its own loop: it needs a fresh
// per-attempt deadline and Retry-After from headers @slack/webhook's errors do not carry.
import { type Clock, systemClock } from './ports.ts';

export interface BackoffOptions {
  /** Ceiling of the first back-off, in milliseconds. */
  initialMs: number;
  /** No back-off is longer than this (before jitter). */
  maxMs: number;
  /** Growth of the ceiling per back-off; default 2. */
  factor?: number;
  /**
   * How much randomness: `equal` (default) waits between half and all of the ceiling, so retries
   * neither bunch up nor collapse to zero; `full` waits between 0 and the ceiling; `none` waits
   * exactly the ceiling.
   */
  jitter?: 'equal' | 'full' | 'none';
}

export interface RetryOptions extends Partial<BackoffOptions> {
  /** Maximum attempts including the first; default unlimited (then `timeoutMs` must bound it). */
  attempts?: number;
  /**
   * Overall budget in milliseconds from the first attempt. A back-off is shortened so as never to
   * sleep past it (one last attempt at the deadline); a wait the caller asked for (a number from
   * `retryable`, e.g. Retry-After) that would end past it is not started. Either way, once the
   * budget is spent the last error is rethrown.
   */
  timeoutMs?: number;
  /**
   * Decides after each failure: `false` rethrows at once; `true` backs off; a number waits exactly
   * that many milliseconds (a server's Retry-After) without counting as a back-off step.
   * Default: every error is retryable.
   */
  retryable?: (error: unknown, attempt: number) => boolean | number;
  /** Told before each wait: the error, the attempt that failed (1-based) and the wait. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void;
  /** Aborting stops a wait at once and rejects with `signal.reason`. */
  signal?: AbortSignal;
  clock?: Clock;
  random?: () => number;
}

/** Default back-off when `retry` is given none: 250 ms doubling up to 10 s, equal jitter. */
export const DEFAULT_BACKOFF: Readonly<Required<BackoffOptions>> = {
  initialMs: 250,
  maxMs: 10_000,
  factor: 2,
  jitter: 'equal',
};

/**
 * The wait before retry number `attempt` (1-based: 1 is the wait after the first failure):
 * the ceiling `min(maxMs, initialMs * factor^(attempt-1))`, jittered as `options.jitter` says.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  checkBackoff(options);
  const factor = options.factor ?? DEFAULT_BACKOFF.factor;
  const step = Math.max(0, Math.floor(attempt) - 1);
  // factor ** step may overflow to Infinity; 0 * Infinity would be NaN, hence the guard.
  const ceiling = options.initialMs === 0 ? 0 : Math.min(options.maxMs, options.initialMs * factor ** step);
  switch (options.jitter ?? DEFAULT_BACKOFF.jitter) {
    case 'none':
      return ceiling;
    case 'full':
      return random() * ceiling;
    case 'equal':
      return ceiling / 2 + (random() * ceiling) / 2;
  }
}

/**
 * Calls `operation(attempt)` (attempt is 1-based) until it resolves, `retryable` says no, the
 * attempts or the time budget run out (the last error is rethrown), or `signal` aborts (rejects
 * with `signal.reason`).
 */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const backoff: BackoffOptions = {
    initialMs: options.initialMs ?? DEFAULT_BACKOFF.initialMs,
    maxMs: options.maxMs ?? Math.max(DEFAULT_BACKOFF.maxMs, options.initialMs ?? 0),
    factor: options.factor ?? DEFAULT_BACKOFF.factor,
    jitter: options.jitter ?? DEFAULT_BACKOFF.jitter,
  };
  checkBackoff(backoff);
  const { attempts, timeoutMs, signal } = options;
  if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 1)) {
    throw new RangeError(`retry: attempts must be a whole number ≥ 1, got ${attempts}`);
  }
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
    throw new RangeError(`retry: timeoutMs must be a finite number ≥ 0, got ${timeoutMs}`);
  }
  if (attempts === undefined && timeoutMs === undefined) {
    // Fail closed: an unbounded retry loop hangs a deploy instead of failing it.
    throw new RangeError('retry: give attempts or timeoutMs (or both); an unbounded retry never gives up');
  }

  const start = clock.now();
  const deadline = timeoutMs === undefined ? Infinity : start + timeoutMs;
  let backoffStep = 0;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await operation(attempt);
    } catch (error) {
      throwIfAborted(signal);
      if (attempts !== undefined && attempt >= attempts) throw error;
      const verdict = options.retryable ? options.retryable(error, attempt) : true;
      if (verdict === false) throw error;
      const left = deadline - clock.now();
      if (left <= 0) throw error;
      let delayMs: number;
      if (typeof verdict === 'number') {
        delayMs = Number.isFinite(verdict) && verdict > 0 ? verdict : 0;
        if (delayMs > left) throw error; // the server asked for more time than the budget holds
      } else {
        delayMs = Math.min(backoffDelay(++backoffStep, backoff, random), left);
      }
      options.onRetry?.({ error, attempt, delayMs });
      if (delayMs > 0) await clock.sleep(delayMs, signal);
    }
  }
}

function checkBackoff(options: BackoffOptions): void {
  const { initialMs, maxMs, factor = DEFAULT_BACKOFF.factor, jitter = DEFAULT_BACKOFF.jitter } = options;
  if (!(Number.isFinite(initialMs) && initialMs >= 0)) {
    throw new RangeError(`backoff: initialMs must be a finite number ≥ 0, got ${initialMs}`);
  }
  if (!(Number.isFinite(maxMs) && maxMs >= initialMs)) {
    throw new RangeError(`backoff: maxMs must be a finite number ≥ initialMs (${initialMs}), got ${maxMs}`);
  }
  if (!(Number.isFinite(factor) && factor >= 1)) {
    throw new RangeError(`backoff: factor must be a finite number ≥ 1, got ${factor}`);
  }
  if (jitter !== 'equal' && jitter !== 'full' && jitter !== 'none') {
    throw new RangeError(`backoff: jitter must be 'equal', 'full' or 'none', got '${String(jitter)}'`);
  }
}

/** Rejects with the signal's own reason, as the spec asks, rather than a generic AbortError. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

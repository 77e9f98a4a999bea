// The polling loop on the Clock port: ask a probe at an interval until it has an answer or the time
// is up. The blue-green lock waits for its lease through here, and so do the cluster tests. Three
// waits are of other kinds and keep their own loops: readiness is a watch with a deadline timer
// (no polling), the post-promotion window observes for a fixed time whatever happens (it
// ends on a failure, not on success), and the smoke test's wait-for never starts an attempt the
// deadline would cut short (each request's timeout is the time left), so its last attempt comes
// before the deadline rather than at it.
import { formatDuration } from './duration.ts';
import { type Clock, systemClock } from './ports.ts';
import { throwIfAborted } from './retry.ts';

/** The condition did not come true within the time given. */
export class WaitTimeoutError extends Error {
  /** What was waited for, as the caller described it ("deployment web-green to be available"). */
  readonly description: string;
  readonly timeoutMs: number;
  constructor(description: string, timeoutMs: number) {
    super(`timed out after ${formatDuration(timeoutMs)} waiting for ${description}`);
    this.name = 'WaitTimeoutError';
    this.description = description;
    this.timeoutMs = timeoutMs;
  }
}

export interface WaitOptions {
  /** How long to keep asking, from the first probe. */
  timeoutMs: number;
  /** Pause between the end of one probe and the start of the next. */
  intervalMs: number;
  /** Completes "timed out after 5s waiting for …". */
  description: string;
  /** Aborting stops at once and rejects with `signal.reason`. */
  signal?: AbortSignal;
  clock?: Clock;
}

/**
 * Calls `probe` until it returns a value other than `undefined` or `false`, and returns that value.
 * A probe that throws ends the wait with its error (that is how a caller fails fast, e.g. on
 * ImagePullBackOff); a probe that is merely "not yet" returns undefined or false. The last probe
 * runs at the deadline, never after a sleep past it; then WaitTimeoutError
 * ("timed out after 5s waiting for <description>").
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions,
): Promise<T> {
  const { timeoutMs, intervalMs, description, signal } = options;
  const clock = options.clock ?? systemClock;
  if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
    throw new RangeError(`waitUntil: timeoutMs must be a finite number ≥ 0, got ${timeoutMs}`);
  }
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) {
    throw new RangeError(`waitUntil: intervalMs must be a finite number > 0, got ${intervalMs}`);
  }
  if (!description) throw new RangeError('waitUntil: description must say what is waited for');

  const deadline = clock.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    const value = await probe();
    throwIfAborted(signal);
    if (value !== undefined && value !== false) return value;
    const left = deadline - clock.now();
    if (left <= 0) throw new WaitTimeoutError(description, timeoutMs);
    await clock.sleep(Math.min(intervalMs, left), signal);
  }
}

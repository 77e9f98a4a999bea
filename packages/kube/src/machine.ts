// The driver of the blue-green state machine. An action is a declared list of steps; each step
// says what happens when it fails or is cancelled (`onFailure`, `onCancel`), so the failure policy
// is read from the list, not from where try/catch blocks sit. The driver is the only place that
// decides what comes next.
import { errorMessage } from '@adci/common';
import type { Phase } from './state.ts';

/**
 * What a failure or a cancellation of a step leads to:
 * - `stop`: nothing had changed yet; just stop.
 * - `abandon`: traffic never moved; the new colour is scaled down (after abort-scale-down-delay).
 * - `revert`: traffic moved; switch it back to the previous colour (still up), then scale the new one down.
 * - `resume`: leave everything as it is and record where the run stopped; a re-run finishes it.
 */
export type Compensation = 'stop' | 'abandon' | 'revert' | 'resume';

export interface Step<C> {
  name: Phase;
  /** Does the work; a string becomes the phase's detail. */
  run: (context: C) => Promise<string | undefined>;
  onFailure: Compensation;
  /** Default: the same as onFailure. */
  onCancel?: Compensation;
  /** Once started, it finishes even when the run is cancelled (a half-done switch is worse than a late stop). */
  finishOnCancel?: boolean;
  /** The step is skipped (not shown) when this says no. */
  when?: (context: C) => boolean;
}

export const CANCELLED = 'the run was cancelled';

export class Cancelled extends Error {
  constructor() {
    super(CANCELLED);
    this.name = 'Cancelled';
  }
}

/** What the driver needs from the run it drives. */
export interface Driven {
  readonly signal: AbortSignal;
  /** Runs one phase: records it, checks cancellation (unless finishOnCancel). */
  phase<T>(name: Phase, work: () => Promise<T>, options?: { finishOnCancel?: boolean }): Promise<T>;
  /** The plan ends early (unchanged, preview-ready, a planned dry run). */
  done: boolean;
  /** Carries out a compensation for the failed step; rethrows (or throws the rolled-back error). */
  compensate(kind: Compensation, error: unknown, step: Phase): Promise<never>;
}

/** Runs the steps in order until one fails (then its compensation runs) or the plan is done. */
export async function runSteps<C extends Driven>(steps: readonly Step<C>[], context: C): Promise<void> {
  for (const step of steps) {
    if (context.done) return;
    if (step.when && !step.when(context)) continue;
    try {
      // A cancelled run starts no further step (finishOnCancel only lets a started one finish).
      if (context.signal.aborted) throw new Cancelled();
      await context.phase(step.name, () => step.run(context), { finishOnCancel: step.finishOnCancel });
    } catch (error) {
      const cancelled = error instanceof Cancelled || context.signal.aborted;
      const kind = cancelled ? (step.onCancel ?? step.onFailure) : step.onFailure;
      return context.compensate(kind, cancelled ? new Cancelled() : error, step.name);
    }
  }
}

/** The message of a step's failure, with a cancellation worded the same everywhere. */
export function failureMessage(error: unknown, aborted: boolean): string {
  return error instanceof Cancelled || aborted ? CANCELLED : errorMessage(error);
}

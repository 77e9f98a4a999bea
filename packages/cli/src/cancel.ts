// Ctrl-C or a CI job's cancellation (SIGINT, SIGTERM) aborts a command's engine run, which then
// stops what it started (a load phase, a half-done deploy's rollback) instead of dying mid-way.

/** Runs `work` with a signal that aborts on SIGINT or SIGTERM; stops listening when it settles. */
export async function withCancellation<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const cancel = (): void => controller.abort(new Error('cancelled'));
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}

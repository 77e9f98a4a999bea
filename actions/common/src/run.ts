// The one entry wrapper: every failure becomes `core.setFailed(message)` with a readable message.
import * as core from '@actions/core';
import { errorMessage, type Logger } from '@adci/common/basics';

export async function runAction(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    core.setFailed(errorMessage(error));
    if (error instanceof Error && error.stack) core.debug(error.stack);
  }
}

/** The Logger port backed by the runner's log and annotations. */
export const coreLogger: Logger = {
  debug: (m) => core.debug(m),
  info: (m) => core.info(m),
  warning: (m) => core.warning(m),
  error: (m) => core.error(m),
};

/** Aborts when the runner cancels the job (SIGINT, then SIGTERM). */
export function cancellationSignal(): AbortSignal {
  const controller = new AbortController();
  const cancel = (signal: string) => () => controller.abort(new Error(`cancelled (${signal})`));
  process.once('SIGINT', cancel('SIGINT'));
  process.once('SIGTERM', cancel('SIGTERM'));
  return controller.signal;
}

// The one entry wrapper: every run starts its log with the adci version and ends its job summary with
// it, so a run can be traced to a release (also which commit a `uses: …@<ref>` resolved to), and every
// failure becomes `core.setFailed(message)` with a readable message.
import * as core from '@actions/core';
import { ADCI_VERSION, errorMessage, type Logger } from '@adci/common/basics';

export async function runAction(main: () => Promise<void>): Promise<void> {
  core.info(`adci ${ADCI_VERSION}`);
  try {
    await main();
  } catch (error) {
    core.setFailed(errorMessage(error));
    if (error instanceof Error && error.stack) core.debug(error.stack);
  }
  await writeVersionFooter();
}

/** `adci <version>` as the last line of the step's job summary. */
export async function writeVersionFooter(): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return; // not on a runner (a test, a terminal)
  try {
    await core.summary.addRaw(`\n<sub>adci ${ADCI_VERSION}</sub>\n`, true).write();
  } catch (error) {
    core.debug(`job summary footer not written: ${errorMessage(error)}`);
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

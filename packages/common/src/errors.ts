// Error types shared by every engine and adapter, so that presentation can tell a bad input
// (the user's to fix, reported before anything changes) from a failure while working.

/** A value given by the user is wrong. `input` names it as the user wrote it. */
export class InputError extends Error {
  readonly input: string;
  constructor(input: string, message: string) {
    super(`Input '${input}': ${message}`);
    this.name = 'InputError';
    this.input = input;
  }
}

/** Message of any thrown value, never a bare stack trace. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

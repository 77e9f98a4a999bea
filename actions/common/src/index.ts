// What every action adapter shares: input readers, the run wrapper, the core-backed logger, the run context.
export * from './inputs.ts';
export { runAction, coreLogger, cancellationSignal } from './run.ts';
export { readRunContext, type RunContext } from './context.ts';
export { githubCall, githubRetryable, retryAfterMs, describeApiError, GITHUB_RETRY } from './github-api.ts';

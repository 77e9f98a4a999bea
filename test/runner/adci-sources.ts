// `adci …` run from the sources (packages/cli/src/main.ts) in a child process, for the CLI's tests
// beside its commands: what a terminal sees (stdout, stderr, exit code), with no test-runner output
// mixed in. Given `env`, the child sees only PATH and those variables (no CI variable leaks in).
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface AdciRun {
  code: number | null;
  out: string;
  err: string;
}

export interface AdciRunOptions {
  /** The child's whole environment besides PATH; without it, the test's own environment. */
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

const main = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'src', 'main.ts');

export function adciFromSources(args: string[], options: AdciRunOptions = {}): Promise<AdciRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      {
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.env ? { env: { PATH: process.env.PATH ?? '', ...options.env } } : {}),
        ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, out, err) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, out, err }),
    );
  });
}

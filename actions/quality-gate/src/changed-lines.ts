// The lines a pull request changed: `git diff --unified=0 base...head` run with an argument
// array, parsed by the engine. A failure is returned as a reason, never thrown: the gate then
// fails only the conditions that need changed lines, and says why.
import * as exec from '@actions/exec';
import { gitDiffArgs, parseUnifiedDiff, type ChangedLines } from '@adci/reports';

export async function readChangedLines(
  root: string,
  base: string,
  head: string,
): Promise<{ lines?: ChangedLines; error?: string }> {
  if (!base) return { error: 'the event payload has no pull_request.base.sha (set diff-base)' };
  const result = await exec.getExecOutput('git', gitDiffArgs(base, head), {
    cwd: root,
    silent: true,
    ignoreReturnCode: true,
  });
  if (result.exitCode !== 0) {
    const reason = result.stderr.trim().split('\n')[0] ?? `exit code ${result.exitCode}`;
    return {
      error: `git diff ${base}...${head} failed (${reason}); check out with fetch-depth: 0 so both commits are present`,
    };
  }
  return { lines: parseUnifiedDiff(result.stdout) };
}

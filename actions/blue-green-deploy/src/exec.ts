// The engine's exec port (which runs helm and kubectl kustomize for a chart or an overlay) on
// @actions/exec: an argument array, never a shell string; silent, because `--set` lines may hold
// values the log should not show; a program missing from PATH is reported as such.
import * as exec from '@actions/exec';
import type { ExecPort } from '@adci/kube';

export const actionsExec: ExecPort = async (program, args, options) => {
  try {
    const { exitCode, stdout, stderr } = await exec.getExecOutput(program, args, {
      cwd: options.cwd,
      silent: true,
      ignoreReturnCode: true,
    });
    return { exitCode, stdout, stderr };
  } catch (error) {
    // @actions/exec resolves the program with io.which first and throws this when it is absent.
    if (error instanceof Error && /Unable to locate executable file/.test(error.message)) return 'not-found';
    throw error;
  }
};

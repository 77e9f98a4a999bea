// The `adci` command: the engines behind the GitHub Actions, for GitLab CI, Jenkins and terminals.
import { Command, CommanderError } from 'commander';
import { ADCI_VERSION, errorMessage } from '@adci/common/basics';
import { registerDeploy } from './commands/deploy.ts';
import { registerGate } from './commands/gate.ts';
import { registerNotify } from './commands/notify.ts';
import { registerSmoke } from './commands/smoke.ts';
import { describeActionInputs } from './action-inputs.ts';

export function buildProgram(): Command {
  const program = new Command('adci')
    .description('adci: quality gate, smoke tests, blue-green deploys and Slack notifications for any CI')
    .version(ADCI_VERSION, '-V, --version', 'print the adci version')
    .showHelpAfterError()
    // Commander's own exits (unknown option, missing argument, bad choice, no command) would use
    // exit code 1, the code of a failed gate; thrown instead, main() turns them into 2.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerGate(program);
  registerSmoke(program);
  registerDeploy(program);
  registerNotify(program);
  for (const command of program.commands) describeActionInputs(command);
  return program;
}

/**
 * Exit codes: 0 passed (or help shown), 1 a gate, check, deploy or delivery that ran and failed,
 * 2 a usage or input error, or anything else that kept adci from reaching a verdict.
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed the problem (and the help after it).
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`adci: ${errorMessage(error)}\n`);
    process.exitCode = 2;
  }
}

// The `adci` command: the engines behind the GitHub Actions, for GitLab CI, Jenkins and terminals.
import { Command, CommanderError } from 'commander';
import { ADCI_VERSION, errorMessage } from '@adci/common/basics';
import { registerDeploy } from './commands/deploy.ts';
import { registerGate } from './commands/gate.ts';
import { registerNotify } from './commands/notify.ts';
import { registerSmoke } from './commands/smoke.ts';
import { describeActionInputs } from './action-inputs.ts';

/** The commands, in the order `adci --help` lists them. */
const COMMANDS: Record<string, (program: Command) => void> = {
  gate: registerGate,
  smoke: registerSmoke,
  deploy: registerDeploy,
  notify: registerNotify,
};

/**
 * The program. `argv` naming a command builds that command only: its run needs none of the others
 * (the options of all four are a tenth of `adci deploy --action status`'s start-up); the help, the
 * version and an unknown command get them all.
 */
export function buildProgram(argv: readonly string[] = []): Command {
  const program = new Command('adci')
    .description('adci: quality gate, smoke tests, blue-green deploys and Slack notifications for any CI')
    .version(ADCI_VERSION, '-V, --version', 'print the adci version')
    .showHelpAfterError()
    // Commander's own exits (unknown option, missing argument, bad choice, no command) would use
    // exit code 1, the code of a failed gate; thrown instead, main() turns them into 2.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  const named = argv[2];
  for (const [name, register] of Object.entries(COMMANDS))
    if (named === undefined || !(named in COMMANDS) || name === named) register(program);
  for (const command of program.commands) describeActionInputs(command);
  return program;
}

/**
 * Exit codes: 0 passed (or help shown), 1 a gate, check, deploy or delivery that ran and failed,
 * 2 a usage or input error, or anything else that kept adci from reaching a verdict.
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram(argv).parseAsync(argv);
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

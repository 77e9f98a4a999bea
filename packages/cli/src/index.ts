// The `adci` command: the engines behind the GitHub Actions, for GitLab CI, Jenkins and terminals.
import { Command } from 'commander';
import { errorMessage } from '@adci/common';
import { registerDeploy } from './commands/deploy.ts';
import { registerGate } from './commands/gate.ts';
import { registerNotify } from './commands/notify.ts';
import { registerSmoke } from './commands/smoke.ts';

export function buildProgram(): Command {
  const program = new Command('adci')
    .description('adci: quality gate, smoke tests, blue-green deploys and Slack notifications for any CI')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerGate(program);
  registerSmoke(program);
  registerDeploy(program);
  registerNotify(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.stderr.write(`adci: ${errorMessage(error)}\n`);
    process.exitCode = 2;
  }
}

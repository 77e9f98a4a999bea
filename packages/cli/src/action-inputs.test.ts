// Each `adci` command's --help says which action input each flag stands for, and how every other
// input of the action is given (an environment variable) or why the command has none: checked
// against the four action.yml files, so a new input cannot be forgotten on either side.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { parseStructured } from '@adci/common/structured';
import { buildProgram } from './index.ts';
import { ACTION_INPUTS } from './action-inputs.ts';

const root = join(import.meta.dirname, '..', '..', '..');

function actionInputs(action: string): string[] {
  const file = join(root, action, 'action.yml');
  const metadata = parseStructured(readFileSync(file, 'utf8'), file).value as { inputs?: object };
  return Object.keys(metadata.inputs ?? {});
}

/** The help text with commander's line wrapping undone. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk) });
  command.outputHelp();
  return text.replace(/\s+/g, ' ');
}

const program = buildProgram();
const commandNamed = (name: string): Command => {
  const found = program.commands.find((command) => command.name() === name);
  assert.ok(found, `adci has a ${name} command`);
  return found;
};

describe('--help names the action input of every flag', () => {
  for (const [name, { action, inputs }] of Object.entries(ACTION_INPUTS)) {
    it(`adci ${name} covers every input of ${action}/action.yml`, () => {
      assert.deepEqual(Object.keys(inputs).sort(), actionInputs(action).sort());
    });

    it(`adci ${name}: each flag given for an input exists`, () => {
      const longs = new Set(commandNamed(name).options.map((option) => option.long));
      for (const [input, how] of Object.entries(inputs)) {
        for (const flag of how.flags ?? []) assert.ok(longs.has(flag), `${input}: adci ${name} has no ${flag}`);
      }
    });
  }

  it('adci deploy --help puts pre-promotion-checks beside --pre-checks, and says where the kubeconfig comes from', () => {
    const help = helpOf(commandNamed('deploy'));
    assert.match(help, /--pre-checks <file>[\s\S]*?\[input: pre-promotion-checks\]/);
    assert.match(help, /--namespace <ns>[\s\S]*?\[input: namespace\]/);
    assert.match(help, /kubeconfig\s+KUBECONFIG/);
    assert.match(help, /github-token\s+none:/);
  });

  it('adci gate --help maps --base to diff-base and --root to working-directory', () => {
    const help = helpOf(commandNamed('gate'));
    assert.match(help, /--base <ref>[\s\S]*?\[input: diff-base\]/);
    assert.match(help, /--root <dir>[\s\S]*?\[input: working-directory\]/);
  });

  it('adci notify --help says the webhook URL is SLACK_WEBHOOK_URL', () => {
    assert.match(helpOf(commandNamed('notify')), /webhook-url\s+SLACK_WEBHOOK_URL/);
  });

  it('adci smoke --help maps --load-threshold to load-thresholds', () => {
    assert.match(helpOf(commandNamed('smoke')), /--load-threshold <expr>[\s\S]*?\[input: load-thresholds\]/);
  });
});

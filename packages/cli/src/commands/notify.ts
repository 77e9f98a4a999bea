// `adci notify`: the notify engine from GitLab CI, Jenkins or a terminal.
// The options are declared here; the engine loads only when the command runs (notify-run.ts).
import { Option, type Command } from 'commander';
import { NOTIFY_STATUSES } from '@adci/slack';
import type { NotifyOptions } from './notify-run.ts';

export function registerNotify(program: Command): void {
  program
    .command('notify')
    .description('send a Slack message through an incoming webhook (URL from SLACK_WEBHOOK_URL)')
    .addOption(new Option('--status <status>', 'run status').choices(NOTIFY_STATUSES).default('success'))
    .option('--title <text>', 'header title', '')
    .option('--text <text>', 'text under the header', '')
    .option('--fields <yaml>', 'extra fields as a YAML/JSON map', '')
    .option('--environment <name>', 'environment deployed to', '')
    .option('--environment-url <url>', 'URL of the environment', '')
    .option('--image <ref>', 'container image shipped', '')
    .option('--mention <ids>', 'Slack user/group ids mentioned on failure', '')
    .option('--payload <json|yaml>', 'custom Block Kit payload with {{ name }} placeholders')
    .option('--payload-file <path>', 'file holding a custom payload')
    .option('--fail-on-error', 'exit 1 when the message cannot be delivered', false)
    .option('--timeout <duration>', 'time limit for the whole delivery', '30s')
    .option('--json', 'print the result as JSON', false)
    .option('--verbose', 'log each attempt', false)
    .action(async (options: NotifyOptions) => {
      // The engine loads only when this command runs.
      const { runNotifyAction } = await import('./notify-run.ts');
      await runNotifyAction(options);
    });
}

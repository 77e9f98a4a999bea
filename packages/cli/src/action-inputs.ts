// Which input of each GitHub Action every `adci` flag stands for, and how the inputs without a
// flag are given (an environment variable, because argv shows in `ps`) or why the command has none.
// describeActionInputs() writes it into each command's --help; action-inputs.test.ts checks the
// table against the four action.yml files, so neither side can gain an input the other forgets.
import type { Command } from 'commander';

export interface InputRoute {
  /** The flags that give this input (`--<input>` in most cases). */
  flags?: readonly string[];
  /** Given otherwise: an environment variable, or `none: <why>`. */
  otherwise?: string;
}

export interface CommandInputs {
  action: string;
  inputs: Record<string, InputRoute>;
}

const same = (...names: string[]): Record<string, InputRoute> =>
  Object.fromEntries(names.map((name) => [name, { flags: [`--${name}`] }]));
const githubOnly = (what: string): InputRoute => ({ otherwise: `none: ${what} (GitHub only)` });

export const ACTION_INPUTS: Record<string, CommandInputs> = {
  gate: {
    action: 'quality-gate',
    inputs: {
      ...same('reports', 'min-changed-lines', 'baseline', 'ignore-malformed', 'report-file'),
      thresholds: { flags: ['--thresholds', '--thresholds-file'] },
      'diff-base': { flags: ['--base'] },
      'working-directory': { flags: ['--root'] },
      'pull-request-number': githubOnly('the pull request comment'),
      comment: githubOnly('the pull request comment'),
      'comment-id': githubOnly('the pull request comment'),
      title: githubOnly('the pull request comment and job summary title'),
      'github-token': githubOnly('the pull request comment'),
      annotations: githubOnly('annotations; --verbose lists the findings'),
      'fail-on-failure': { otherwise: 'none: a failed gate always exits 1' },
    },
  },
  deploy: {
    action: 'blue-green-deploy',
    inputs: {
      ...same(
        'manifests',
        'chart',
        'values',
        'set',
        'release-name',
        'kustomize',
        'deployment',
        'image',
        'container',
        'namespace',
        'context',
        'action',
        'active-service',
        'preview-service',
        'preview-url',
        'analysis-vars',
        'prometheus-url',
        'post-promotion-window',
        'scale-down-delay',
        'timeout',
        'lock-timeout',
        'dry-run',
        'preview-replicas',
        'abort-scale-down-delay',
        'to-revision',
        'targets',
        'target',
        'history-limit',
      ),
      'pre-promotion-checks': { flags: ['--pre-checks'] },
      'post-promotion-checks': { flags: ['--post-checks'] },
      'pre-promotion-analysis': { flags: ['--pre-analysis'] },
      'post-promotion-analysis': { flags: ['--post-analysis'] },
      'auto-promote': { flags: ['--no-auto-promote'] },
      kubeconfig: { otherwise: 'KUBECONFIG (a file), ~/.kube/config or the in-cluster service account' },
      'prometheus-token': { otherwise: 'ADCI_PROMETHEUS_TOKEN' },
      kubeconfigs: { otherwise: "the environment variables each target's kubeconfig-env names" },
      'github-token': githubOnly('GitHub Deployments'),
      environment: githubOnly('GitHub Deployments'),
      'environment-url': githubOnly('GitHub Deployments'),
    },
  },
  smoke: {
    action: 'smoke-test',
    inputs: {
      ...same(
        'base-url',
        'checks',
        'checks-file',
        'artillery',
        'wait-for',
        'wait-timeout',
        'wait-interval',
        'retries',
        'timeout',
        'headers',
        'fail-fast',
        'junit-file',
        'report-file',
        'insecure-tls',
        'max-body',
        'load-rate',
        'load-connections',
        'load-duration',
        'load-max-in-flight',
        'load-path',
        'load-abort-on-fail',
        'load-start-at',
        'shard',
        'shard-dir',
        'merge',
      ),
      'load-thresholds': { flags: ['--load-threshold'] },
      analysis: {
        otherwise: 'none: adci smoke runs no metric analysis (adci deploy --pre-analysis/--post-analysis do)',
      },
      'analysis-vars': { otherwise: 'none: see analysis' },
      'prometheus-url': { otherwise: 'none: see analysis' },
      'prometheus-token': { otherwise: 'none: see analysis' },
    },
  },
  notify: {
    action: 'notify',
    inputs: {
      ...same(
        'status',
        'title',
        'text',
        'fields',
        'environment',
        'environment-url',
        'image',
        'mention',
        'payload',
        'payload-file',
        'fail-on-error',
        'timeout',
      ),
      'webhook-url': { otherwise: 'SLACK_WEBHOOK_URL' },
    },
  },
};

/** Appends `[input: <name>]` to each flag's help and lists the inputs given otherwise after it. */
export function describeActionInputs(command: Command): void {
  const table = ACTION_INPUTS[command.name()];
  if (!table) return;
  const otherwise: string[] = [];
  for (const [input, route] of Object.entries(table.inputs)) {
    for (const flag of route.flags ?? []) {
      const option = command.options.find((candidate) => candidate.long === flag);
      if (option) option.description = `${option.description} [input: ${input}]`.trim();
    }
    if (route.otherwise) otherwise.push(`  ${input.padEnd(22)} ${route.otherwise}`);
  }
  const lines = [
    '',
    `Flags marked [input: x] stand for the input x of the ${table.action} action.`,
    ...(otherwise.length > 0 ? [`Inputs of ${table.action} without a flag:`, ...otherwise] : []),
  ];
  command.addHelpText('after', lines.join('\n'));
}

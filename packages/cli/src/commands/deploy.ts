// `adci deploy`: the blue-green engine from GitLab CI, Jenkins or a terminal, with the same
// settings validation as the action. Phases go to stderr as they happen; the result to stdout.
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { Redactor, consoleLogger, errorMessage } from '@adci/common';
import { readCiRun } from '../ci-context.ts';
import { versioned } from '../json.ts';
import { locateKubeconfig } from '../kubeconfig.ts';

interface DeployOptions {
  manifests: string[];
  image?: string;
  container?: string;
  namespace?: string;
  context?: string;
  action: string;
  activeService?: string;
  previewService?: string;
  previewUrl?: string;
  preChecks?: string;
  postChecks?: string;
  preAnalysis?: string;
  postAnalysis?: string;
  prometheusUrl?: string;
  analysisVars?: string;
  autoPromote: boolean;
  postPromotionWindow: string;
  scaleDownDelay: string;
  timeout: string;
  lockTimeout: string;
  dryRun: boolean;
  json: boolean;
  verbose: boolean;
}

/**
 * One GET /version (with the client's retries for transient errors) before anything else: an API
 * server that cannot be reached is named as such (exit 2), not reported as a failed deploy.
 */
async function checkReachable(kube: { server: string; request: (method: 'GET', path: string) => Promise<unknown> }) {
  try {
    await kube.request('GET', '/version');
  } catch (error) {
    if (typeof (error as { status?: unknown }).status === 'number') return; // it answered: the engine says the rest
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    // No `cause`: main() would print the client's 'fetch failed' after the message that explains it.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(
      `the Kubernetes API server ${kube.server} (from the kubeconfig) is unreachable: ${cause?.code ?? cause?.message ?? errorMessage(error)}`,
    );
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description(
      'blue-green deploy to Kubernetes: new colour beside the live one, checks, switch, endpoint verification, ' +
        'automatic rollback (exit 1 when the deploy failed or rolled back). The kubeconfig comes from KUBECONFIG, ' +
        '~/.kube/config or the in-cluster service account (never from an argument: argv shows in ps)',
    )
    .option('--manifests <glob>', 'manifest file or glob (repeatable)', collect, [])
    .option('--image <image>', 'image to deploy (default: the manifest image)')
    .option('--container <name>', 'container whose image is set (default: the first)')
    .option('--namespace <ns>', 'namespace (default: the context namespace or default)')
    .option('--context <name>', 'kubeconfig context')
    .option('--action <action>', 'deploy | promote | rollback | abort | status', 'deploy')
    .option('--active-service <name>', 'the Service that carries the deploy state')
    .option('--preview-service <name>', 'Service pointed at the new colour for pre-promotion checks')
    .option('--preview-url <url>', 'how checks reach the preview (default: the API server service proxy)')
    .option('--pre-checks <file>', 'checks file run against the preview before the switch')
    .option('--post-checks <file>', 'checks file run against the active Service after the switch')
    .option('--pre-analysis <file>', 'metric analysis file run against Prometheus alongside the pre-promotion checks')
    .option(
      '--post-analysis <file>',
      'metric analysis file run alongside the post-promotion checks; a failure rolls back',
    )
    .option(
      '--prometheus-url <url>',
      "Prometheus for the analyses (overrides the files' prometheus:); token from ADCI_PROMETHEUS_TOKEN",
    )
    .option(
      '--analysis-vars <yaml>',
      "placeholder values for the analysis files, a YAML mapping (not the deploy's own version, color, namespace, revision, app)",
    )
    .option('--no-auto-promote', 'stop with the preview ready; promote later with --action promote')
    .option('--post-promotion-window <duration>', 'how long the new colour is watched after the switch', '60s')
    .option('--scale-down-delay <duration>', 'drain delay before the old colour is scaled down', '30s')
    .option('--timeout <duration>', 'deadline for the new colour to become available', '10m')
    .option('--lock-timeout <duration>', 'how long to wait for another deploy of the same app', '5m')
    .option('--dry-run', 'validate with a server-side dry run and print the plan', false)
    .option('--json', 'print the result object as JSON', false)
    .option('--verbose', 'debug output', false)
    .action(async (options: DeployOptions) => {
      // Before the client loads: its fallback without a kubeconfig is an anonymous localhost:8080.
      locateKubeconfig(process.env, process.env.HOME || homedir());
      const { KubeClient, buildDeploySettings, createCheckRunner, renderText, runBlueGreen } =
        await import('@adci/kube');
      const logger = consoleLogger(options.verbose);
      const kube = new KubeClient({ context: options.context, logger });
      const run = readCiRun();
      const settings = buildDeploySettings(
        {
          manifests: options.manifests,
          image: options.image,
          container: options.container,
          namespace: options.namespace,
          action: options.action,
          activeService: options.activeService,
          previewService: options.previewService,
          previewUrl: options.previewUrl,
          preChecks: options.preChecks,
          postChecks: options.postChecks,
          preAnalysis: options.preAnalysis,
          postAnalysis: options.postAnalysis,
          prometheusUrl: options.prometheusUrl,
          prometheusToken: process.env.ADCI_PROMETHEUS_TOKEN,
          analysisVars: options.analysisVars,
          autoPromote: options.autoPromote,
          postPromotionWindow: options.postPromotionWindow,
          scaleDownDelay: options.scaleDownDelay,
          timeout: options.timeout,
          lockTimeout: options.lockTimeout,
          dryRun: options.dryRun,
        },
        process.cwd(),
        kube.contextNamespace ?? 'default',
        {
          commit: run.sha || undefined,
          runUrl: run.runUrl || undefined,
          holder: run.runUrl ? `${run.system} ${run.runUrl}` : undefined,
        },
      );
      await checkReachable(kube);
      const controller = new AbortController();
      const cancel = (): void => controller.abort(new Error('cancelled'));
      process.once('SIGINT', cancel);
      process.once('SIGTERM', cancel);
      const redactor = new Redactor();
      const result = await runBlueGreen(settings, {
        kube,
        logger,
        signal: controller.signal,
        runChecks: createCheckRunner(kube, { logger, redactor }),
        onPhase: (phase) => {
          if (phase.endedAt === undefined) process.stderr.write(`▶ ${phase.name}\n`);
          else
            process.stderr.write(
              redactor.redact(
                `${phase.outcome === 'ok' ? '✔' : '✖'} ${phase.name} (${((phase.endedAt - phase.startedAt) / 1000).toFixed(2)} s)${phase.detail ? `: ${phase.detail}` : ''}\n`,
              ),
            );
        },
      });
      process.off('SIGINT', cancel);
      process.off('SIGTERM', cancel);
      process.stdout.write(
        redactor.redact(options.json ? `${JSON.stringify(versioned(result), null, 2)}\n` : `${renderText(result)}\n`),
      );
      if (result.failed) process.exitCode = 1;
    });
}

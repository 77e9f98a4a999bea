// `adci deploy`: the blue-green engine from GitLab CI, Jenkins or a terminal, with the same
// settings validation as the action. Phases go to stderr as they happen; the result to stdout.
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { Redactor, consoleLogger, errorMessage } from '@adci/common/basics';
import type { RawDeployInputs, RunFacts } from '@adci/kube';
import { readCiRun } from '../ci-context.ts';
import { versioned } from '../json.ts';
import { withCancellation } from '../cancel.ts';
import { locateKubeconfig } from '../kubeconfig.ts';

interface DeployOptions {
  manifests: string[];
  chart?: string;
  values: string[];
  set: string[];
  releaseName?: string;
  kustomize?: string;
  deployment?: string;
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
  previewReplicas?: string;
  abortScaleDownDelay?: string;
  toRevision?: string;
  historyLimit?: string;
  targets?: string;
  target?: string;
  json: boolean;
  verbose: boolean;
}

/**
 * The API server reached (KubeClient.reach, with the client's retries for transient errors) before
 * anything else: one that cannot be reached is named as such (exit 2), not reported as a failed deploy.
 */
async function checkReachable(kube: { server: string; reach: () => Promise<void> }) {
  try {
    await kube.reach();
  } catch (error) {
    if (typeof (error as { status?: unknown }).status === 'number') return; // it answered: the engine says the rest
    // node's errors carry their code (ECONNREFUSED); undici's fetch (a kubeconfig client-node read)
    // says 'fetch failed' with the network error as its cause.
    const { code, cause } = error as { code?: string; cause?: { code?: string; message?: string } };
    // No `cause`: main() would print the client's 'fetch failed' after the message that explains it.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(
      `the Kubernetes API server ${kube.server} (from the kubeconfig) is unreachable: ${code ?? cause?.code ?? cause?.message ?? errorMessage(error)}`,
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
    .option('--manifests <glob>', 'manifest file or glob (repeatable); or --chart, or --kustomize', collect, [])
    .option('--chart <path>', 'a Helm chart (directory or .tgz) rendered with `helm template` instead of manifests')
    .option('--values <file>', "a values file for the chart (repeatable, in order: helm's --values)", collect, [])
    .option('--set <key=value>', "a value for the chart (repeatable: helm's --set)", collect, [])
    .option('--release-name <name>', 'the Helm release name (.Release.Name); required with --chart')
    .option('--kustomize <dir>', 'a Kustomize overlay rendered with `kubectl kustomize` instead of manifests')
    .option('--deployment <name>', 'the Deployment to blue-green when the sources hold several')
    .option('--image <image>', 'image to deploy (default: the manifest image)')
    .option('--container <name>', 'container whose image is set (default: the first)')
    .option('--namespace <ns>', 'namespace (default: the context namespace or default)')
    .option('--context <name>', 'kubeconfig context')
    .option(
      '--action <action>',
      'deploy | promote | rollback | abort | status (with --targets: deploy | plan | status | finish | rollback)',
      'deploy',
    )
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
    .option('--preview-replicas <n>', 'preview size for the pre-promotion checks (default: the full size)')
    .option(
      '--abort-scale-down-delay <duration>',
      'how long a failed or aborted colour stays up for debugging before it is scaled down',
      '0s',
    )
    .option('--to-revision <n>', 'with --action rollback: deploy that stored release again (see --action status)')
    .option('--history-limit <n>', 'how many releases the history on the cluster keeps', '10')
    .option(
      '--targets <file>',
      'release to several clusters in waves: the targets file (kubeconfigs from environment variables or files, waves, bake-time)',
    )
    .option(
      '--target <names>',
      'with --targets: release only these targets (comma-separated), their previous colour held until --action finish',
    )
    .option('--dry-run', 'validate with a server-side dry run and print the plan', false)
    .option('--json', 'print the result object as JSON', false)
    .option('--verbose', 'debug output', false)
    .action(async (options: DeployOptions) => {
      const {
        KubeClient,
        buildDeploySettings,
        childProcessExec,
        createCheckRunner,
        deployFlag,
        phaseLine,
        renderText,
        runBlueGreen,
      } = await import('@adci/kube');
      const logger = consoleLogger(options.verbose);
      const run = readCiRun();
      const facts = {
        commit: run.sha || undefined,
        runUrl: run.runUrl || undefined,
        holder: run.runUrl ? `${run.system} ${run.runUrl}` : undefined,
      };
      const raw: RawDeployInputs = {
        manifests: options.manifests,
        chart: options.chart,
        values: options.values,
        set: options.set,
        releaseName: options.releaseName,
        kustomize: options.kustomize,
        deployment: options.deployment,
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
        previewReplicas: options.previewReplicas,
        abortScaleDownDelay: options.abortScaleDownDelay,
        toRevision: options.toRevision,
        historyLimit: options.historyLimit,
      };
      if (options.targets) {
        await deployInWaves(options.targets, raw, facts, options, logger);
        return;
      }
      if (options.target) {
        const { InputError } = await import('@adci/common');
        throw new InputError('--target', 'applies only with --targets (a release to several clusters)');
      }
      // Before the client loads the kubeconfig: its fallback without one is an anonymous localhost:8080.
      locateKubeconfig(process.env, process.env.HOME || homedir());
      const kube = await KubeClient.create({ context: options.context, logger });
      // The first request (and its TLS handshake) goes out while the sources are read; the settings'
      // own errors are still reported first.
      const reachable = checkReachable(kube);
      reachable.catch(() => undefined);
      const settings = await buildDeploySettings(
        raw,
        process.cwd(),
        kube.contextNamespace ?? 'default',
        facts,
        childProcessExec,
        deployFlag,
      );
      await reachable;
      const redactor = new Redactor();
      const result = await withCancellation((signal) =>
        runBlueGreen(settings, {
          kube,
          logger,
          signal,
          runChecks: createCheckRunner(kube, { logger, redactor }),
          redact: (text) => redactor.redact(text),
          onPhase: (phase) =>
            process.stderr.write(`${redactor.redact(phaseLine(phase))}
`),
        }),
      );
      process.stdout.write(
        redactor.redact(options.json ? `${JSON.stringify(versioned(result), null, 2)}\n` : `${renderText(result)}\n`),
      );
      if (result.failed) process.exitCode = 1;
    });
}

/** `adci deploy --targets`: the same release to several clusters in waves, one global rollback. */
async function deployInWaves(
  file: string,
  given: RawDeployInputs,
  facts: RunFacts,
  options: DeployOptions,
  logger: ReturnType<typeof consoleLogger>,
): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const kube = await import('@adci/kube');
  const { InputError } = await import('@adci/common');
  let raw = given;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError('--targets', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const targets = kube.parseTargetsFile(text, file, '--targets');
  // --action (deploy | status | finish | rollback) and --target, checked before any cluster is contacted.
  const selection = kube.wavesSelection(raw.action, options.target, targets, kube.deployFlag);
  if (raw.toRevision)
    throw new InputError(
      '--to-revision',
      'does not apply with --targets: --action rollback takes every target back to the release it held before this one',
    );
  // Every part of the waves reads the manifests and image as a release (finish and rollback guard on its hash).
  raw = { ...raw, action: 'deploy' };
  const redactor = new Redactor();
  const clients = new Map<string, InstanceType<typeof kube.KubeClient>>();
  // Created when the target's settings are built (reading its kubeconfig may load client-node).
  const clientOf = async (target: (typeof targets.targets)[number]): Promise<InstanceType<typeof kube.KubeClient>> => {
    let client = clients.get(target.name);
    if (!client) {
      const config = kube.kubeconfigOf(target, (name) => process.env[name], process.cwd(), '--targets');
      redactor.add(config);
      client = await kube.KubeClient.create({ kubeconfig: config, context: target.context, logger });
      clients.set(target.name, client);
    }
    return client;
  };
  const result = await withCancellation((signal) =>
    kube.runWaves(
      targets,
      {
        settingsFor: async (target) =>
          kube.buildDeploySettings(
            kube.targetInputs(raw, target),
            process.cwd(),
            (await clientOf(target)).contextNamespace ?? 'default',
            facts,
            kube.childProcessExec,
            kube.deployFlag,
          ),
        connect: (target, settings) => {
          const client = clients.get(target.name);
          if (!client) throw new Error(`no client for target ${target.name}: its settings were not built`);
          return { kube: client, settings, runChecks: kube.createCheckRunner(client, { logger, redactor }) };
        },
        logger,
        signal,
        onPhase: (target, phase) =>
          process.stderr.write(`${redactor.redact(kube.phaseLine(phase, target))}
`),
      },
      selection,
    ),
  );
  process.stdout.write(
    redactor.redact(
      options.json ? `${JSON.stringify(versioned(result), null, 2)}\n` : `${kube.renderWavesText(result)}\n`,
    ),
  );
  if (result.failed) process.exitCode = 1;
}

// The blue-green-deploy step: inputs -> settings -> the kube engine -> outputs, summary,
// annotations. Phases are logged as they happen; the lock is saved for the post: step.
import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { InputError, Redactor, errorMessage } from '@adci/common';
import { cancellationSignal, coreLogger, readRunContext, runAction } from '@adci/action-common';
import { maskKubeconfig, readInputs, type DeployInputs } from './inputs.ts';
import { actionsExec } from './exec.ts';
import { GitHubDeployment, finalState, type DeploymentTarget } from './github-deployment.ts';

function deploymentTarget(
  inputs: DeployInputs,
  settings: {
    action: string;
    namespace: string;
    image?: string;
    app: { deployment: { object: { metadata: { name: string } } } };
  },
): DeploymentTarget {
  return {
    token: inputs.githubToken ?? '',
    environment: inputs.environment ?? settings.namespace,
    environmentUrl: inputs.environmentUrl,
    app: settings.app.deployment.object.metadata.name,
    namespace: settings.namespace,
    action: settings.action as DeploymentTarget['action'],
    image: settings.image,
  };
}

export async function run(): Promise<void> {
  await runAction(async () => {
    const inputs = readInputs();
    const context = readRunContext();
    const signal = cancellationSignal();
    // Loaded here, not at start-up: the Kubernetes client is most of this bundle.
    const { KubeClient, buildDeploySettings, createCheckRunner, phaseLine, renderMarkdown, runBlueGreen } =
      await import('@adci/kube');
    if (inputs.targets) {
      await deployInWaves(inputs, context, signal);
      return;
    }
    if (inputs.target) throw new InputError('target', 'applies only with targets (a release to several clusters)');
    if (inputs.kubeconfigs)
      throw new InputError('kubeconfigs', 'applies only with targets (a release to several clusters): use kubeconfig');
    // The client is not given the cancel signal: after a cancel it still has to scale down,
    // revert or unlock. The engine stops at its next safe point instead.
    let kube: InstanceType<typeof KubeClient>;
    try {
      kube = await KubeClient.create({ kubeconfig: inputs.kubeconfig, context: inputs.context, logger: coreLogger });
    } catch (error) {
      throw new Error('kubeconfig: cannot be loaded', { cause: error });
    }
    const settings = await buildDeploySettings(
      inputs.raw,
      inputs.workspace,
      kube.contextNamespace ?? 'default',
      {
        commit: context.sha || undefined,
        runUrl: context.runUrl || undefined,
        holder: context.runUrl ? `${context.runUrl} (${context.workflow}/${context.job})` : undefined,
      },
      actionsExec,
    );
    const redactor = new Redactor();
    if (inputs.githubToken) redactor.add(inputs.githubToken);
    const recorded = settings.action !== 'status' && !settings.dryRun && inputs.githubToken;
    const target = deploymentTarget(inputs, settings);
    const ghDeployment = recorded ? await GitHubDeployment.open(target, context) : undefined;
    if (ghDeployment) {
      core.saveState('gh-deployment-id', String(ghDeployment.id));
      core.saveState('gh-deployment-environment', target.environment);
    }
    const result = await runBlueGreen(settings, {
      kube,
      logger: coreLogger,
      signal,
      runChecks: createCheckRunner(kube, { logger: coreLogger, redactor }),
      redact: (text) => redactor.redact(text),
      onPhase: (phase) => core.info(redactor.redact(phaseLine(phase))),
      onLock: (lock) => {
        core.saveState('lock-name', lock.name);
        core.saveState('lock-namespace', lock.namespace);
        core.saveState('lock-holder', lock.holder);
      },
    });
    if (result.phases.some((p) => p.name === 'unlock' && p.outcome === 'ok')) core.saveState('lock-released', 'true');

    core.setOutput('result', result.result);
    core.setOutput('active-color', result.activeColor ?? '');
    core.setOutput('previous-color', result.previousColor ?? '');
    core.setOutput('revision', result.revision === undefined ? '' : String(result.revision));
    core.setOutput('image', result.image ?? '');
    core.setOutput('preview-url', result.previewUrl ?? '');
    core.setOutput('ready-seconds', result.readySeconds === undefined ? '' : result.readySeconds.toFixed(2));
    core.setOutput('switch-seconds', result.switchSeconds === undefined ? '' : result.switchSeconds.toFixed(2));
    await core.summary.addRaw(redactor.redact(renderMarkdown(result)), true).write();
    if (ghDeployment) {
      // A cancelled run is an `error` (it did not finish), not a `failure` of the release.
      const state = signal.aborted ? 'error' : finalState(result.result, result.failed);
      const description =
        state === undefined
          ? `preview ready on ${result.previewColor ?? 'the new colour'}; waiting for promote`
          : result.failed
            ? redactor.redact(result.error ?? result.result)
            : `${result.result}: ${result.activeColor ?? '-'} serves ${result.image ?? settings.app.deployment.object.metadata.name}`;
      await ghDeployment.status(state ?? 'in_progress', description);
      core.saveState('gh-deployment-done', 'true');
    }
    if (result.failed) {
      const title =
        result.result === 'rolled-back'
          ? `blue-green-deploy rolled back to ${result.activeColor}`
          : 'blue-green-deploy failed';
      throw new Error(redactor.redact(`${title}: ${result.error ?? 'unknown error'}`));
    }
    core.info(`result: ${result.result}; active colour ${result.activeColor ?? '-'}`);
  });
}

/** `targets`: the same release to several clusters in waves, one global rollback. */
async function deployInWaves(
  inputs: DeployInputs,
  context: ReturnType<typeof readRunContext>,
  signal: AbortSignal,
): Promise<void> {
  const kube = await import('@adci/kube');
  const path = inputs.targets ?? '';
  let text: string;
  try {
    text = readFileSync(isAbsolute(path) ? path : join(inputs.workspace, path), 'utf8');
  } catch (error) {
    throw new InputError('targets', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const file = kube.parseTargetsFile(text, path);
  // action (deploy | status | finish | rollback) and target, checked before any cluster is contacted.
  const selection = kube.wavesSelection(inputs.raw.action, inputs.target, file);
  if (inputs.raw.toRevision)
    throw new InputError(
      'to-revision',
      'does not apply with targets: action rollback takes every target back to the release it held before this one',
    );
  // Every part of the waves reads the manifests and image as a release (its hash is what finish and rollback guard on).
  const raw = { ...inputs.raw, action: 'deploy' };
  const redactor = new Redactor();
  const facts = {
    commit: context.sha || undefined,
    runUrl: context.runUrl || undefined,
    holder: context.runUrl ? `${context.runUrl} (${context.workflow}/${context.job})` : undefined,
  };
  const clients = new Map<string, InstanceType<typeof kube.KubeClient>>();
  // Created when the target's settings are built (reading its kubeconfig may load client-node).
  const clientOf = async (target: (typeof file.targets)[number]): Promise<InstanceType<typeof kube.KubeClient>> => {
    let client = clients.get(target.name);
    if (!client) {
      // The kubeconfig comes from the secret variable the target names: masked the moment it is read.
      const config = kube.kubeconfigOf(
        target,
        (name) => inputs.kubeconfigs?.[name] ?? process.env[name],
        inputs.workspace,
      );
      maskKubeconfig(config);
      redactor.add(config);
      client = await kube.KubeClient.create({ kubeconfig: config, context: target.context, logger: coreLogger });
      clients.set(target.name, client);
    }
    return client;
  };
  const result = await kube.runWaves(
    file,
    {
      settingsFor: async (target) =>
        kube.buildDeploySettings(
          kube.targetInputs(raw, target),
          inputs.workspace,
          (await clientOf(target)).contextNamespace ?? 'default',
          facts,
          actionsExec,
        ),
      connect: (target, settings) => {
        const client = clients.get(target.name);
        if (!client) throw new Error(`no client for target ${target.name}: its settings were not built`);
        return { kube: client, settings, runChecks: kube.createCheckRunner(client, { logger: coreLogger, redactor }) };
      },
      logger: coreLogger,
      signal,
      onPhase: (target, phase) => core.info(redactor.redact(kube.phaseLine(phase, target))),
    },
    selection,
  );
  core.setOutput('result', result.result);
  core.setOutput('waves', JSON.stringify(result.waves));
  // Unset in the file means no limit; a GitHub matrix has at most 256 jobs.
  core.setOutput('max-parallel', String(Math.min(file.maxParallel, 256)));
  core.setOutput(
    'targets',
    JSON.stringify(
      result.targets.map((t) => ({
        name: t.name,
        wave: t.wave,
        state: t.state,
        revision: t.release?.revision ?? t.leftRevision,
        ...(t.found ? { found: t.found } : {}),
      })),
    ),
  );
  await core.summary.addRaw(redactor.redact(kube.renderWavesMarkdown(result)), true).write();
  if (result.failed) throw new Error(redactor.redact(`blue-green-deploy in waves: ${result.error ?? result.result}`));
  core.info(
    redactor.redact(
      `result: ${result.result} on ${result.targets.length} targets${result.error ? `: ${result.error}` : ''}`,
    ),
  );
}

/**
 * The post: step. After a cancel or a crash the main step may not have released the app's lock:
 * release it if this run still holds it.
 */
export async function post(): Promise<void> {
  await finishGitHubDeployment();
  const name = core.getState('lock-name');
  const namespace = core.getState('lock-namespace');
  const holder = core.getState('lock-holder');
  if (!name || core.getState('lock-released') === 'true') return;
  try {
    const inputs = readInputs();
    const { KubeClient, releaseLock } = await import('@adci/kube');
    const kube = await KubeClient.create({ kubeconfig: inputs.kubeconfig, context: inputs.context });
    const released = await releaseLock(kube, namespace, name, holder);
    core.info(
      released ? `post: released lock ${name} left by the main step` : `post: lock ${name} was already released`,
    );
  } catch (error) {
    core.warning(`post: could not release lock ${name} in ${namespace}: ${errorMessage(error)}`);
  }
}

/** A main step that opened a GitHub Deployment and never finished it was cancelled or crashed. */
async function finishGitHubDeployment(): Promise<void> {
  const id = Number(core.getState('gh-deployment-id'));
  if (!id || core.getState('gh-deployment-done') === 'true') return;
  try {
    const inputs = readInputs();
    if (!inputs.githubToken) return;
    const context = readRunContext();
    const target: DeploymentTarget = {
      token: inputs.githubToken,
      environment: core.getState('gh-deployment-environment'),
      app: '',
      namespace: '',
      action: 'deploy',
    };
    const deployment = await GitHubDeployment.resume(id, target, context);
    await deployment?.status(
      'error',
      'the deploy step was cancelled or crashed; see the run log for the state it left',
    );
  } catch (error) {
    core.warning(`post: could not finish GitHub Deployment ${id}: ${errorMessage(error)}`);
  }
}

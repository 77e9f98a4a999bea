// Raw deploy inputs (as the action's inputs or the CLI's flags give them, by their input names)
// into one validated settings object. The action and `adci deploy` both call this, so both
// refuse the same bad values with the same messages, before anything changes.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { InputError, parseDuration } from '@adci/common';
import { parseStringMap } from '@adci/common/structured';
import type { ChecksDocument } from '@adci/probe';
import { ANALYSIS_PLACEHOLDERS, parseAnalysisDocument, requirePrometheus, type AnalysisDocument } from '@adci/analysis';
import type { BlueGreenSettings, DeployAction, RunFacts } from './model.ts';
import { releaseFromManifests } from './release.ts';
import type { TargetSpec } from './targets.ts';
import { findApp, type AppManifests } from './manifests.ts';
import { childProcessExec, readSources, sourceInput, type ExecPort, type SourceInputs } from './sources.ts';

export const DEPLOY_ACTIONS: readonly DeployAction[] = ['deploy', 'promote', 'rollback', 'abort', 'status'];

export const DEPLOY_DEFAULTS = {
  action: 'deploy',
  autoPromote: true,
  postPromotionWindow: '60s',
  scaleDownDelay: '30s',
  abortScaleDownDelay: '0s',
  historyLimit: 10,
  timeout: '10m',
  lockTimeout: '5m',
} as const;

/** Every input of a deploy, as given: the sources (`SourceInputs`) and the rest. */
export interface RawDeployInputs extends SourceInputs {
  /** The Deployment to blue-green when the sources hold several (the others are applied as they are). */
  deployment?: string;
  image?: string;
  container?: string;
  namespace?: string;
  action?: string;
  activeService?: string;
  previewService?: string;
  previewUrl?: string;
  preChecks?: string;
  postChecks?: string;
  preAnalysis?: string;
  postAnalysis?: string;
  prometheusUrl?: string;
  prometheusToken?: string;
  /** A YAML/JSON mapping of placeholder values for the analysis files (`region: eu-west-1`). */
  analysisVars?: string;
  autoPromote?: boolean;
  postPromotionWindow?: string;
  scaleDownDelay?: string;
  timeout?: string;
  lockTimeout?: string;
  dryRun?: boolean;
  /** The preview's size for the pre-promotion checks (a whole number, at most the replica count). */
  previewReplicas?: string;
  abortScaleDownDelay?: string;
  /** rollback only: the stored revision to deploy again. */
  toRevision?: string;
  historyLimit?: string;
}

function wholeNumber(input: string, value: string | undefined, min: number, max: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
    throw new InputError(input, `'${text}' is not a whole number from ${min} to ${max}`);
  return Number(text);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkName(input: string, value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    throw new InputError(
      input,
      `'${value}' is not a valid Kubernetes name (lower-case letters, digits and '-', at most 63)`,
    );
  }
  return value;
}

/** An input's file, relative to the workspace; unreadable is an error naming the input. */
function readInputFile(input: string, file: string, baseDir: string): string {
  const path = isAbsolute(file) ? file : join(baseDir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(input, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

async function readChecks(
  input: string,
  file: string | undefined,
  baseDir: string,
): Promise<ChecksDocument | undefined> {
  if (!file) return undefined;
  const text = readInputFile(input, file, baseDir);
  // The probe package loads only when a checks file is given.
  const { parseChecksDocument } = await import('@adci/probe');
  const document = await parseChecksDocument(text, `${input} ${file}`);
  if (document.checks.length === 0 && !document.load)
    throw new InputError(input, `${file} holds no checks and no load phase`);
  return document;
}

function readAnalysis(
  input: string,
  file: string | undefined,
  baseDir: string,
  vars: Record<string, string>,
): AnalysisDocument | undefined {
  if (!file) return undefined;
  return parseAnalysisDocument(readInputFile(input, file, baseDir), input, file, {
    placeholders: Object.keys(vars),
  });
}

/** The analysis-vars mapping; naming one of the deploy's own placeholders is refused. */
function readAnalysisVars(text: string | undefined): Record<string, string> {
  if (!text?.trim()) return {};
  const vars = parseStringMap(text, 'analysis-vars');
  for (const name of Object.keys(vars)) {
    if ((ANALYSIS_PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new InputError(
        'analysis-vars',
        `'${name}' is the deploy's own value and cannot be overridden ` +
          `(the deploy fills ${ANALYSIS_PLACEHOLDERS.join(', ')}); use another name`,
      );
    }
  }
  return vars;
}

function checkUrl(input: string, value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(input, `'${value}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InputError(input, `must be http or https, not ${url.protocol}`);
  return url.href;
}

/**
 * `defaultNamespace` is the kubeconfig context's namespace (or `default`); `baseDir` resolves
 * relative paths (the workspace); `exec` runs helm or kubectl for a chart or an overlay
 * (sources.ts; default node:child_process).
 */
export async function buildDeploySettings(
  raw: RawDeployInputs,
  baseDir: string,
  defaultNamespace: string,
  run: RunFacts,
  exec: ExecPort = childProcessExec,
  name: (input: string) => string = (input) => input,
): Promise<BlueGreenSettings> {
  try {
    return await validateDeploySettings(raw, baseDir, defaultNamespace, run, exec);
  } catch (error) {
    // Errors are worded with the action's input names; the CLI words them with its flags.
    if (error instanceof InputError && name(error.input) !== error.input) {
      const input = name(error.input);
      throw new InputError(input, error.message.replace(/^Input '[^']*': /, ''));
    }
    throw error;
  }
}

/** The flag of `adci deploy` for each action input (`--<input>` unless named otherwise). */
const DEPLOY_FLAGS: Record<string, string> = {
  'pre-promotion-checks': '--pre-checks',
  'post-promotion-checks': '--post-checks',
  'pre-promotion-analysis': '--pre-analysis',
  'post-promotion-analysis': '--post-analysis',
  'prometheus-token': 'ADCI_PROMETHEUS_TOKEN',
};

/** Names a deploy input as `adci deploy`'s flag, for messages. */
export function deployFlag(input: string): string {
  return DEPLOY_FLAGS[input] ?? (input.startsWith('-') ? input : `--${input}`);
}

async function validateDeploySettings(
  raw: RawDeployInputs,
  baseDir: string,
  defaultNamespace: string,
  run: RunFacts,
  exec: ExecPort,
): Promise<BlueGreenSettings> {
  const actionText = (raw.action || DEPLOY_DEFAULTS.action).toLowerCase();
  if (!DEPLOY_ACTIONS.includes(actionText as DeployAction)) {
    throw new InputError('action', `'${actionText}' is not one of ${DEPLOY_ACTIONS.join(', ')}`);
  }
  const action = actionText as DeployAction;
  const namespace = checkName('namespace', raw.namespace) ?? defaultNamespace;
  const image = raw.image?.trim() || undefined;
  if (image && /\s/.test(image)) throw new InputError('image', `'${image}' is not an image reference`);
  const durations = {
    postPromotionWindowMs: parseDuration(
      raw.postPromotionWindow || DEPLOY_DEFAULTS.postPromotionWindow,
      'post-promotion-window',
    ),
    scaleDownDelayMs: parseDuration(raw.scaleDownDelay || DEPLOY_DEFAULTS.scaleDownDelay, 'scale-down-delay'),
    timeoutMs: parseDuration(raw.timeout || DEPLOY_DEFAULTS.timeout, 'timeout'),
    lockTimeoutMs: parseDuration(raw.lockTimeout || DEPLOY_DEFAULTS.lockTimeout, 'lock-timeout'),
  };
  if (durations.timeoutMs < 1000) throw new InputError('timeout', 'must be at least 1s');
  const previewService = checkName('preview-service', raw.previewService);
  const activeService = checkName('active-service', raw.activeService);
  const app = await readApp(raw, baseDir, namespace, exec);
  const container = raw.container?.trim() || undefined;
  // The image and container are checked against the manifests now, before anything is locked or changed.
  if (action === 'deploy') releaseFromManifests(app, image, container);
  const declared = (app.deployment.object.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  const previewReplicas = wholeNumber('preview-replicas', raw.previewReplicas, 1, 10_000);
  if (previewReplicas !== undefined && previewReplicas > declared && !app.hpa)
    throw new InputError(
      'preview-replicas',
      `${previewReplicas} is more than the ${declared} replicas of Deployment ${app.deployment.object.metadata.name}`,
    );
  const toRevision = wholeNumber('to-revision', raw.toRevision, 1, Number.MAX_SAFE_INTEGER);
  if (toRevision !== undefined && action !== 'rollback')
    throw new InputError('to-revision', `applies to action rollback only (action is ${action})`);
  const historyLimit = wholeNumber('history-limit', raw.historyLimit, 1, 100) ?? DEPLOY_DEFAULTS.historyLimit;
  if (activeService && previewService === activeService)
    throw new InputError('preview-service', 'must differ from active-service');
  if (previewService && app.services.some((s) => s.object.metadata.name === previewService)) {
    throw new InputError(
      'preview-service',
      `'${previewService}' is one of the app's Services in the manifests; name a separate one`,
    );
  }
  return {
    action,
    app,
    namespace,
    image,
    container,
    previewReplicas,
    toRevision,
    historyLimit,
    abortScaleDownDelayMs: parseDuration(
      raw.abortScaleDownDelay || DEPLOY_DEFAULTS.abortScaleDownDelay,
      'abort-scale-down-delay',
    ),
    activeService,
    previewService,
    previewUrl: checkUrl('preview-url', raw.previewUrl),
    preChecks: await readChecks('pre-promotion-checks', raw.preChecks, baseDir),
    postChecks: await readChecks('post-promotion-checks', raw.postChecks, baseDir),
    ...analysisSettings(raw, baseDir),
    autoPromote: raw.autoPromote ?? DEPLOY_DEFAULTS.autoPromote,
    dryRun: raw.dryRun ?? false,
    ...durations,
    run,
  };
}

/** The app from the manifests, chart or overlay; findApp's refusals name that input. */
async function readApp(
  raw: RawDeployInputs,
  baseDir: string,
  namespace: string,
  exec: ExecPort,
): Promise<AppManifests> {
  const objects = await readSources(raw, { namespace, baseDir, exec });
  const input = sourceInput(raw);
  try {
    return findApp(objects, { deployment: checkName('deployment', raw.deployment) });
  } catch (error) {
    if (input !== 'manifests' && error instanceof InputError && error.input === 'manifests')
      throw new InputError(input, error.message.replace(/^Input 'manifests': /, ''));
    throw error;
  }
}

function analysisSettings(
  raw: RawDeployInputs,
  baseDir: string,
): Pick<BlueGreenSettings, 'preAnalysis' | 'postAnalysis' | 'prometheusUrl' | 'prometheusToken' | 'analysisVars'> {
  const analysisVars = readAnalysisVars(raw.analysisVars);
  const preAnalysis = readAnalysis('pre-promotion-analysis', raw.preAnalysis, baseDir, analysisVars);
  const postAnalysis = readAnalysis('post-promotion-analysis', raw.postAnalysis, baseDir, analysisVars);
  const prometheusUrl = checkUrl('prometheus-url', raw.prometheusUrl);
  for (const [input, document] of [
    ['pre-promotion-analysis', preAnalysis],
    ['post-promotion-analysis', postAnalysis],
  ] as const) {
    if (document) requirePrometheus(document, prometheusUrl, input);
  }
  return {
    preAnalysis,
    postAnalysis,
    prometheusUrl,
    prometheusToken: raw.prometheusToken || undefined,
    analysisVars,
  };
}

/** A target's inputs in a release to several clusters: the common inputs with the target's own values. */
export function targetInputs(raw: RawDeployInputs, target: TargetSpec): RawDeployInputs {
  const vars = { ...readAnalysisVarsText(raw.analysisVars), ...target.analysisVars };
  return {
    ...raw,
    namespace: target.namespace ?? raw.namespace,
    previewUrl: target.previewUrl ?? raw.previewUrl,
    preChecks: target.preChecks ?? raw.preChecks,
    postChecks: target.postChecks ?? raw.postChecks,
    analysisVars: Object.keys(vars).length ? JSON.stringify(vars) : undefined,
  };
}

function readAnalysisVarsText(text: string | undefined): Record<string, string> {
  return text?.trim() ? parseStringMap(text, 'analysis-vars') : {};
}

// Every blue-green-deploy input is read here, once. The kubeconfig is masked the moment it is
// read; validation of the rest is the engine's buildDeploySettings, shared with `adci deploy`.
import * as core from '@actions/core';
import { maskUrlPassword, readBoolean, readLines, readString, readText, workspaceDir } from '@adci/action-common';
import { InputError } from '@adci/common';
import type { RawDeployInputs } from '@adci/kube';

export interface DeployInputs {
  raw: RawDeployInputs;
  /** For a GitHub Deployment record (masked). */
  githubToken?: string;
  environment?: string;
  environmentUrl?: string;
  kubeconfig?: string;
  context?: string;
  workspace: string;
  /** A release to several clusters: the targets file (kubeconfigs come from the variables it names). */
  targets?: string;
  /** With targets: the target(s) this step releases (a matrix job of deploy-waves.yml), or reports on. */
  target?: string;
  /** With targets: kubeconfigs by the name a target's kubeconfig-env gives (each masked), before the environment. */
  kubeconfigs?: Record<string, string>;
}

/** Masks the kubeconfig, and each secret-looking line of it, so no part of it reaches the log. */
export function maskKubeconfig(text: string): void {
  core.setSecret(text);
  for (const line of text.split(/\r?\n/)) {
    const match = /["']?(?:client-certificate-data|client-key-data|token|password)["']?\s*:\s*["']?([^"'\s,]+)/.exec(
      line,
    );
    if (match?.[1]) core.setSecret(match[1]);
  }
}

function readUrlMaskingPassword(name: string): string {
  const value = readString(name);
  maskUrlPassword(value);
  return value;
}

/**
 * `kubeconfigs`: a JSON object of kubeconfig contents by the name a target's `kubeconfig-env` gives
 * (one secret for a workflow that cannot name environment variables per target). Every value is
 * masked before anything else; a parse error never repeats the text.
 */
export function parseKubeconfigs(
  text: string,
  mask: (kubeconfig: string) => void = maskKubeconfig,
): Record<string, string> | undefined {
  if (!text.trim()) return undefined;
  core.setSecret(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError(
      'kubeconfigs',
      'must be a JSON object of kubeconfig contents by the name kubeconfig-env gives (not valid JSON)',
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InputError(
      'kubeconfigs',
      'must be a JSON object of kubeconfig contents by the name kubeconfig-env gives',
    );
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'string' || !value.trim())
      throw new InputError('kubeconfigs', `${name}: must be a kubeconfig's contents (a non-empty string)`);
    mask(value);
    out[name] = value;
  }
  return out;
}

function readSecret(name: string): string | undefined {
  const value = core.getInput(name).trim();
  if (value) core.setSecret(value);
  return value || undefined;
}

export function readInputs(): DeployInputs {
  const kubeconfig = core.getInput('kubeconfig');
  if (kubeconfig.trim()) {
    maskKubeconfig(kubeconfig);
    if (!/["']?\b(clusters|apiVersion)["']?\s*:/.test(kubeconfig)) {
      throw new InputError(
        'kubeconfig',
        'must be the contents of a kubeconfig file (YAML with clusters, users and contexts), not a path',
      );
    }
  }
  const githubToken = core.getInput('github-token').trim();
  if (githubToken) core.setSecret(githubToken);
  const environmentUrl = readString('environment-url');
  if (environmentUrl && !/^https?:\/\/[^\s]+$/.test(environmentUrl))
    throw new InputError('environment-url', `must be an http(s) URL, got "${environmentUrl}"`);
  return {
    githubToken: githubToken || undefined,
    environment: readString('environment') || undefined,
    environmentUrl: environmentUrl || undefined,
    kubeconfig: kubeconfig.trim() ? kubeconfig : undefined,
    context: readString('context') || undefined,
    targets: readString('targets') || undefined,
    target: readString('target') || undefined,
    kubeconfigs: parseKubeconfigs(core.getInput('kubeconfigs')),
    workspace: workspaceDir(),
    raw: {
      manifests: readLines('manifests'),
      chart: readString('chart'),
      values: readLines('values'),
      set: readLines('set'),
      releaseName: readString('release-name'),
      kustomize: readString('kustomize'),
      deployment: readString('deployment'),
      image: readString('image'),
      container: readString('container'),
      namespace: readString('namespace'),
      action: readString('action'),
      activeService: readString('active-service'),
      previewService: readString('preview-service'),
      previewUrl: readString('preview-url'),
      preChecks: readString('pre-promotion-checks'),
      postChecks: readString('post-promotion-checks'),
      preAnalysis: readString('pre-promotion-analysis'),
      postAnalysis: readString('post-promotion-analysis'),
      prometheusUrl: readUrlMaskingPassword('prometheus-url'),
      prometheusToken: readSecret('prometheus-token'),
      // A YAML mapping, parsed (and refused, naming the input) by buildDeploySettings.
      analysisVars: readText('analysis-vars'),
      autoPromote: readBoolean('auto-promote', true),
      postPromotionWindow: readString('post-promotion-window'),
      scaleDownDelay: readString('scale-down-delay'),
      timeout: readString('timeout'),
      lockTimeout: readString('lock-timeout'),
      dryRun: readBoolean('dry-run', false),
      previewReplicas: readString('preview-replicas'),
      abortScaleDownDelay: readString('abort-scale-down-delay'),
      toRevision: readString('to-revision'),
      historyLimit: readString('history-limit'),
    },
  };
}

// @adci/kube: blue-green releases on Kubernetes from a CI job (the engine of blue-green-deploy).
export {
  runBlueGreen,
  type BlueGreenSettings,
  type BlueGreenPorts,
  type BlueGreenResult,
  type CheckRunner,
  type DeployAction,
  type DeployOutcome,
  type HistoryEntry,
  type PhaseRecord,
  type RunFacts,
} from './deploy.ts';
export { KubeClient, KubeApiError, FIELD_MANAGER, type KubeObject, type KubeClientOptions } from './client.ts';
export {
  resolveManifestFiles,
  readManifests,
  findApp,
  parseManifestText,
  type AppManifests,
  type SourcedObject,
} from './manifests.ts';
export { releaseLock, leaseName, LockTimeoutError } from './lock.ts';
export { PermissionError } from './permissions.ts';
export { PodStartError } from './readiness.ts';
export { serviceProxyUrl } from './traffic.ts';
export { ANNOTATIONS, COLOR_LABEL, type Color } from './state.ts';
export {
  phaseLine,
  renderMarkdown,
  renderText,
  renderHistoryText,
  renderWavesMarkdown,
  renderWavesText,
} from './render.ts';
export {
  runWaves,
  wavesSelection,
  inspectRelease,
  WAVES_ACTIONS,
  type WavesMode,
  type WavesSelection,
  type ReleaseFound,
  type WavesResult,
  type TargetOutcome,
  type WavesPorts,
  type TargetConnection,
} from './waves.ts';
export { parseTargetsFile, kubeconfigOf, type TargetsFile, type TargetSpec } from './targets.ts';
export type { KubePort } from './port.ts';
export {
  buildDeploySettings,
  deployFlag,
  targetInputs,
  DEPLOY_ACTIONS,
  DEPLOY_DEFAULTS,
  type RawDeployInputs,
} from './settings.ts';
export { createCheckRunner } from './checks.ts';
export { childProcessExec, type ExecOutput, type ExecPort } from './sources.ts';

// The blue-green engine's public vocabulary: settings in, ports, the result out. Kept apart from
// the modules that do the work, so checks, rendering and the steps share types without a cycle.
import type { Clock, Logger } from '@adci/common';
import type { ChecksDocument, SmokeResult } from '@adci/probe';
import type { AnalysisDocument, AnalysisResult } from '@adci/analysis';
import type { HelmAdoption } from './helm.ts';
import type { AppManifests } from './manifests.ts';
import type { CheckRunner, KubePort } from './port.ts';
import type { PodSummary } from './readiness.ts';
import type { Color, Phase } from './state.ts';
import type { EndpointReport } from './traffic.ts';

export type { CheckRunner } from './port.ts';

export type DeployAction = 'deploy' | 'promote' | 'rollback' | 'abort' | 'status';
export type DeployOutcome =
  'promoted' | 'rolled-back' | 'aborted' | 'preview-ready' | 'unchanged' | 'failed' | 'status' | 'planned';

export interface RunFacts {
  commit?: string;
  runUrl?: string;
  /** Who holds the lock, shown to a waiting run: a run URL or user, plus host and pid. */
  holder?: string;
}

/** Runs a metric analysis document for a phase with the deploy's placeholder values. */
export type AnalysisRunner = (
  phase: 'pre' | 'post',
  document: AnalysisDocument,
  vars: Record<string, string | undefined>,
  signal: AbortSignal,
  timeoutMs: number,
) => Promise<AnalysisResult>;

export interface BlueGreenSettings {
  action: DeployAction;
  app: AppManifests;
  namespace: string;
  image?: string;
  container?: string;
  /** The Service that carries the state annotations (default: the manifests' first Service). */
  activeService?: string;
  /** Created and pointed at the new colour; defaulted to `<active>-preview` when pre-promotion checks exist. */
  previewService?: string;
  /** How checks reach the preview; default the API server's service proxy. */
  previewUrl?: string;
  preChecks?: ChecksDocument;
  postChecks?: ChecksDocument;
  /** Metric analyses run alongside the checks of the same phase; a failure counts as a failed check. */
  preAnalysis?: AnalysisDocument;
  postAnalysis?: AnalysisDocument;
  /** Overrides the analysis files' `prometheus:`. */
  prometheusUrl?: string;
  prometheusToken?: string;
  /** The analysis-vars input: placeholder values besides the deploy's own (never one of those). */
  analysisVars?: Record<string, string>;
  autoPromote: boolean;
  /** The preview's size for the pre-promotion checks (default: the full size). */
  previewReplicas?: number;
  postPromotionWindowMs: number;
  scaleDownDelayMs: number;
  /** How long a failed or aborted colour stays up (for debugging) before it is scaled down. */
  abortScaleDownDelayMs: number;
  /** rollback: the stored release to deploy again (through the whole safe sequence). */
  toRevision?: number;
  /** How many releases the history keeps on the cluster. */
  historyLimit: number;
  timeoutMs: number;
  lockTimeoutMs: number;
  dryRun: boolean;
  /**
   * Waves across clusters: after the post-promotion window the release is held (phase `baked`), the
   * previous colour staying up for an instant rollback, until a later run (the same release, without
   * this) drains and scales it down.
   */
  holdPrevious?: boolean;
  /**
   * Waves' finish and rollback (one job of a workflow acting on every target): act only on a target
   * whose active colour holds this release (the manifests and image given). A finish refuses any
   * other; a rollback of a target that does not hold it changes nothing and says what it found.
   */
  guardRelease?: boolean;
  run: RunFacts;
}

export interface BlueGreenPorts {
  kube: KubePort;
  logger?: Logger;
  clock?: Clock;
  signal?: AbortSignal;
  runChecks?: CheckRunner;
  /** Runs a metric analysis (default: @adci/analysis against the settings' Prometheus). */
  runAnalysis?: AnalysisRunner;
  /** Called as each phase starts and ends (the adapter groups its log, the CLI prints progress). */
  onPhase?: (phase: PhaseRecord) => void;
  /** Called once the lock is held, so a post: step can release it after a cancel. */
  onLock?: (lock: { namespace: string; name: string; holder: string }) => void;
  /** Masks secrets in what the engine writes (container logs in a failure): the adapter's redactor. */
  redact?: (text: string) => string;
}

export interface PhaseRecord {
  name: Phase;
  startedAt: number;
  endedAt?: number;
  outcome?: 'ok' | 'failed' | 'skipped' | 'cancelled';
  detail?: string;
}

/** One stored release (a ControllerRevision on the cluster). */
export interface HistoryEntry {
  revision: number;
  image: string;
  commit?: string;
  runUrl?: string;
  /** When the release started (ISO 8601). */
  time: string;
  /** pending while its run is on the way; then promoted, failed, rolled-back, aborted, preview. */
  outcome: string;
  color?: Color;
  /** The content hash: the Deployment as asked for and the configuration it reads. */
  hash: string;
  /** For a rollback to a stored release: the revision it deployed again. */
  rollbackOf?: number;
}

/** Why a colour's container failed: its last termination and log lines (secrets masked). */
export interface ContainerDiagnosis {
  pod: string;
  container: string;
  reason?: string;
  exitCode?: number;
  restarts: number;
  logs: string[];
}

export interface BlueGreenResult {
  action: DeployAction;
  result: DeployOutcome;
  app: string;
  namespace: string;
  activeColor?: Color | 'legacy';
  previousColor?: Color | 'legacy';
  previewColor?: Color;
  revision?: number;
  image?: string;
  previewUrl?: string;
  services: string[];
  /** From apply to available. */
  readySeconds?: number;
  /** From the switch patch to verified endpoints. */
  switchSeconds?: number;
  /** From the last new pod seen Ready to the switch patch answered. */
  switchLatencyMs?: number;
  phases: PhaseRecord[];
  pods: PodSummary[];
  endpoints: EndpointReport[];
  checks: { phase: 'pre' | 'post'; result: SmokeResult }[];
  analyses: { phase: 'pre' | 'post'; result: AnalysisResult }[];
  /** Why the deploy failed or rolled back. */
  error?: string;
  /** The failing container's last termination and log lines. */
  diagnosis?: ContainerDiagnosis;
  /** What a re-run found of an earlier, unfinished run, and what it did about it. */
  recovered?: string;
  /** The lock was waited for: who held it. */
  waitedFor?: string;
  plan?: string[];
  state?: Record<string, string>;
  /** A Helm release that owned the app's objects: what was marked, and what to do with it (helm.ts). */
  helm?: HelmAdoption;
  /** The stored releases, newest first (status, and after every deploy). */
  history?: HistoryEntry[];
  failed: boolean;
}

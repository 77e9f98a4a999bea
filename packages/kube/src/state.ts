// Names of the labels and annotations that carry blue-green state on the cluster itself, so a
// re-run, a rollback, another runner or a person with kubectl can see where things stand.
export const COLOR_LABEL = 'adci.dev/color';
/** On pods of a colour: which deploy created them (never part of a selector). */
export const REVISION_LABEL = 'adci.dev/revision';

export const ANNOTATIONS = {
  /** On every switched Service: the colour its selector points at. */
  activeColor: 'adci.dev/active-color',
  previousColor: 'adci.dev/previous-color',
  /** The colour brought up and not yet promoted (auto-promote: false). */
  previewColor: 'adci.dev/preview-color',
  revision: 'adci.dev/revision',
  phase: 'adci.dev/phase',
  result: 'adci.dev/result',
  commit: 'adci.dev/commit',
  runUrl: 'adci.dev/run-url',
  startedAt: 'adci.dev/started-at',
  /** When traffic moved to the active colour: a re-run finishes the rest of the post-promotion window. */
  switchedAt: 'adci.dev/switched-at',
  /** The release being brought up (before the switch), so a re-run can say what it found. */
  pendingRevision: 'adci.dev/pending-revision',
  updatedAt: 'adci.dev/updated-at',
  /** On colour Deployments: the image and the hash of everything else the manifest asked for. */
  image: 'adci.dev/image',
  specHash: 'adci.dev/spec-hash',
  /** On a legacy Deployment being adopted. */
  adoptedBy: 'adci.dev/adopted-by',
} as const;

export type Color = 'blue' | 'green';
export function isColor(value: unknown): value is Color {
  return value === 'blue' || value === 'green';
}

export function colorName(app: string, color: Color): string {
  return `${app}-${color}`;
}

/** Phases in the order a deploy moves through them. */
export const PHASES = [
  'lock',
  'plan',
  'validate',
  'apply',
  'wait-ready',
  'preview-check',
  'scale-up',
  'preview-ready',
  'switch',
  'verify-endpoints',
  'post-check',
  'hold',
  'drain',
  'scale-down',
  'unlock',
] as const;
export type Phase = (typeof PHASES)[number] | 'rollback' | 'abort' | 'status' | 'permissions';

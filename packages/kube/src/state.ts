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
  updatedAt: 'adci.dev/updated-at',
  /** On colour Deployments: the image and the hash of everything else the manifest asked for. */
  image: 'adci.dev/image',
  specHash: 'adci.dev/spec-hash',
  /** On a legacy Deployment being adopted. */
  adoptedBy: 'adci.dev/adopted-by',
} as const;

export type Color = 'blue' | 'green';
export const COLORS: readonly Color[] = ['blue', 'green'];

export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}

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
  'switch',
  'verify-endpoints',
  'post-check',
  'drain',
  'scale-down',
  'unlock',
] as const;
export type Phase = (typeof PHASES)[number] | 'rollback' | 'abort' | 'status' | 'permissions';

// What a release is: the app's Deployment (image set) and the configuration its pod template
// reads (the ConfigMaps and Secrets of the manifests it references), hashed together, so a
// config-only change is a new release. For a colour, each referenced object becomes a copy that
// belongs to that colour (`<name>-<color>`), and the template is rewritten to read the copy: a
// deploy never changes an object the live colour reads. A PodDisruptionBudget over the app's pods
// becomes one per colour, like the HPA.
import { createHash } from 'node:crypto';
import { COLOR_LABEL, ANNOTATIONS, colorName, type Color } from './state.ts';
import { selectorMatches, type AppManifests, type SourcedObject } from './manifests.ts';
import { imageOf, stableStringify, withImage } from './colors.ts';
import type { KubeObject } from './port.ts';

export const APP_LABEL = 'adci.dev/app';
/** On a colour's configuration copy: the name of the object in the manifests it copies. */
export const COPY_OF_LABEL = 'adci.dev/copy-of';

export type ConfigKind = 'ConfigMap' | 'Secret';
export interface ConfigRef {
  kind: ConfigKind;
  name: string;
}

interface PodSpec {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: Record<string, unknown>[];
  [key: string]: unknown;
}
interface ContainerSpec {
  name: string;
  env?: { name: string; value?: string; valueFrom?: Record<string, { name?: string; key?: string } | undefined> }[];
  envFrom?: { configMapRef?: { name?: string }; secretRef?: { name?: string } }[];
  [key: string]: unknown;
}

export function podSpecOf(deployment: KubeObject): PodSpec {
  return (deployment.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec ?? {};
}

/**
 * Every ConfigMap and Secret the pod template reads, and a way to rename each reference: env
 * `valueFrom`, `envFrom`, and volumes (including projected sources), of containers and init containers.
 * `rename` returns the new name, or undefined to leave a reference as it is.
 */
export function configReferences(spec: PodSpec, rename?: (ref: ConfigRef) => string | undefined): ConfigRef[] {
  const found = new Map<string, ConfigRef>();
  const visit = (kind: ConfigKind, holder: Record<string, unknown> | undefined, key: 'name' | 'secretName'): void => {
    const name = holder?.[key];
    if (!holder || typeof name !== 'string' || !name) return;
    const ref = { kind, name };
    found.set(`${kind}/${name}`, ref);
    const renamed = rename?.(ref);
    if (renamed) holder[key] = renamed;
  };
  for (const container of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const env of container.env ?? []) {
      visit('ConfigMap', env.valueFrom?.configMapKeyRef, 'name');
      visit('Secret', env.valueFrom?.secretKeyRef, 'name');
    }
    for (const from of container.envFrom ?? []) {
      visit('ConfigMap', from.configMapRef, 'name');
      visit('Secret', from.secretRef, 'name');
    }
  }
  for (const volume of spec.volumes ?? []) {
    visit('ConfigMap', volume.configMap as Record<string, unknown> | undefined, 'name');
    visit('Secret', volume.secret as Record<string, unknown> | undefined, 'secretName');
    const projected = volume.projected as
      { sources?: Record<string, Record<string, unknown> | undefined>[] } | undefined;
    for (const source of projected?.sources ?? []) {
      visit('ConfigMap', source.configMap, 'name');
      visit('Secret', source.secret, 'name');
    }
  }
  return [...found.values()];
}

/** A release as asked for, before it is given a colour. */
export interface Release {
  /** The manifest Deployment with the image set. */
  deployment: KubeObject;
  image: string;
  /** The manifests' ConfigMaps and Secrets the pod template reads: versioned with the colour. */
  configs: KubeObject[];
  /** The PodDisruptionBudget over the app's pods: one per colour. */
  pdb?: KubeObject;
  /** References to configuration that is not in the manifests (read as it is on the cluster). */
  external: ConfigRef[];
  /** Everything else in the manifests: applied in place, as it is. */
  others: KubeObject[];
  /** Of the Deployment as asked for and the configuration it reads; replicas aside. */
  hash: string;
}

export function pdbSelects(pdb: KubeObject, podLabels: Record<string, string>): boolean {
  const selector = (pdb.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector;
  return selectorMatches(selector?.matchLabels, podLabels);
}

/** The release the manifests (and image input) describe. */
export function releaseFromManifests(
  app: AppManifests,
  image: string | undefined,
  container: string | undefined,
): Release {
  const deployment = withImage(app.deployment.object, image, container);
  const isConfig = (o: SourcedObject): boolean => o.object.kind === 'ConfigMap' || o.object.kind === 'Secret';
  const refs = configReferences(podSpecOf(deployment));
  const inManifests = (ref: ConfigRef): SourcedObject | undefined =>
    app.others.find((o) => isConfig(o) && o.object.kind === ref.kind && o.object.metadata.name === ref.name);
  const configs = refs.map(inManifests).filter((o): o is SourcedObject => !!o);
  const pdb = app.others.find((o) => o.object.kind === 'PodDisruptionBudget' && pdbSelects(o.object, app.podLabels));
  // Configuration another workload of the manifests also reads (a second Deployment named by
  // `deployment:`, a Job) is applied in place as well, for that workload; the app reads its copy.
  const otherPods = app.others
    .map((o) => ((o.object.spec as { template?: unknown } | undefined)?.template ? podSpecOf(o.object) : undefined))
    .filter((spec): spec is PodSpec => !!spec);
  const sharedRefs = new Set(otherPods.flatMap((spec) => configReferences(spec).map((r) => `${r.kind}/${r.name}`)));
  const others = app.others
    .filter((o) => o !== pdb && (!configs.includes(o) || sharedRefs.has(`${o.object.kind}/${o.object.metadata.name}`)))
    .map((o) => o.object);
  return buildRelease(
    deployment,
    imageOf(deployment, container),
    configs.map((c) => c.object),
    pdb?.object,
    refs.filter((r) => !inManifests(r)),
    others,
  );
}

export function buildRelease(
  deployment: KubeObject,
  image: string,
  configs: KubeObject[],
  pdb: KubeObject | undefined,
  external: ConfigRef[],
  others: KubeObject[],
): Release {
  return { deployment, image, configs, pdb, external, others, hash: releaseHash(deployment, configs) };
}

/** What a configuration object holds (its name and content), for the hash. */
function configContent(object: KubeObject): unknown {
  const { data, binaryData, stringData, type, immutable } = object as Record<string, unknown>;
  return { kind: object.kind, name: object.metadata.name, data, binaryData, stringData, type, immutable };
}

/** Hash of what the user asked for: the Deployment (spec with the image, labels, annotations) and its configuration. */
export function releaseHash(deployment: KubeObject, configs: KubeObject[]): string {
  const spec = structuredClone(deployment.spec as Record<string, unknown>);
  delete spec.replicas;
  const basis = {
    spec,
    labels: deployment.metadata.labels ?? {},
    annotations: deployment.metadata.annotations ?? {},
    configs: configs.map(configContent).sort((a, b) => stableStringify(a).localeCompare(stableStringify(b))),
  };
  return createHash('sha256').update(stableStringify(basis)).digest('hex').slice(0, 16);
}

export function copyName(name: string, color: Color): string {
  return colorName(name, color).slice(0, 253);
}

/** A colour's copy of a configuration object: `<name>-<color>`, labelled with the app and colour. */
export function colorConfig(object: KubeObject, app: string, color: Color, revision: number, hash: string): KubeObject {
  const copy = structuredClone(object);
  copy.metadata = {
    name: copyName(object.metadata.name, color),
    labels: {
      ...object.metadata.labels,
      [APP_LABEL]: app,
      [COLOR_LABEL]: color,
      [COPY_OF_LABEL]: object.metadata.name,
    },
    annotations: {
      ...object.metadata.annotations,
      [ANNOTATIONS.revision]: String(revision),
      [ANNOTATIONS.specHash]: hash,
    },
  };
  return copy;
}

/** The pod template rewritten to read the colour's copies of the versioned configuration. */
export function readCopies(deployment: KubeObject, configs: KubeObject[], color: Color): KubeObject {
  const copy = structuredClone(deployment);
  const versioned = new Set(configs.map((c) => `${c.kind}/${c.metadata.name}`));
  configReferences(podSpecOf(copy), (ref) =>
    versioned.has(`${ref.kind}/${ref.name}`) ? copyName(ref.name, color) : undefined,
  );
  return copy;
}

/** One PodDisruptionBudget per colour, selecting only that colour's pods. */
export function colorPdb(pdb: KubeObject, color: Color): KubeObject {
  const copy = structuredClone(pdb);
  copy.metadata = {
    name: colorName(pdb.metadata.name, color),
    labels: { ...pdb.metadata.labels, [COLOR_LABEL]: color },
    annotations: pdb.metadata.annotations,
  };
  const spec = copy.spec as { selector?: { matchLabels?: Record<string, string> } };
  spec.selector = { ...spec.selector, matchLabels: { ...spec.selector?.matchLabels, [COLOR_LABEL]: color } };
  return copy;
}

/** The plan's lines about configuration: which objects move with the colour and which are applied in place. */
export function describeConfiguration(release: Release, color: Color): string[] {
  return [
    ...release.configs.map(
      (c) => `version ${c.kind}/${c.metadata.name} as ${copyName(c.metadata.name, color)} (read by the pod template)`,
    ),
    ...release.external.map(
      (r) => `${r.kind}/${r.name} is read by the pod template but not in the manifests: used as it is on the cluster`,
    ),
    ...(release.pdb ? [`PodDisruptionBudget/${release.pdb.metadata.name} -> one per colour`] : []),
    ...release.others.map((o) => `apply ${o.kind}/${o.metadata.name} in place (not read by the pod template)`),
  ];
}

// Turns the manifests' one Deployment (and HPA) into a colour's objects: `<name>-<color>` with
// the colour in its selector and pod template from its creation (selectors are immutable), the
// image set, and the annotations that let a later run recognise an unchanged release.
import { createHash } from 'node:crypto';
import { InputError } from '@adci/common';
import type { KubeObject } from './client.ts';
import { ANNOTATIONS, COLOR_LABEL, REVISION_LABEL, colorName, type Color } from './state.ts';

interface Container {
  name: string;
  image?: string;
}

interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: { containers: Container[] };
  };
  [key: string]: unknown;
}

const clone = <T>(value: T): T => structuredClone(value);

/** The manifest Deployment with the image set on the chosen container. */
export function withImage(
  deployment: KubeObject,
  image: string | undefined,
  container: string | undefined,
): KubeObject {
  const copy = clone(deployment);
  const containers = (copy.spec as DeploymentSpec).template.spec.containers;
  const target = container ? containers.find((c) => c.name === container) : containers[0];
  if (!target) {
    throw new InputError(
      'container',
      `no container '${container}' in Deployment ${deployment.metadata.name} (it has: ${containers.map((c) => c.name).join(', ')})`,
    );
  }
  if (image) target.image = image;
  if (!target.image) {
    throw new InputError(
      'image',
      `is required: container '${target.name}' of Deployment ${deployment.metadata.name} has no image`,
    );
  }
  return copy;
}

export function imageOf(deployment: KubeObject, container: string | undefined): string {
  const containers = (deployment.spec as DeploymentSpec | undefined)?.template?.spec?.containers ?? [];
  const target = container ? containers.find((c) => c.name === container) : containers[0];
  return target?.image ?? '';
}

export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hash of what the user asked for (spec with the image, labels, annotations), replicas aside. */
export function specHash(deployment: KubeObject): string {
  const spec = clone(deployment.spec as DeploymentSpec);
  delete spec.replicas;
  const basis = { spec, labels: deployment.metadata.labels ?? {}, annotations: deployment.metadata.annotations ?? {} };
  return createHash('sha256').update(stableStringify(basis)).digest('hex').slice(0, 16);
}

export interface ColorDeploymentOptions {
  color: Color;
  replicas: number;
  revision: number;
  image: string;
  hash: string;
}

/** `<name>-<color>`: the colour in labels, selector and pod template; state in annotations. */
export function colorDeployment(deployment: KubeObject, options: ColorDeploymentOptions): KubeObject {
  const copy = clone(deployment);
  const app = deployment.metadata.name;
  const spec = copy.spec as DeploymentSpec;
  spec.replicas = options.replicas;
  spec.selector = { matchLabels: { ...spec.selector.matchLabels, [COLOR_LABEL]: options.color } };
  spec.template.metadata = {
    ...spec.template.metadata,
    labels: {
      ...spec.template.metadata?.labels,
      [COLOR_LABEL]: options.color,
      [REVISION_LABEL]: String(options.revision),
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: colorName(app, options.color),
      labels: { ...deployment.metadata.labels, [COLOR_LABEL]: options.color },
      annotations: {
        ...deployment.metadata.annotations,
        [ANNOTATIONS.image]: options.image,
        [ANNOTATIONS.revision]: String(options.revision),
        [ANNOTATIONS.specHash]: options.hash,
      },
    },
    spec,
  };
}

/** One HPA per colour, retargeted at that colour's Deployment. */
export function colorHpa(hpa: KubeObject, app: string, color: Color): KubeObject {
  const copy = clone(hpa);
  copy.metadata = {
    name: colorName(hpa.metadata.name, color),
    labels: { ...hpa.metadata.labels, [COLOR_LABEL]: color },
    annotations: hpa.metadata.annotations,
  };
  const spec = copy.spec as { scaleTargetRef: { name: string } };
  spec.scaleTargetRef = { ...spec.scaleTargetRef, name: colorName(app, color) };
  return copy;
}

/** A Service from the manifests with its selector pointing at `color` (the only key adci owns). */
export function serviceFor(service: KubeObject, color: Color, annotations: Record<string, string>): KubeObject {
  const copy = clone(service);
  const spec = copy.spec as { selector: Record<string, string> };
  spec.selector = { ...spec.selector, [COLOR_LABEL]: color };
  copy.metadata = {
    name: service.metadata.name,
    labels: service.metadata.labels,
    annotations: { ...service.metadata.annotations, ...annotations },
  };
  return copy;
}

/** The preview Service: the active Service's ports, pointed at the colour under test, ClusterIP only. */
export function previewServiceFor(
  active: KubeObject,
  name: string,
  color: Color,
  podLabels: Record<string, string>,
): KubeObject {
  const ports = ((active.spec as { ports?: Record<string, unknown>[] }).ports ?? []).map((p) => {
    const { nodePort: _nodePort, ...rest } = p;
    return rest;
  });
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      labels: { 'app.kubernetes.io/managed-by': 'adci' },
      annotations: { [ANNOTATIONS.previewColor]: color },
    },
    spec: { type: 'ClusterIP', selector: { ...podLabels, [COLOR_LABEL]: color }, ports },
  };
}

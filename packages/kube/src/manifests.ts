// Reads the user's manifests (files or globs, multi-document YAML) and finds the app in them:
// exactly one Deployment, the Services that select its pods, an HPA that targets it, and
// everything else to apply alongside. Every rejection names the file and line.
import { globSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { InputError } from '@adci/common';
import { supportedKind, type KubeObject } from './client.ts';
import { COLOR_LABEL } from './state.ts';

export interface SourcedObject {
  object: KubeObject;
  file: string;
  line: number;
}

export interface AppManifests {
  deployment: SourcedObject;
  services: SourcedObject[];
  hpa?: SourcedObject;
  /** ConfigMaps, Secrets, PDBs, ServiceAccounts … applied as they are before the new colour. */
  others: SourcedObject[];
  /** The Deployment's pod template labels, without the colour. */
  podLabels: Record<string, string>;
}

const INPUT = 'manifests';

/** Expands the input's lines (paths or globs, `#` comments) into files, in the order given. */
export function resolveManifestFiles(patterns: string[], baseDir: string): string[] {
  const files: string[] = [];
  for (const pattern of patterns) {
    const matches = /[*?[{]/.test(pattern) ? globSync(pattern, { cwd: baseDir }).sort() : [pattern];
    if (matches.length === 0) throw new InputError(INPUT, `'${pattern}' matches no file`);
    for (const match of matches) {
      const file = isAbsolute(match) ? match : join(baseDir, match);
      const stat = statSync(file, { throwIfNoEntry: false });
      if (!stat) throw new InputError(INPUT, `'${match}' does not exist`);
      if (!stat.isFile()) throw new InputError(INPUT, `'${match}' is not a file`);
      if (!files.includes(file)) files.push(file);
    }
  }
  if (files.length === 0) throw new InputError(INPUT, 'names no file');
  return files;
}

export function parseManifestText(text: string, file: string): SourcedObject[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const out: SourcedObject[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) {
      const pos = lineCounter.linePos(error.pos[0]);
      throw new InputError(INPUT, `${file}:${pos.line}:${pos.col}: invalid YAML: ${error.message.split('\n')[0]}`);
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    const line = doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]).line : 1;
    if (value === null || value === undefined) continue;
    const at = `${file}:${line}`;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new InputError(INPUT, `${at}: a document must be a Kubernetes object (a mapping)`);
    }
    const object = value as KubeObject;
    if (object.kind === 'List' && Array.isArray(object.items)) {
      for (const item of object.items as KubeObject[]) out.push(...checkObject(item, file, line));
      continue;
    }
    out.push(...checkObject(object, file, line));
  }
  return out;
}

function checkObject(object: KubeObject, file: string, line: number): SourcedObject[] {
  const at = `${file}:${line}`;
  if (typeof object.apiVersion !== 'string' || !object.apiVersion) {
    throw new InputError(INPUT, `${at}: the document has no apiVersion`);
  }
  if (typeof object.kind !== 'string' || !object.kind) throw new InputError(INPUT, `${at}: the document has no kind`);
  const name = (object.metadata as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || !name) throw new InputError(INPUT, `${at}: the ${object.kind} has no metadata.name`);
  if (!supportedKind(object.kind)) {
    throw new InputError(INPUT, `${at}: kind ${object.kind} (${name}) is not one blue-green-deploy applies`);
  }
  return [{ object, file, line }];
}

export function readManifests(files: string[], baseDir: string): SourcedObject[] {
  const objects: SourcedObject[] = [];
  for (const file of files) {
    const shown = relative(baseDir, file) || file;
    objects.push(...parseManifestText(readFileSync(file, 'utf8'), shown.startsWith('..') ? file : shown));
  }
  if (objects.length === 0) throw new InputError(INPUT, 'the files hold no Kubernetes object');
  return objects;
}

export function selectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => key === COLOR_LABEL || labels[key] === value);
}

const at = (o: SourcedObject): string => `${o.file}:${o.line}`;

/**
 * Finds the app: exactly one Deployment (or the one named by `deployment`, the others then applied
 * as they are), its Services and HPA; rejects what cannot be deployed.
 */
export function findApp(objects: SourcedObject[], options: { deployment?: string } = {}): AppManifests {
  const deployments = objects.filter((o) => o.object.kind === 'Deployment');
  if (deployments.length === 0) {
    throw new InputError(INPUT, `no Deployment in the manifests (found: ${describe(objects)})`);
  }
  const named = options.deployment ? deployments.filter((d) => d.object.metadata.name === options.deployment) : [];
  if (options.deployment && named.length === 0) {
    throw new InputError(
      'deployment',
      `no Deployment ${options.deployment} in the manifests (found: ${deployments.map((d) => d.object.metadata.name).join(', ')})`,
    );
  }
  if (!options.deployment && deployments.length > 1) {
    throw new InputError(
      INPUT,
      `more than one Deployment (${deployments.map((d) => `${d.object.metadata.name} at ${at(d)}`).join(', ')}); ` +
        'blue-green-deploy ships one app per step: name the one to blue-green with deployment',
    );
  }
  const deployment = (named[0] ?? deployments[0]) as SourcedObject;
  // Services of the other Deployments (when one is named) are applied as they are.
  const otherPods = deployments
    .filter((d) => d !== deployment)
    .map(
      (d) =>
        (d.object.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template
          ?.metadata?.labels ?? {},
    );
  const spec = deployment.object.spec as
    | {
        selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
        template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: unknown[] } };
      }
    | undefined;
  const podLabels = { ...(spec?.template?.metadata?.labels ?? {}) };
  delete podLabels[COLOR_LABEL];
  if (Object.keys(podLabels).length === 0) {
    throw new InputError(
      INPUT,
      `${at(deployment)}: Deployment ${deployment.object.metadata.name} has no pod template labels`,
    );
  }
  if (spec?.selector?.matchExpressions?.length) {
    throw new InputError(INPUT, `${at(deployment)}: spec.selector.matchExpressions is not supported; use matchLabels`);
  }
  const matchLabels = spec?.selector?.matchLabels ?? {};
  if (!selectorMatches(matchLabels, podLabels)) {
    throw new InputError(INPUT, `${at(deployment)}: spec.selector.matchLabels does not match the pod template labels`);
  }
  if (!Array.isArray(spec?.template?.spec?.containers) || spec.template.spec.containers.length === 0) {
    throw new InputError(INPUT, `${at(deployment)}: the Deployment has no containers`);
  }
  const services: SourcedObject[] = [];
  for (const o of objects.filter((x) => x.object.kind === 'Service')) {
    const selector = (o.object.spec as { selector?: Record<string, string> } | undefined)?.selector;
    if (!selectorMatches(selector, podLabels) && otherPods.some((labels) => selectorMatches(selector, labels)))
      continue;
    if (!selector || Object.keys(selector).length === 0) {
      throw new InputError(
        INPUT,
        `${at(o)}: Service ${o.object.metadata.name} has no selector; blue-green-deploy switches traffic by selector`,
      );
    }
    if (!selectorMatches(selector, podLabels)) {
      throw new InputError(
        INPUT,
        `${at(o)}: Service ${o.object.metadata.name} selects nothing of Deployment ${deployment.object.metadata.name} ` +
          `(selector ${JSON.stringify(selector)}, pod labels ${JSON.stringify(podLabels)})`,
      );
    }
    services.push(o);
  }
  if (services.length === 0) {
    throw new InputError(INPUT, `no Service selects the pods of Deployment ${deployment.object.metadata.name}`);
  }
  const name = deployment.object.metadata.name;
  const hpas = objects.filter((o) => o.object.kind === 'HorizontalPodAutoscaler');
  const hpa = hpas.find(
    (o) => (o.object.spec as { scaleTargetRef?: { kind?: string; name?: string } })?.scaleTargetRef?.name === name,
  );
  const others = objects.filter((o) => o !== deployment && !services.includes(o) && o !== hpa);
  return { deployment, services, hpa, others, podLabels };
}

function describe(objects: SourcedObject[]): string {
  return objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`).join(', ') || 'nothing';
}

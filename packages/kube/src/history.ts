// The release history on the cluster: one apps/v1 ControllerRevision per release (the object
// Kubernetes keeps a StatefulSet's or DaemonSet's revisions in), named `<app>-adci-<revision>`,
// holding the Deployment as asked for and its ConfigMaps; the Secrets it read are kept in a Secret
// of the same name, never in the revision (a ControllerRevision is readable by anyone who may read
// apps). The outcome and facts are annotations (a revision's data is immutable); the newest
// `limit` are kept, older ones are deleted with their Secret.
import { isStatus } from './client.ts';
import { APP_LABEL, buildRelease, releaseHash, type ConfigRef, type Release } from './release.ts';
import { ANNOTATIONS, isColor } from './state.ts';
import type { HistoryEntry, RunFacts } from './model.ts';
import type { KubeObject, KubePort } from './port.ts';

const HISTORY_LABEL = 'adci.dev/history';
const A = {
  outcome: 'adci.dev/outcome',
  time: 'adci.dev/time',
  color: 'adci.dev/color',
  rollbackOf: 'adci.dev/rollback-of',
} as const;

interface RevisionObject extends KubeObject {
  revision?: number;
  data?: {
    deployment?: KubeObject;
    configMaps?: KubeObject[];
    secrets?: string[];
    external?: ConfigRef[];
    pdb?: KubeObject;
  };
}

export function revisionName(app: string, revision: number): string {
  return `${app}-adci-${revision}`.slice(0, 253);
}

const selector = (app: string): string => `${APP_LABEL}=${app},${HISTORY_LABEL}=true`;

function entryOf(object: RevisionObject): HistoryEntry {
  const a = object.metadata.annotations ?? {};
  const color = a[A.color];
  return {
    revision: Number(object.revision ?? 0),
    image: a[ANNOTATIONS.image] ?? '',
    commit: a[ANNOTATIONS.commit] || undefined,
    runUrl: a[ANNOTATIONS.runUrl] || undefined,
    time: a[A.time] ?? object.metadata.creationTimestamp ?? '',
    outcome: a[A.outcome] ?? 'unknown',
    color: isColor(color) ? color : undefined,
    hash: a[ANNOTATIONS.specHash] ?? '',
    rollbackOf: a[A.rollbackOf] ? Number(a[A.rollbackOf]) : undefined,
  };
}

/** The stored releases, newest first. */
export async function listHistory(kube: KubePort, namespace: string, app: string): Promise<HistoryEntry[]> {
  const listed = await kube.list<RevisionObject>('ControllerRevision', namespace, { labelSelector: selector(app) });
  return listed.items.map(entryOf).sort((a, b) => b.revision - a.revision);
}

export interface RecordOptions {
  revision: number;
  color: string;
  time: string;
  run: RunFacts;
  rollbackOf?: number;
}

/** Stores a release as `pending`; its Secrets go into a Secret of the same name. */
export async function recordRelease(
  kube: KubePort,
  namespace: string,
  app: string,
  release: Release,
  options: RecordOptions,
): Promise<void> {
  const name = revisionName(app, options.revision);
  const labels = { [APP_LABEL]: app, [HISTORY_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'adci' };
  const annotations: Record<string, string> = {
    [ANNOTATIONS.image]: release.image,
    [ANNOTATIONS.specHash]: release.hash,
    [A.outcome]: 'pending',
    [A.time]: options.time,
    [A.color]: options.color,
  };
  if (options.run.commit) annotations[ANNOTATIONS.commit] = options.run.commit;
  if (options.run.runUrl) annotations[ANNOTATIONS.runUrl] = options.run.runUrl;
  if (options.rollbackOf !== undefined) annotations[A.rollbackOf] = String(options.rollbackOf);
  const secrets = release.configs.filter((c) => c.kind === 'Secret');
  const configMaps = release.configs.filter((c) => c.kind === 'ConfigMap');
  if (secrets.length) {
    await kube.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, labels, annotations: { [ANNOTATIONS.revision]: String(options.revision) } },
        type: 'Opaque',
        data: { 'secrets.json': Buffer.from(JSON.stringify(secrets)).toString('base64') },
      },
      namespace,
    );
  }
  const object: RevisionObject = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: { name, labels, annotations },
    revision: options.revision,
    data: {
      deployment: release.deployment,
      configMaps,
      secrets: secrets.map((s) => s.metadata.name),
      external: release.external,
      ...(release.pdb ? { pdb: release.pdb } : {}),
    },
  };
  try {
    await kube.create(object, namespace);
  } catch (error) {
    // A revision of that number from a run that never finished: its data is immutable, so replace it.
    if (!isStatus(error, 409)) throw error;
    await kube.delete('ControllerRevision', namespace, name);
    await kube.create(object, namespace);
  }
}

/** Sets a stored release's outcome (best effort is the caller's choice). */
export async function setOutcome(
  kube: KubePort,
  namespace: string,
  app: string,
  revision: number,
  outcome: string,
): Promise<void> {
  await kube.mergePatch('ControllerRevision', namespace, revisionName(app, revision), {
    metadata: { annotations: { [A.outcome]: outcome } },
  });
}

/** A stored release, ready to deploy again; undefined when that revision is not kept. */
export async function readRelease(
  kube: KubePort,
  namespace: string,
  app: string,
  revision: number,
): Promise<{ release: Release; entry: HistoryEntry } | undefined> {
  const object = await kube.get<RevisionObject>('ControllerRevision', namespace, revisionName(app, revision));
  if (!object?.data?.deployment) return undefined;
  const entry = entryOf(object);
  let secrets: KubeObject[] = [];
  if (object.data.secrets?.length) {
    const holder = await kube.get<KubeObject & { data?: Record<string, string> }>(
      'Secret',
      namespace,
      revisionName(app, revision),
    );
    const text = holder?.data?.['secrets.json'];
    if (!text)
      throw new Error(
        `revision ${revision}'s Secrets (${object.data.secrets.join(', ')}) are no longer stored; it cannot be deployed again`,
      );
    secrets = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as KubeObject[];
  }
  const configs = [...(object.data.configMaps ?? []), ...secrets];
  const release = buildRelease(
    object.data.deployment,
    entry.image,
    configs,
    object.data.pdb,
    object.data.external ?? [],
    [],
  );
  if (entry.hash && releaseHash(release.deployment, configs) !== entry.hash)
    throw new Error(`revision ${revision} does not match its recorded hash; it cannot be deployed again`);
  return { release, entry };
}

/** Deletes all but the newest `limit` revisions (and their Secrets). */
export async function pruneHistory(kube: KubePort, namespace: string, app: string, limit: number): Promise<number> {
  const entries = await listHistory(kube, namespace, app);
  const old = entries.slice(Math.max(1, limit));
  await Promise.all(
    old.flatMap((entry) => [
      kube.delete('ControllerRevision', namespace, revisionName(app, entry.revision)),
      kube.delete('Secret', namespace, revisionName(app, entry.revision)),
    ]),
  );
  return old.length;
}

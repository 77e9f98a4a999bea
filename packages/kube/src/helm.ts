// A live Helm release under the app: detection (Helm's ownership labels and annotations on the live
// Deployment and Services), the marks that keep a later `helm uninstall` of that release away from
// the objects adci now serves traffic with, and what the summary tells the team.
//
// `helm uninstall` deletes what the release's *stored manifest* lists, and skips only the objects
// whose manifest there carries `helm.sh/resource-policy: keep` (Helm's pkg/action/uninstall.go,
// filterManifestsToKeep); the live object's annotation counts only for `helm upgrade`. So both are
// marked: the live objects (merge patch), and every revision of the release record (a Secret, or a
// ConfigMap with HELM_DRIVER=configmap: base64 of gzipped JSON, helm's own encoding), replaced with
// its resourceVersion so a concurrent helm write is never overwritten.
import type * as Zlib from 'node:zlib';
import { parseDocument } from 'yaml';
import { errorMessage } from '@adci/common';
import type { KubeObject, KubePort } from './port.ts';

/** node:zlib, loaded by the first release record read: a run without a Helm release never loads it. */
const zlib = (): typeof Zlib => process.getBuiltinModule('node:zlib');

export const HELM_MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const HELM_RELEASE_NAME = 'meta.helm.sh/release-name';
export const HELM_RELEASE_NAMESPACE = 'meta.helm.sh/release-namespace';
export const HELM_RESOURCE_POLICY = 'helm.sh/resource-policy';

export interface HelmOwnership {
  release: string;
  namespace: string;
  /** `Kind/name` of the live objects the release claims. */
  objects: string[];
}

/** The Helm release that owns any of these live objects (the first found), or undefined. */
export function helmOwnership(live: (KubeObject | undefined)[]): HelmOwnership | undefined {
  let owner: HelmOwnership | undefined;
  for (const object of live) {
    if (!object) continue;
    const release = object.metadata.annotations?.[HELM_RELEASE_NAME];
    if (!release || object.metadata.labels?.[HELM_MANAGED_BY_LABEL] !== 'Helm') continue;
    const namespace = object.metadata.annotations?.[HELM_RELEASE_NAMESPACE] ?? object.metadata.namespace ?? '';
    owner ??= { release, namespace, objects: [] };
    if (owner.release === release && owner.namespace === namespace)
      owner.objects.push(`${object.kind ?? 'Object'}/${object.metadata.name}`);
  }
  return owner;
}

/** The merge patch that keeps a live object through `helm upgrade` of its old release. */
export function keepPatch(): { metadata: { annotations: Record<string, string> } } {
  return { metadata: { annotations: { [HELM_RESOURCE_POLICY]: 'keep' } } };
}

// ── the release record ───────────────────────────────────────────────────────────────────────

interface HelmRelease {
  name?: string;
  version?: number;
  manifest?: string;
  [key: string]: unknown;
}

/** Helm's storage encoding: base64 of gzipped JSON (older records: base64 of JSON). */
export function decodeHelmRelease(encoded: string): HelmRelease {
  const bytes = Buffer.from(encoded, 'base64');
  const json = bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib().gunzipSync(bytes) : bytes;
  return JSON.parse(json.toString('utf8')) as HelmRelease;
}

export function encodeHelmRelease(release: HelmRelease): string {
  const { gzipSync, constants } = zlib();
  return gzipSync(JSON.stringify(release), { level: constants.Z_BEST_COMPRESSION }).toString('base64');
}

/**
 * The stored manifest with `helm.sh/resource-policy: keep` on the listed objects (`Kind/name`);
 * the other documents, and each document's `# Source:` line, are left as they are. Returns the
 * manifest and the objects newly marked.
 */
export function markKeptInManifest(manifest: string, keep: string[]): { manifest: string; marked: string[] } {
  const marked: string[] = [];
  // Helm splits its manifests on `---` lines (releaseutil.SplitManifests); so does this.
  const parts = manifest.split(/^---[ \t]*$/m);
  const out = parts.map((part) => {
    if (!part.trim()) return part;
    const doc = parseDocument(part);
    if (doc.errors.length > 0) return part;
    const kind: unknown = doc.get('kind');
    const name: unknown = doc.getIn(['metadata', 'name']);
    if (typeof kind !== 'string' || typeof name !== 'string' || !keep.includes(`${kind}/${name}`)) return part;
    if (doc.getIn(['metadata', 'annotations', HELM_RESOURCE_POLICY]) === 'keep') return part;
    if (!doc.getIn(['metadata', 'annotations'])) doc.setIn(['metadata', 'annotations'], doc.createNode({}));
    doc.setIn(['metadata', 'annotations', HELM_RESOURCE_POLICY], 'keep');
    marked.push(`${kind}/${name}`);
    return `\n${doc.toString({ lineWidth: 0 })}`;
  });
  return { manifest: out.join('---'), marked };
}

export interface HelmAdoption extends HelmOwnership {
  /** Objects marked keep in the release record (every revision) and live. */
  kept: string[];
  /** Revisions of the record found (0 when the release is gone: uninstalled already). */
  revisions: number;
  /** Why the marks could not be written (a warning names it); undefined when they were. */
  error?: string;
  /** What the team should do with the old release, for the summary and a warning; none once it is gone. */
  advice?: string;
}

interface RecordObject extends KubeObject {
  data?: Record<string, string>;
}

/**
 * Marks `keep` (objects adci applies and serves with, `Kind/name`) in every stored revision of the
 * release and on the live objects, and says what to do with the release. Best effort: a failure
 * (e.g. no permission on Secrets) is returned as `error` with advice that does not rely on the marks.
 */
export async function adoptHelmRelease(
  kube: KubePort,
  ownership: HelmOwnership,
  keep: string[],
  oldDeployment: string,
): Promise<HelmAdoption> {
  const { release, namespace } = ownership;
  const selector = { labelSelector: `owner=helm,name=${release}` };
  let revisions = 0;
  try {
    for (const kind of ['Secret', 'ConfigMap'] as const) {
      const records = await kube.list<RecordObject>(kind, namespace, selector);
      for (const record of records.items) {
        const stored = record.data?.release;
        if (!stored) continue;
        revisions++;
        // A Secret's data is base64 of helm's own base64 string; a ConfigMap's is that string.
        const encoded = kind === 'Secret' ? Buffer.from(stored, 'base64').toString('utf8') : stored;
        const decoded = decodeHelmRelease(encoded);
        const { manifest, marked } = markKeptInManifest(decoded.manifest ?? '', keep);
        if (marked.length === 0) continue;
        const reencoded = encodeHelmRelease({ ...decoded, manifest });
        await kube.replace(
          {
            ...record,
            kind,
            apiVersion: 'v1',
            data: {
              ...record.data,
              release: kind === 'Secret' ? Buffer.from(reencoded).toString('base64') : reencoded,
            },
          },
          namespace,
        );
      }
    }
    if (revisions > 0) {
      // The live marks only guard against a later `helm upgrade` dropping them; best effort.
      for (const object of keep) {
        const [kind, name] = object.split('/') as [string, string];
        await kube.mergePatch(kind, namespace, name, keepPatch()).catch(() => undefined);
      }
    }
  } catch (error) {
    return {
      ...ownership,
      kept: [],
      revisions,
      error: errorMessage(error),
      advice: retireAdvice(ownership, oldDeployment, false),
    };
  }
  // No record left: the release was uninstalled (the kept objects keep Helm's annotations); nothing to say.
  if (revisions === 0) return { ...ownership, kept: [], revisions };
  return { ...ownership, kept: keep, revisions, advice: retireAdvice(ownership, oldDeployment, true) };
}

/** What the team should do with the old release. */
export function retireAdvice(ownership: HelmOwnership, oldDeployment: string, kept: boolean): string {
  const { release, namespace } = ownership;
  if (kept) {
    return (
      `Helm release ${release} (namespace ${namespace}) still owns ${ownership.objects.join(', ')}: adci now serves its traffic. ` +
      `Retire the release: \`helm uninstall ${release} -n ${namespace}\` (the objects adci took over are marked ${HELM_RESOURCE_POLICY}: keep ` +
      `in the release and live, so only the old Deployment ${oldDeployment}, already scaled to 0, is deleted). ` +
      `Never \`helm upgrade\` it again: it would fight adci over the Service selector and scale ${oldDeployment} back up.`
    );
  }
  return (
    `Helm release ${release} (namespace ${namespace}) still owns ${ownership.objects.join(', ')}, and adci could not mark them ` +
    `${HELM_RESOURCE_POLICY}: keep in its record, so \`helm uninstall ${release}\` would delete the Service that now carries traffic. ` +
    `Retire it without deleting anything: \`kubectl -n ${namespace} delete secret,configmap -l owner=helm,name=${release}\` ` +
    `(Helm's record only), then \`kubectl -n ${namespace} delete deployment ${oldDeployment}\`.`
  );
}

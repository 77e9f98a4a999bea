// Before anything changes: can this user do every verb the plan needs? One
// SelfSubjectAccessReview per need, all at once; a missing one names verb, resource and namespace.
import type { KubeClient } from './client.ts';

export interface PermissionNeed {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

export class PermissionError extends Error {
  readonly missing: PermissionNeed[];
  constructor(namespace: string, missing: PermissionNeed[]) {
    const list = missing
      .map((n) => `${n.verb} ${n.resource}${n.subresource ? `/${n.subresource}` : ''}${n.group ? `.${n.group}` : ''}`)
      .join(', ');
    super(`the Kubernetes user may not ${list} in namespace ${namespace}; nothing was changed`);
    this.name = 'PermissionError';
    this.missing = missing;
  }
}

export async function checkPermissions(kube: KubeClient, namespace: string, needs: PermissionNeed[]): Promise<void> {
  const unique = [
    ...new Map(needs.map((n) => [`${n.verb} ${n.group} ${n.resource} ${n.subresource ?? ''}`, n])).values(),
  ];
  const answers = await Promise.all(
    unique.map((n) => kube.canI(n.verb, n.group, n.resource, namespace, n.subresource)),
  );
  const missing = unique.filter((_, i) => !answers[i]);
  if (missing.length > 0) throw new PermissionError(namespace, missing);
}

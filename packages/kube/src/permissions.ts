// Before anything changes: can this user do every verb the plan needs? One
// SelfSubjectAccessReview per need, all at once; a missing one names verb, resource and namespace.
import type { KubePort, ResourceRule } from './port.ts';

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

const covers = (list: string[] | undefined, value: string): boolean =>
  !!list && (list.includes('*') || list.includes(value));

export function allowedByRules(rules: ResourceRule[], need: PermissionNeed): boolean {
  const resource = need.subresource ? `${need.resource}/${need.subresource}` : need.resource;
  return rules.some(
    (rule) =>
      covers(rule.verbs, need.verb) &&
      covers(rule.apiGroups, need.group) &&
      covers(rule.resources, resource) &&
      !rule.resourceNames?.length,
  );
}

/**
 * One SelfSubjectRulesReview answers most needs in a single request; what it cannot vouch for
 * (an authorizer that does not list its rules) is asked with a SelfSubjectAccessReview each.
 */
export async function checkPermissions(kube: KubePort, namespace: string, needs: PermissionNeed[]): Promise<void> {
  const unique = [
    ...new Map(needs.map((n) => [`${n.verb} ${n.group} ${n.resource} ${n.subresource ?? ''}`, n])).values(),
  ];
  const rules = await kube.rulesReview(namespace);
  const unknown = unique.filter((n) => !allowedByRules(rules, n));
  const answers = await Promise.all(
    unknown.map((n) => kube.canI(n.verb, n.group, n.resource, namespace, n.subresource)),
  );
  const missing = unknown.filter((_, i) => !answers[i]);
  if (missing.length > 0) throw new PermissionError(namespace, missing);
}

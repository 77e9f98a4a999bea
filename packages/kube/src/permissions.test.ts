// Unit tests of permissions.ts: the RBAC rules a SelfSubjectRulesReview returns, matched against a request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedByRules } from './permissions.ts';

test('allowedByRules: verbs, groups, resources and subresources, wildcards, never resourceNames', () => {
  const rules = [
    { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'services', 'services/proxy'] },
    { verbs: ['*'], apiGroups: ['apps'], resources: ['deployments'] },
    { verbs: ['update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['x'] },
  ];
  assert.equal(allowedByRules(rules, { verb: 'watch', group: '', resource: 'pods' }), true);
  assert.equal(allowedByRules(rules, { verb: 'patch', group: '', resource: 'services' }), false);
  assert.equal(allowedByRules(rules, { verb: 'get', group: '', resource: 'services', subresource: 'proxy' }), true);
  assert.equal(allowedByRules(rules, { verb: 'create', group: 'apps', resource: 'deployments' }), true);
  assert.equal(allowedByRules(rules, { verb: 'update', group: 'coordination.k8s.io', resource: 'leases' }), false);
});

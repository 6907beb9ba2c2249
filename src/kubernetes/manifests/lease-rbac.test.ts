import { Lease } from 'kubernetes-models/coordination.k8s.io/v1/Lease';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { validate } from '../testing/validate.js';
import { controllerLease, formatMicroTime, leaseExpired } from './lease.js';
import { CONTROLLER_CLUSTER_RULES, controllerRbac, type PolicyRule } from './rbac.js';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s, 250));

describe('the controller Lease', () => {
  it('is a valid coordination.k8s.io/v1 Lease named topas-controller with MicroTime times', () => {
    const lease = controllerLease({ namespace: 'topas-system', holderIdentity: 'topas-0_ab12', acquireTime: t(0), renewTime: t(5), leaseTransitions: 2, resourceVersion: '42' });
    validate(Lease, lease);
    expect(lease).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'topas-controller', namespace: 'topas-system', labels: { 'app.kubernetes.io/managed-by': 'topas' }, resourceVersion: '42' },
      spec: { holderIdentity: 'topas-0_ab12', leaseDurationSeconds: 15, acquireTime: '2026-01-01T00:00:00.250000Z', renewTime: '2026-01-01T00:00:05.250000Z', leaseTransitions: 2 },
    });
    expect(formatMicroTime(t(1))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('expires leaseDurationSeconds after its last renewal', () => {
    const spec = controllerLease({ namespace: 'n', holderIdentity: 'a', acquireTime: t(0), renewTime: t(10), leaseTransitions: 0 }).spec;
    expect(leaseExpired(spec, t(24))).toBe(false);
    expect(leaseExpired(spec, t(25))).toBe(true);
    expect(leaseExpired({ renewTime: new Date(t(10)), leaseDurationSeconds: 5 }, t(16))).toBe(true);
    expect(leaseExpired(undefined, t(0))).toBe(true);
  });
});

describe('the controller RBAC', () => {
  const objects = controllerRbac();
  const models = { ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding } as const;

  it('is valid ServiceAccount, ClusterRole(+Binding) and Role(+Binding) objects bound to one ServiceAccount', () => {
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    for (const o of objects) validate(models[o.kind as keyof typeof models], o);
    for (const o of objects.filter((o) => 'subjects' in o)) expect((o as { subjects: unknown }).subjects).toEqual([{ kind: 'ServiceAccount', name: 'topas-controller', namespace: 'topas-system' }]);
  });

  const allows = (rules: readonly PolicyRule[], group: string, resource: string, verb: string, name?: string) =>
    rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb) && (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))));

  it('allows what the controller does, and no reading of Secrets in bulk', () => {
    const needed: [string, string, string][] = [
      ['topas.dev', 'testruns', 'watch'],
      ['topas.dev', 'testruns', 'update'],
      ['topas.dev', 'testruns', 'delete'],
      ['topas.dev', 'testruns/status', 'update'],
      ['topas.dev', 'testruns/finalizers', 'update'],
      ['', 'pods', 'create'],
      ['', 'pods', 'watch'],
      ['', 'pods', 'delete'],
      ['', 'configmaps', 'create'],
      ['', 'configmaps', 'get'],
      ['', 'secrets', 'create'],
      ['', 'secrets', 'get'],
      ['', 'events', 'create'],
    ];
    for (const [g, r, v] of needed) expect(allows(CONTROLLER_CLUSTER_RULES, g, r, v), `${v} ${g}/${r}`).toBe(true);
    expect(allows(CONTROLLER_CLUSTER_RULES, '', 'secrets', 'list')).toBe(false);
    expect(allows(CONTROLLER_CLUSTER_RULES, '', 'secrets', 'watch')).toBe(false);
    expect(allows(CONTROLLER_CLUSTER_RULES, 'coordination.k8s.io', 'leases', 'update')).toBe(false);
    const role = objects.find((o) => o.kind === 'Role') as unknown as { rules: PolicyRule[] };
    expect(allows(role.rules, 'coordination.k8s.io', 'leases', 'update', 'topas-controller')).toBe(true);
    expect(allows(role.rules, 'coordination.k8s.io', 'leases', 'update', 'someone-else')).toBe(false);
  });
});

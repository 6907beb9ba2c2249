/**
 * What the topas controller may do in a cluster, and nothing more: read and finish
 * TestRuns in every namespace, make and remove each run's Pod, ConfigMap and token
 * Secret, read the Secrets and ConfigMaps a TestRun names (`envFrom`, `files`), record
 * Events, and hold its leader-election Lease in its own namespace.
 */
import { TESTRUN_GROUP, TESTRUN_PLURAL } from '../../core/testrun.js';
import { MANAGED_BY_LABELS } from './labels.js';
import { CONTROLLER_LEASE_NAME } from './lease.js';

export const CONTROLLER_NAME = 'topas-controller';
export const DEFAULT_CONTROLLER_NAMESPACE = 'topas-system';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Cluster-wide: TestRuns in every namespace and the objects of their runs. */
export const CONTROLLER_CLUSTER_RULES: readonly PolicyRule[] = [
  // Watch TestRuns, add/remove the finalizer (update), delete finished ones (ttlSecondsAfterFinished).
  { apiGroups: [TESTRUN_GROUP], resources: [TESTRUN_PLURAL], verbs: ['get', 'list', 'watch', 'update', 'patch', 'delete'] },
  { apiGroups: [TESTRUN_GROUP], resources: [`${TESTRUN_PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
  // Owner references with blockOwnerDeletion need update on the owner's finalizers subresource.
  { apiGroups: [TESTRUN_GROUP], resources: [`${TESTRUN_PLURAL}/finalizers`], verbs: ['update'] },
  // Runner Pods: made, watched for their outcome, removed on cancel; logs when a runner crashed before reporting.
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  // Source ConfigMaps (made, removed) and the `files`/`envFrom` ConfigMaps a TestRun names (read).
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create', 'delete'] },
  // Token Secrets (made, removed) and the `envFrom` Secrets a TestRun names (read). No list or watch.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'delete'] },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
];

/** In the controller's namespace: its leader-election Lease. */
export const CONTROLLER_LEASE_RULES: readonly PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update', 'patch'], resourceNames: [CONTROLLER_LEASE_NAME] },
];

export interface RbacOptions {
  /** Where topas runs. Default {@link DEFAULT_CONTROLLER_NAMESPACE}. */
  namespace?: string;
  /** Its ServiceAccount. Default {@link CONTROLLER_NAME}. */
  serviceAccountName?: string;
}

const copy = (rules: readonly PolicyRule[]) => rules.map((r) => ({ ...r, apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs], ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}) }));

/** ServiceAccount, ClusterRole + binding, and Role + binding for the Lease. */
export function controllerRbac(o: RbacOptions = {}) {
  const namespace = o.namespace ?? DEFAULT_CONTROLLER_NAMESPACE;
  const sa = o.serviceAccountName ?? CONTROLLER_NAME;
  const labels = { ...MANAGED_BY_LABELS };
  const subject = [{ kind: 'ServiceAccount', name: sa, namespace }];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace, labels } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: CONTROLLER_NAME, labels }, rules: copy(CONTROLLER_CLUSTER_RULES) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: CONTROLLER_NAME, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CONTROLLER_NAME },
      subjects: subject,
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: `${CONTROLLER_NAME}-leader-election`, namespace, labels }, rules: copy(CONTROLLER_LEASE_RULES) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${CONTROLLER_NAME}-leader-election`, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${CONTROLLER_NAME}-leader-election` },
      subjects: subject,
    },
  ];
}

/**
 * What the topas controller may do in a cluster, and nothing more: read and finish
 * TestRuns in every namespace, make and remove each run's Pod, ConfigMap and token
 * Secret, read the Secrets and ConfigMaps a TestRun names (`envFrom`, `files`), record
 * Events, and hold its leader-election Lease in its own namespace. The App controller
 * ({@link APP_CONTROLLER_RULES}) adds what it needs to run Apps' services and databases.
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

/**
 * The App controller (cluster-wide, like TestRuns): it reads Apps and writes their status,
 * and `PUT`/`DELETE /api/apps` write the resource itself; it keeps each App's children
 * (Deployment + Service per service; StatefulSet + Service + credentials Secret + init
 * Job and its ConfigMap per database) at the spec and prunes removed ones; `sut.restart`
 * patches a Deployment, `sut.kill` deletes a Pod (covered by the Pod rule above).
 * PersistentVolumeClaims (the StatefulSet's, made by Kubernetes) are only read, for status.
 */
export const APP_CONTROLLER_RULES: readonly PolicyRule[] = [
  { apiGroups: [TESTRUN_GROUP], resources: ['apps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [TESTRUN_GROUP], resources: ['apps/status'], verbs: ['get', 'update', 'patch'] },
  // Children carry an owner reference with blockOwnerDeletion to their App.
  { apiGroups: [TESTRUN_GROUP], resources: ['apps/finalizers'], verbs: ['update'] },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  // Init Jobs run once per database and initSQL; never updated (a changed initSQL is a new Job name).
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'watch'] },
  // Credentials Secrets and init ConfigMaps are put back when edited by hand (the rules above read, make and
  // remove them; they are read by name, never listed or watched, so no Secret is readable in bulk).
  { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['update', 'patch'] },
];

/** Everything the controller may do cluster-wide: TestRuns and Apps. */
export const CONTROLLER_RULES: readonly PolicyRule[] = [...CONTROLLER_CLUSTER_RULES, ...APP_CONTROLLER_RULES];

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

export const copyRules = (rules: readonly PolicyRule[]) => rules.map((r) => ({ ...r, apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs], ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}) }));

/** ServiceAccount, ClusterRole + binding, and Role + binding for the Lease. */
export function controllerRbac(o: RbacOptions = {}) {
  const namespace = o.namespace ?? DEFAULT_CONTROLLER_NAMESPACE;
  const sa = o.serviceAccountName ?? CONTROLLER_NAME;
  const labels = { ...MANAGED_BY_LABELS };
  const subject = [{ kind: 'ServiceAccount', name: sa, namespace }];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace, labels } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: CONTROLLER_NAME, labels }, rules: copyRules(CONTROLLER_RULES) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: CONTROLLER_NAME, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CONTROLLER_NAME },
      subjects: subject,
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: `${CONTROLLER_NAME}-leader-election`, namespace, labels }, rules: copyRules(CONTROLLER_LEASE_RULES) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${CONTROLLER_NAME}-leader-election`, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${CONTROLLER_NAME}-leader-election` },
      subjects: subject,
    },
  ];
}

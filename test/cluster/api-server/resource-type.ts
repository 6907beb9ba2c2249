/**
 * What the server knows about one kind of resource at one group/version: its names
 * (the discovery entry), its scope, its subresources, and for custom resources the
 * schema and printer columns of the CRD version that defines it.
 */
import type { JsonObject } from './errors.js';
import { eventFromCore, eventToCore } from './event-conversion.js';

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** `status`, `log`, `binding`… served under `<name>/<subresource>`. */
  subresources: string[];
  /** Whether `status` is a subresource: writes to the main endpoint keep the stored status. */
  hasStatus: boolean;
  /** Whether `metadata.generation` is kept (custom resources and CRDs). */
  tracksGeneration: boolean;
  /** Whether strategic merge patch is accepted (built-in kinds only, as on the real server). */
  strategicMerge: boolean;
  /** The CRD version's `openAPIV3Schema` (custom resources only). */
  schema?: JsonObject;
  /** The CRD version's `additionalPrinterColumns` (custom resources only). */
  printerColumns?: PrinterColumn[];
  /** Objects of all versions of one group/plural share this key in the store (events.k8s.io Events share core's). */
  storageKey: string;
  /** For a kind stored in another API's form (events.k8s.io Events): to and from the stored form. */
  conversion?: { toStored(obj: JsonObject): JsonObject; fromStored(obj: JsonObject): JsonObject };
}

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface BuiltinSpec {
  group?: string;
  version?: string;
  kind: string;
  plural: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  subresources?: string[];
  generation?: boolean;
  verbs?: string[];
}

function builtin(spec: BuiltinSpec): ResourceType {
  const group = spec.group ?? '';
  const subresources = spec.subresources ?? [];
  return {
    group,
    version: spec.version ?? 'v1',
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    namespaced: spec.namespaced ?? true,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    verbs: spec.verbs ?? allVerbs,
    subresources,
    hasStatus: subresources.includes('status'),
    tracksGeneration: spec.generation ?? false,
    strategicMerge: group !== 'apiextensions.k8s.io',
    storageKey: group ? `${spec.plural}.${group}` : spec.plural,
  };
}

/** The built-in kinds this server serves. */
export function builtinTypes(): ResourceType[] {
  return [
    builtin({ kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'] }),
    builtin({ kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], subresources: ['status'] }),
    builtin({ kind: 'Pod', plural: 'pods', shortNames: ['po'], categories: ['all'], subresources: ['status', 'log', 'binding'] }),
    builtin({ kind: 'ConfigMap', plural: 'configmaps', shortNames: ['cm'] }),
    builtin({ kind: 'Secret', plural: 'secrets' }),
    builtin({ kind: 'Service', plural: 'services', shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
    builtin({ kind: 'ServiceAccount', plural: 'serviceaccounts', shortNames: ['sa'], subresources: ['token'] }),
    // Written by the endpoints controller (test/cluster/controllers/endpoints-controller.ts).
    builtin({ kind: 'Endpoints', plural: 'endpoints', shortNames: ['ep'] }),
    builtin({ group: 'discovery.k8s.io', kind: 'EndpointSlice', plural: 'endpointslices' }),
    builtin({ kind: 'Event', plural: 'events', shortNames: ['ev'] }),
    { ...builtin({ group: 'events.k8s.io', kind: 'Event', plural: 'events', shortNames: ['ev'] }), storageKey: 'events', conversion: { toStored: eventToCore, fromStored: eventFromCore } },
    builtin({ group: 'coordination.k8s.io', kind: 'Lease', plural: 'leases' }),
    // apps/v1 workloads run by the test cluster's controllers (test/cluster/controllers).
    builtin({ group: 'apps', kind: 'Deployment', plural: 'deployments', shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'], generation: true }),
    builtin({ group: 'apps', kind: 'ReplicaSet', plural: 'replicasets', shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'], generation: true }),
    // StatefulSets, Jobs and PersistentVolumeClaims (their controllers: ../controllers).
    builtin({ kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', shortNames: ['pvc'], subresources: ['status'] }),
    builtin({ group: 'apps', kind: 'StatefulSet', plural: 'statefulsets', shortNames: ['sts'], categories: ['all'], subresources: ['status'], generation: true }),
    builtin({ group: 'batch', kind: 'Job', plural: 'jobs', categories: ['all'], subresources: ['status'], generation: true }),
    builtin({
      group: 'apiextensions.k8s.io',
      kind: 'CustomResourceDefinition',
      plural: 'customresourcedefinitions',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      subresources: ['status'],
      generation: true,
    }),
    ...rbacTypes(),
  ];
}

/** RBAC objects, and the reviews answered about the caller (create only, never stored): see `rbac-authorizer.ts`, `access-reviews.ts`. */
function rbacTypes(): ResourceType[] {
  const rbac = 'rbac.authorization.k8s.io';
  const review = { namespaced: false, verbs: ['create'] };
  return [
    builtin({ group: rbac, kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false }),
    builtin({ group: rbac, kind: 'ClusterRole', plural: 'clusterroles', namespaced: false }),
    builtin({ group: rbac, kind: 'RoleBinding', plural: 'rolebindings' }),
    builtin({ group: rbac, kind: 'Role', plural: 'roles' }),
    builtin({ group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', ...review }),
    builtin({ group: 'authorization.k8s.io', kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', ...review }),
    builtin({ group: 'authentication.k8s.io', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', ...review }),
  ];
}

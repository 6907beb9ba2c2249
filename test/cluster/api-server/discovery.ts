/**
 * Discovery, built from the registry on each request so a new CRD shows up at
 * once: the legacy documents (`/api`, `/api/v1`, `/apis`, `/apis/<group>`,
 * `/apis/<group>/<version>`) and aggregated discovery (`apidiscovery.k8s.io/v2`,
 * all resources in one response at `/api` and `/apis`), which kubectl 1.32 asks
 * for first.
 */
import type { JsonObject } from './errors.js';
import type { ResourceRegistry } from './registry.js';
import type { ResourceType } from './resource-type.js';

const subresourceEntries: Record<string, { kind?: string; group?: string; version?: string; verbs: string[] }> = {
  status: { verbs: ['get', 'patch', 'update'] },
  log: { verbs: ['get'] },
  binding: { kind: 'Binding', verbs: ['create'] },
  finalize: { verbs: ['update'] },
  token: { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
};

function resourceEntries(t: ResourceType): JsonObject[] {
  const main: JsonObject = { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs };
  if (t.shortNames.length) main.shortNames = t.shortNames;
  if (t.categories.length) main.categories = t.categories;
  return [
    main,
    ...t.subresources.map((s) => {
      const e = subresourceEntries[s];
      return { name: `${t.plural}/${s}`, singularName: '', namespaced: t.namespaced, ...(e.group ? { group: e.group, version: e.version } : {}), kind: e.kind ?? t.kind, verbs: e.verbs };
    }),
  ];
}

export function apiVersions(serverAddress: string): JsonObject {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function resourceList(registry: ResourceRegistry, group: string, version: string): JsonObject | undefined {
  const types = registry.all().filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: types.flatMap(resourceEntries) };
}

function groupDoc(name: string, versions: string[]): JsonObject {
  const gv = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gv, preferredVersion: gv[0] };
}

export function groupList(registry: ResourceRegistry): JsonObject {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map((g) => groupDoc(g.name, g.versions)) };
}

export function group(registry: ResourceRegistry, name: string): JsonObject | undefined {
  const g = registry.groups().find((x) => x.name === name);
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.name, g.versions) };
}

/** The content type of an aggregated discovery response. */
export const aggregatedContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Whether the client accepts aggregated discovery v2 (kubectl 1.32 and client-go do). */
export function wantsAggregated(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => /g=apidiscovery\.k8s\.io/.test(part) && /v=v2(;|$)/.test(part) && /as=APIGroupDiscoveryList/.test(part));
}

function resourceDiscovery(t: ResourceType): JsonObject {
  const kind = { group: t.group, version: t.version, kind: t.kind };
  const entry: JsonObject = { resource: t.plural, responseKind: kind, scope: t.namespaced ? 'Namespaced' : 'Cluster', singularResource: t.singular, verbs: t.verbs };
  if (t.shortNames.length) entry.shortNames = t.shortNames;
  if (t.categories.length) entry.categories = t.categories;
  if (t.subresources.length) {
    entry.subresources = t.subresources.map((s) => {
      const e = subresourceEntries[s];
      return { subresource: s, responseKind: { group: e.group ?? t.group, version: e.version ?? t.version, kind: e.kind ?? t.kind }, verbs: e.verbs };
    });
  }
  return entry;
}

/** `/api` (core only) or `/apis` (every other group) as one APIGroupDiscoveryList. */
export function aggregatedDiscovery(registry: ResourceRegistry, core: boolean): JsonObject {
  const groups = core ? [{ name: '', versions: ['v1'] }] : registry.groups();
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: groups.map((g) => ({
      metadata: g.name ? { name: g.name } : {},
      versions: g.versions.map((version) => ({
        version,
        resources: registry
          .all()
          .filter((t) => t.group === g.name && t.version === version)
          .map(resourceDiscovery),
        freshness: 'Current',
      })),
    })),
  };
}

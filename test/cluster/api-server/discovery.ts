/**
 * Legacy discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/<group>`,
 * `/apis/<group>/<version>`), built from the registry on each request so a new
 * CRD shows up at once. Aggregated discovery (`as=APIGroupDiscoveryList`) is not
 * served: those requests get the legacy document with a plain JSON content type,
 * and kubectl / client-go fall back to legacy discovery.
 */
import type { JsonObject } from './errors.js';
import type { ResourceRegistry } from './registry.js';
import type { ResourceType } from './resource-type.js';

const subresourceEntries: Record<string, { kind?: string; group?: string; version?: string; verbs: string[] }> = {
  status: { verbs: ['get', 'patch', 'update'] },
  log: { verbs: ['get'] },
  binding: { kind: 'Binding', verbs: ['create'] },
  finalize: { verbs: ['update'] },
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

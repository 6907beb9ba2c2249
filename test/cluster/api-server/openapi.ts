/**
 * Just enough OpenAPI for kubectl: `/openapi/v3` lists one document per
 * group/version, and each document declares, per kind, a PATCH operation that
 * accepts `fieldValidation` (tagged with `x-kubernetes-group-version-kind`), which
 * is how kubectl decides that the server validates fields itself
 * (`--validate=strict` then sends `fieldValidation=Strict`). The schemas are
 * permissive stubs: kubectl falls back to its compiled-in types for strategic
 * merge patches, and `kubectl explain` shows nothing useful.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from './errors.js';
import type { ResourceRegistry } from './registry.js';
import type { ResourceType } from './resource-type.js';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function groupVersions(registry: ResourceRegistry): { group: string; version: string }[] {
  const out: { group: string; version: string }[] = [];
  for (const t of registry.all()) if (!out.some((x) => x.group === t.group && x.version === t.version)) out.push({ group: t.group, version: t.version });
  return out;
}

function docFor(types: ResourceType[]): JsonObject {
  const paths: JsonObject = {};
  const schemas: JsonObject = {};
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const prefix = `/${gvPath(t.group, t.version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}/{name}`;
    const params = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }));
    const op = (id: string) => ({
      operationId: `${id}${t.kind}`,
      parameters: params,
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${t.group || 'core'}.${t.version}.${t.kind}` } } } } },
      'x-kubernetes-action': id === 'patch' ? 'patch' : 'put',
      'x-kubernetes-group-version-kind': gvk,
    });
    paths[prefix] = { patch: op('patch'), put: op('replace') };
    schemas[`${t.group || 'core'}.${t.version}.${t.kind}`] = {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      'x-kubernetes-group-version-kind': [gvk],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } };
}

export function openApiV3Root(registry: ResourceRegistry): JsonObject {
  const paths: JsonObject = {};
  for (const { group, version } of groupVersions(registry)) {
    const doc = JSON.stringify(docFor(registry.all().filter((t) => t.group === group && t.version === version)));
    const hash = createHash('sha512').update(doc).digest('hex').slice(0, 64).toUpperCase();
    paths[gvPath(group, version)] = { serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}` };
  }
  return { paths };
}

export function openApiV3Group(registry: ResourceRegistry, path: string): JsonObject | undefined {
  const gv = groupVersions(registry).find((x) => gvPath(x.group, x.version) === path);
  return gv && docFor(registry.all().filter((t) => t.group === gv.group && t.version === gv.version));
}

export function openApiV2(registry: ResourceRegistry): JsonObject {
  const doc = { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {}, definitions: {} as JsonObject };
  for (const t of registry.all()) {
    doc.definitions[`${t.group || 'core'}.${t.version}.${t.kind}`] = { type: 'object', 'x-kubernetes-group-version-kind': [{ group: t.group, version: t.version, kind: t.kind }] };
  }
  return doc;
}

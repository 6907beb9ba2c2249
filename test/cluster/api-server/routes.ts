/**
 * The URL space: discovery, /version, health, OpenAPI, and every resource path
 * (`/api/v1[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]`, the same under
 * `/apis/<group>/<version>`) dispatched to the verb it means.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { reviewKinds, serveReview, serveTokenRequest, type AuthContext } from './access-reviews.js';
import { aggregatedContentType, aggregatedDiscovery, apiVersions, group, groupList, resourceList, wantsAggregated } from './discovery.js';
import { ApiError, badRequest, methodNotAllowed, type JsonObject } from './errors.js';
import { ok, readBody, sendJson, sendText, wantsTable } from './http-io.js';
import type { DeleteOptions, FieldValidation, ObjectService, PatchType } from './object-service.js';
import { openApiV2, openApiV3Group, openApiV3Root } from './openapi.js';
import { servePodLog } from './pod-logs.js';
import { scaleOf, writeScale } from './scale.js';
import { apiVersionOf, type ResourceType } from './resource-type.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { toTable, type IncludeObject } from './tables.js';
import { serveWatch } from './watch.js';

export interface RouteContext {
  service: ObjectService;
  logDir: string;
  serverAddress: string;
  bookmarkIntervalMs: number;
  logPollMs: number;
  /** The caller (authenticated and authorized for this request already). */
  auth: AuthContext;
  /** Checks a write of this caller beyond its verb (RBAC escalation); throws to refuse. */
  admit?: (type: ResourceType, obj: JsonObject) => void;
}

interface ResourcePath {
  type: ResourceType;
  /** Undefined for cluster-scoped kinds and for lists across all namespaces. */
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
}

const patchTypes: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

function parseResourcePath(ctx: RouteContext, group: string, version: string, segs: string[]): ResourcePath {
  const registry = ctx.service.registry;
  let watch = false;
  if (segs[0] === 'watch') {
    watch = true;
    segs = segs.slice(1);
  }
  let namespace: string | undefined;
  if (segs[0] === 'namespaces' && segs.length >= 3) {
    const t = registry.find(group, version, segs[2]);
    if (t?.namespaced) {
      namespace = segs[1];
      segs = segs.slice(2);
    }
  }
  const type = registry.find(group, version, segs[0]);
  if (!type || segs.length > 3) throw notFoundPath();
  if (namespace === undefined && type.namespaced && segs.length > 1) throw notFoundPath();
  const subresource = segs[2];
  if (subresource && !type.subresources.includes(subresource)) throw notFoundPath();
  return { type, namespace, name: segs[1], subresource, watch };
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid value for ${name}: ${v}`);
  return n;
}

function fieldValidation(q: URLSearchParams): FieldValidation | undefined {
  const v = q.get('fieldValidation');
  if (!v) return undefined;
  if (!['Strict', 'Warn', 'Ignore'].includes(v)) throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
  return v as FieldValidation;
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

export async function route(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const segs = url.pathname.split('/').filter(Boolean);
  const method = req.method ?? 'GET';
  const { registry } = ctx.service;

  if (url.pathname === '/version') {
    return sendJson(res, 200, {
      major: '1',
      minor: '32',
      gitVersion: 'v1.32.0-topas-test',
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '2026-01-01T00:00:00Z',
      goVersion: 'go1.23.0',
      compiler: 'gc',
      platform: 'linux/amd64',
    });
  }
  if (['/healthz', '/readyz', '/livez'].includes(url.pathname)) return sendText(res, 200, 'ok');
  if (segs[0] === 'openapi') {
    if (segs[1] === 'v2') return sendJson(res, 200, openApiV2(registry));
    if (segs[1] === 'v3' && segs.length === 2) return sendJson(res, 200, openApiV3Root(registry));
    if (segs[1] === 'v3') {
      const doc = openApiV3Group(registry, segs.slice(2).join('/'));
      if (doc) return sendJson(res, 200, doc);
    }
    throw notFoundPath();
  }
  const aggregated = wantsAggregated(req.headers.accept);
  if (segs[0] === 'api') {
    if (segs.length === 1) {
      if (aggregated) return sendJson(res, 200, aggregatedDiscovery(registry, true), [], aggregatedContentType);
      return sendJson(res, 200, apiVersions(ctx.serverAddress));
    }
    if (segs[1] !== 'v1') throw notFoundPath();
    if (segs.length === 2) return sendJson(res, 200, resourceList(registry, '', 'v1'));
    return resource(ctx, req, res, url, parseResourcePath(ctx, '', 'v1', segs.slice(2)), method);
  }
  if (segs[0] === 'apis') {
    if (segs.length === 1) {
      if (aggregated) return sendJson(res, 200, aggregatedDiscovery(registry, false), [], aggregatedContentType);
      return sendJson(res, 200, groupList(registry));
    }
    if (segs.length === 2) {
      const g = group(registry, segs[1]);
      if (!g) throw notFoundPath();
      return sendJson(res, 200, g);
    }
    if (segs.length === 3) {
      const list = resourceList(registry, segs[1], segs[2]);
      if (!list) throw notFoundPath();
      return sendJson(res, 200, list);
    }
    return resource(ctx, req, res, url, parseResourcePath(ctx, segs[1], segs[2], segs.slice(3)), method);
  }
  throw notFoundPath();
}

async function resource(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, url: URL, p: ResourcePath, method: string): Promise<void> {
  const { service } = ctx;
  const { type } = p;
  const q = url.searchParams;
  const ns = p.namespace ?? '';
  const dryRunParam = q.get('dryRun');
  if (dryRunParam && dryRunParam !== 'All') throw badRequest(`dryRun: Unsupported value: "${dryRunParam}": supported values: "All"`);
  const dryRun = dryRunParam === 'All';
  const options = { fieldValidation: fieldValidation(q), subresource: p.subresource, dryRun, admit: ctx.admit };
  if (reviewKinds.includes(type.kind)) {
    if (method !== 'POST' || p.name !== undefined) throw methodNotAllowed();
    return serveReview(ctx.auth, type.kind, apiVersionOf(type), req, res);
  }

  if (p.name === undefined) {
    if (method === 'GET') {
      const labels = parseLabelSelector(q.get('labelSelector'));
      const fields = parseFieldSelector(q.get('fieldSelector'), type);
      const matches = (o: JsonObject) => labels(o) && fields(o);
      const watch = p.watch || q.get('watch') === 'true' || q.get('watch') === '1';
      if (watch) {
        return serveWatch(service, res, {
          type,
          namespace: p.namespace,
          matches,
          resourceVersion: q.get('resourceVersion') ?? undefined,
          allowBookmarks: q.get('allowWatchBookmarks') === 'true',
          timeoutSeconds: intParam(q, 'timeoutSeconds'),
          table: wantsTable(req) ? includeObject(q) : undefined,
          bookmarkIntervalMs: ctx.bookmarkIntervalMs,
        });
      }
      return list(ctx, req, res, type, p.namespace, matches, q);
    }
    if (method === 'POST') {
      if (type.namespaced && p.namespace === undefined) throw methodNotAllowed();
      const result = service.create(type, ns, await readBody(req), options);
      return sendJson(res, 201, service.present(type, result.object), result.warnings);
    }
    if (method === 'DELETE') {
      const labels = parseLabelSelector(q.get('labelSelector'));
      const fields = parseFieldSelector(q.get('fieldSelector'), type);
      const deleted = service.store
        .list(type.storageKey, type.namespaced ? p.namespace : undefined)
        .filter((o) => labels(o) && fields(o))
        .map((o) => service.delete(type, o.metadata.namespace ?? '', o.metadata.name, { ...deleteOptions(q, undefined), dryRun }));
      return sendJson(res, 200, { kind: type.listKind, apiVersion: apiVersionOf(type), metadata: {}, items: deleted.map((o) => service.present(type, o)) });
    }
    throw methodNotAllowed();
  }

  const name = p.name;
  if (p.subresource === 'log') {
    if (method !== 'GET') throw methodNotAllowed();
    return servePodLog(service, res, {
      type,
      namespace: ns,
      name,
      container: q.get('container') ?? undefined,
      follow: q.get('follow') === 'true',
      tailLines: intParam(q, 'tailLines'),
      limitBytes: intParam(q, 'limitBytes'),
      logDir: ctx.logDir,
      pollMs: ctx.logPollMs,
    });
  }
  if (p.subresource === 'binding') {
    if (method !== 'POST') throw methodNotAllowed();
    const body = (await readBody(req)) as JsonObject;
    const pod = service.get(type, ns, name);
    if (pod.spec?.nodeName) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    const next = structuredClone(pod);
    next.spec.nodeName = body?.target?.name;
    service.store.put(type.storageKey, next, 'MODIFIED');
    return sendJson(res, 201, ok());
  }
  if (p.subresource === 'token') {
    if (method !== 'POST') throw methodNotAllowed();
    return serveTokenRequest(ctx.auth, service.store, ns, name, req, res);
  }
  if (p.subresource === 'finalize') throw methodNotAllowed();
  if (p.subresource === 'scale') {
    if (method === 'GET') return sendJson(res, 200, scaleOf(service.get(type, ns, name)));
    if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed();
    let patchType: PatchType | undefined;
    if (method === 'PATCH') {
      patchType = patchTypes[(req.headers['content-type'] ?? '').split(';')[0].trim()];
      if (!patchType) throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${Object.keys(patchTypes).join(', ')}`);
    }
    return sendJson(res, 200, writeScale(service, type, ns, name, await readBody(req), patchType, dryRun));
  }
  switch (method) {
    case 'GET': {
      const obj = service.present(type, service.get(type, ns, name));
      if (wantsTable(req)) return sendJson(res, 200, toTable(type, [obj], { resourceVersion: obj.metadata.resourceVersion }, { includeObject: includeObject(q) }));
      return sendJson(res, 200, obj);
    }
    case 'PUT': {
      const result = service.update(type, ns, name, await readBody(req), options);
      return sendJson(res, 200, service.present(type, result.object), result.warnings);
    }
    case 'PATCH': {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
      const patchType = patchTypes[contentType];
      if (!patchType) {
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${Object.keys(patchTypes).join(', ')}`);
      }
      const result = service.patch(type, ns, name, patchType, await readBody(req), options);
      return sendJson(res, result.created ? 201 : 200, service.present(type, result.object), result.warnings);
    }
    case 'DELETE': {
      if (p.subresource) throw methodNotAllowed();
      const body = (await readBody(req)) as JsonObject | undefined;
      return sendJson(res, 200, service.present(type, service.delete(type, ns, name, { ...deleteOptions(q, body), dryRun: dryRun || body?.dryRun?.includes?.('All') })));
    }
  }
  throw methodNotAllowed();
}

function deleteOptions(q: URLSearchParams, body: JsonObject | undefined): DeleteOptions {
  const policy = q.get('propagationPolicy') ?? body?.propagationPolicy ?? (body?.orphanDependents === true ? 'Orphan' : undefined);
  if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
  }
  const grace = q.get('gracePeriodSeconds') ?? body?.gracePeriodSeconds;
  return { propagationPolicy: policy, gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace), preconditions: body?.preconditions };
}

function list(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, type: ResourceType, namespace: string | undefined, matches: (o: JsonObject) => boolean, q: URLSearchParams): void {
  const { service } = ctx;
  let items = service.store.list(type.storageKey, type.namespaced ? namespace : undefined).filter(matches);
  const cont = q.get('continue');
  let rv = String(service.store.currentRv());
  if (cont) {
    let token: { after: string; rv: string };
    try {
      token = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8'));
    } catch {
      throw badRequest('continue key is not valid: illegal base64 data');
    }
    items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > token.after);
    rv = token.rv;
  }
  const limit = intParam(q, 'limit');
  const listMeta: JsonObject = { resourceVersion: rv };
  if (limit && limit > 0 && items.length > limit) {
    const last = items[limit - 1];
    listMeta.continue = Buffer.from(JSON.stringify({ after: `${last.metadata.namespace ?? ''}/${last.metadata.name}`, rv })).toString('base64url');
    listMeta.remainingItemCount = items.length - limit;
    items = items.slice(0, limit);
  }
  const presented = items.map((o) => service.present(type, o));
  if (wantsTable(req)) return sendJson(res, 200, toTable(type, presented, listMeta, { includeObject: includeObject(q) }));
  sendJson(res, 200, { kind: type.listKind, apiVersion: apiVersionOf(type), metadata: listMeta, items: presented });
}

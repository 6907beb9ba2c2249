/**
 * What a request asks to do, in authorization terms, derived from its method
 * and path alone the way kube-apiserver's `RequestInfoFactory` does: a
 * resource request (`/api/v1/...`, `/apis/<group>/<version>/...` with a
 * resource) has a verb (get/list/watch/create/update/patch/delete/
 * deletecollection), API group and version, namespace, resource, subresource
 * and name; anything else (`/api`, `/apis/<group>`, `/version`, `/healthz`,
 * `/openapi/v3`…) is a non-resource request with the lower-cased HTTP method
 * as its verb.
 */

export interface RequestAttributes {
  resourceRequest: boolean;
  /** The URL path (non-resource requests are authorized by it). */
  path: string;
  verb: string;
  apiGroup: string;
  apiVersion: string;
  /** `''` for cluster-scoped requests and lists across all namespaces. */
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

const methodVerbs: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** Go's `strconv.ParseBool` truths, as the `watch` parameter is read. */
const truthy = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);

export function requestAttributes(method: string, url: URL): RequestAttributes {
  const path = url.pathname;
  const nonResource: RequestAttributes = { resourceRequest: false, path, verb: method.toLowerCase(), apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '' };
  let parts = path.split('/').filter(Boolean);
  let apiGroup = '';
  if (parts[0] === 'api') {
    if (parts.length < 3) return nonResource;
    parts = parts.slice(1);
  } else if (parts[0] === 'apis') {
    if (parts.length < 4) return nonResource;
    apiGroup = parts[1];
    parts = parts.slice(2);
  } else {
    return nonResource;
  }
  const apiVersion = parts[0];
  parts = parts.slice(1);
  let verb = methodVerbs[method] ?? method.toLowerCase();
  if (parts[0] === 'watch' || parts[0] === 'proxy') {
    if (parts.length < 2) return { ...nonResource };
    verb = parts[0];
    parts = parts.slice(1);
  }
  let namespace = '';
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      namespace = parts[1];
      // `namespaces/<name>/status` and `/finalize` are subresources of the Namespace itself.
      if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
    }
  }
  const resource = parts[0] ?? '';
  let name = parts[1] ?? '';
  const subresource = parts.length >= 3 ? parts[2] : '';
  if (!name && verb === 'get') verb = truthy.has(url.searchParams.get('watch') ?? '') ? 'watch' : 'list';
  if (!name && verb === 'delete') verb = 'deletecollection';
  if (verb === 'list' || verb === 'watch') {
    // A list or watch of one object by `metadata.name=` is authorized as that name (resourceNames apply).
    const selected = (url.searchParams.get('fieldSelector') ?? '')
      .split(',')
      .map((term) => /^metadata\.name==?(.*)$/.exec(term.trim())?.[1])
      .find((v) => v !== undefined);
    if (selected) name = selected;
  }
  return { resourceRequest: true, path, verb, apiGroup, apiVersion, namespace, resource, subresource, name };
}

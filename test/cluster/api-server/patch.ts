/**
 * The three PATCH flavours: JSON merge patch (RFC 7386), JSON patch (RFC 6902),
 * and strategic merge patch for built-in kinds — lists merged by their merge key
 * (containers, env, volumes by `name`; volumeMounts by `mountPath`; ports by
 * `containerPort`/`port`…), primitive lists that are sets (finalizers), and the
 * directives kubectl apply sends: `$patch: replace|delete|merge`, `$retainKeys`,
 * `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` (order applied).
 */
import { ApiError, badRequest, type JsonObject } from './errors.js';

function isMap(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return structuredClone(patch);
  const out: JsonObject = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, parts: string[], op: string): { parent: any; key: string } {
  let cur: any = doc;
  for (const part of parts.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(part)] : cur?.[part];
    if (cur === undefined || cur === null) throw new JsonPatchError(`${op} operation does not apply: doc is missing path: /${parts.join('/')}`);
  }
  return { parent: cur, key: parts[parts.length - 1] };
}

class JsonPatchError extends Error {}

function getAt(doc: unknown, parts: string[]): unknown {
  let cur: any = doc;
  for (const part of parts) {
    if (cur === undefined || cur === null) return undefined;
    cur = Array.isArray(cur) ? cur[Number(part)] : cur[part];
  }
  return cur;
}

/** RFC 6902; a failing operation is a 422, as on the real server. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc: any = structuredClone(target);
  try {
    for (const op of ops as JsonObject[]) {
      const parts = pointer(op.path);
      const add = (value: unknown) => {
        if (parts.length === 0) return void (doc = value);
        const { parent, key } = parentOf(doc, parts, op.op);
        if (Array.isArray(parent)) {
          const i = key === '-' ? parent.length : Number(key);
          if (!(i >= 0 && i <= parent.length)) throw new JsonPatchError(`add operation does not apply: index out of bounds: ${key}`);
          parent.splice(i, 0, value);
        } else parent[key] = value;
      };
      const remove = () => {
        const { parent, key } = parentOf(doc, parts, op.op);
        if (Array.isArray(parent)) {
          const i = Number(key);
          if (!(i >= 0 && i < parent.length)) throw new JsonPatchError(`${op.op} operation does not apply: doc is missing path: ${op.path}`);
          return parent.splice(i, 1)[0];
        }
        if (!isMap(parent) || !(key in parent)) throw new JsonPatchError(`${op.op} operation does not apply: doc is missing path: ${op.path}`);
        const old = parent[key];
        delete parent[key];
        return old;
      };
      switch (op.op) {
        case 'add':
          add(structuredClone(op.value));
          break;
        case 'remove':
          remove();
          break;
        case 'replace':
          if (parts.length === 0) doc = structuredClone(op.value);
          else {
            remove();
            add(structuredClone(op.value));
          }
          break;
        case 'move': {
          const from = pointer(op.from);
          const value = getAt(doc, from);
          if (value === undefined) throw new JsonPatchError(`move operation does not apply: doc is missing from path: ${op.from}`);
          const { parent, key } = parentOf(doc, from, 'move');
          if (Array.isArray(parent)) parent.splice(Number(key), 1);
          else delete parent[key];
          add(value);
          break;
        }
        case 'copy': {
          const value = getAt(doc, pointer(op.from));
          if (value === undefined) throw new JsonPatchError(`copy operation does not apply: doc is missing from path: ${op.from}`);
          add(structuredClone(value));
          break;
        }
        case 'test':
          if (JSON.stringify(getAt(doc, parts)) !== JSON.stringify(op.value)) throw new JsonPatchError(`testing value ${op.path} failed: test failed`);
          break;
        default:
          throw badRequest(`Unexpected kind: ${op.op}`);
      }
    }
  } catch (e) {
    if (e instanceof JsonPatchError) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${e.message}`);
    throw e;
  }
  return doc;
}

/** Merge keys of built-in list fields (patchMergeKey in the Go types). */
const mergeKeys: Record<string, string | ((item: JsonObject) => string)> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  ports: (item) => ('containerPort' in item ? 'containerPort' : 'port'),
  ownerReferences: 'uid',
  conditions: 'type',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
  secrets: 'name',
};

/** Primitive lists merged as sets (patchStrategy=merge). */
const setLists = new Set(['finalizers']);

function keyFor(field: string, item: unknown): string | undefined {
  const k = mergeKeys[field];
  if (!k || !isMap(item)) return undefined;
  return typeof k === 'string' ? k : k(item);
}

function mergeList(field: string, target: unknown[], patch: unknown[]): unknown[] {
  if (setLists.has(field)) {
    const out = [...target];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const sample = patch.find(isMap) ?? target.find(isMap);
  const key = sample ? keyFor(field, sample) : undefined;
  if (!key) {
    if (patch.some((p) => isMap(p) && p.$patch === 'replace')) return patch.filter((p) => !(isMap(p) && p.$patch));
    return structuredClone(patch);
  }
  if (patch.some((p) => isMap(p) && p.$patch === 'replace')) return patch.filter((p) => !(isMap(p) && p.$patch === 'replace'));
  const out = target.map((t) => structuredClone(t));
  for (const item of patch) {
    if (!isMap(item)) continue;
    const idx = out.findIndex((t) => isMap(t) && t[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item);
    else out.push(strategicMergePatch({}, item));
  }
  return out;
}

/** Strategic merge patch of a built-in object. */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  let out: JsonObject = isMap(target) ? { ...target } : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set<string>(patch.$retainKeys);
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  const orders: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) {
      orders[k.slice('$setElementOrder/'.length)] = v as unknown[];
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field])) out[field] = out[field].filter((x: unknown) => !(v as unknown[]).includes(x));
      continue;
    }
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(k, Array.isArray(out[k]) ? out[k] : [], v);
    else if (isMap(v)) {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  for (const [field, order] of Object.entries(orders)) {
    const list = out[field];
    if (!Array.isArray(list)) continue;
    const rank = (item: unknown) => {
      const key = keyFor(field, item);
      const i = order.findIndex((o) => (key && isMap(o) ? o[key] === (item as JsonObject)[key] : JSON.stringify(o) === JSON.stringify(item)));
      return i < 0 ? order.length : i;
    };
    out[field] = [...list].sort((a, b) => rank(a) - rank(b));
  }
  return out;
}

/**
 * Label selectors (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`)
 * and field selectors (`f=v`, `f==v`, `f!=v` on the fields each kind supports),
 * parsed from the `labelSelector` / `fieldSelector` query parameters.
 */
import { badRequest, type JsonObject } from './errors.js';
import { eventFieldToCore } from './event-conversion.js';
import type { ResourceType } from './resource-type.js';

type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type Matcher = (object: JsonObject) => boolean;

/** Splits on commas that are not inside `( … )`. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

export function parseLabelSelector(text: string | null): Matcher {
  if (!text) return () => true;
  const reqs: Requirement[] = splitTerms(text).map((term) => {
    let m = /^([A-Za-z0-9./_-]+)\s+(in|notin)\s+\((.*)\)$/.exec(term);
    if (m) return { key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((s) => s.trim()).filter(Boolean) };
    m = /^([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/.exec(term);
    if (m) return { key: m[1], op: m[2] === '!=' ? 'neq' : 'eq', value: m[3] };
    m = /^!\s*([A-Za-z0-9./_-]+)$/.exec(term);
    if (m) return { key: m[1], op: 'notexists' };
    m = /^([A-Za-z0-9./_-]+)$/.exec(term);
    if (m) return { key: m[1], op: 'exists' };
    throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  });
  return (object) => {
    const labels: Record<string, string> = object.metadata?.labels ?? {};
    return reqs.every((r) => {
      const has = Object.hasOwn(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case 'eq':
          return has && v === r.value;
        case 'neq':
          return !has || v !== r.value;
        case 'in':
          return has && r.values.includes(v);
        case 'notin':
          return !has || !r.values.includes(v);
        case 'exists':
          return has;
        case 'notexists':
          return !has;
      }
    });
  };
}

/** Field selectors each kind supports beyond `metadata.name` / `metadata.namespace` (as on the real server). */
const kindFields: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
    // events.k8s.io/v1 names
    'regarding.kind',
    'regarding.namespace',
    'regarding.name',
    'regarding.uid',
  ],
  secrets: ['type'],
  namespaces: ['status.phase'],
  nodes: ['spec.unschedulable'],
};

function fieldValue(object: JsonObject, path: string): string {
  if (path === 'source') return object.source?.component ?? '';
  let cur: any = object;
  for (const part of path.split('.')) cur = cur?.[part];
  return cur === undefined || cur === null ? '' : String(cur);
}

export function parseFieldSelector(text: string | null, type: ResourceType): Matcher {
  if (!text) return () => true;
  const allowed = ['metadata.name', 'metadata.namespace', ...(type.group === '' || type.group === 'events.k8s.io' ? (kindFields[type.plural] ?? []) : [])];
  const reqs = splitTerms(text).map((term) => {
    const m = /^([A-Za-z0-9._]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    if (!allowed.includes(m[1])) {
      throw badRequest(`field label not supported: ${m[1]}`);
    }
    return { path: type.conversion ? eventFieldToCore(m[1]) : m[1], neq: m[2] === '!=', value: m[3] };
  });
  return (object) => reqs.every((r) => (fieldValue(object, r.path) === r.value) !== r.neq);
}

/**
 * `kubectl get`'s view: a `meta.k8s.io/v1` Table, with a CRD's
 * `additionalPrinterColumns` (JSONPath) for custom resources and the columns
 * kubectl users know for built-ins (Pods: NAME READY STATUS RESTARTS AGE).
 * Ages are rendered server-side, as kube-apiserver does.
 */
import { selectorString } from './apps-kinds.js';
import type { JsonObject } from './errors.js';
import { evaluateJsonPath } from './json-path.js';
import type { ResourceType } from './resource-type.js';

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
}

/** Go's `duration.HumanDuration`, the AGE column's wording. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
}

function age(timestamp: string | undefined, now: number): string {
  return timestamp ? humanDuration(now - Date.parse(timestamp)) : '<unknown>';
}

const nameColumn: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 };
const ageColumn: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 };

function col(name: string, type = 'string', priority = 0): Column {
  return { name, type, description: name, priority };
}

function podRow(pod: JsonObject, now: number): unknown[] {
  const statuses: JsonObject[] = pod.status?.containerStatuses ?? [];
  const containers: JsonObject[] = pod.spec?.containers ?? [];
  const ready = statuses.filter((s) => s.ready).length;
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Pending';
  const init: JsonObject[] = pod.status?.initContainerStatuses ?? [];
  const initPending = init.findIndex((s) => !(s.state?.terminated && s.state.terminated.exitCode === 0));
  if (initPending >= 0 && init[initPending]) {
    const s = init[initPending].state ?? {};
    if (s.terminated) reason = s.terminated.reason ? `Init:${s.terminated.reason}` : `Init:ExitCode:${s.terminated.exitCode}`;
    else if (s.waiting?.reason && s.waiting.reason !== 'PodInitializing') reason = `Init:${s.waiting.reason}`;
    else reason = `Init:${initPending}/${(pod.spec?.initContainers ?? []).length}`;
  } else {
    for (const s of [...statuses].reverse()) {
      if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
      else if (s.state?.terminated?.reason) reason = s.state.terminated.reason;
      else if (s.state?.terminated) reason = s.state.terminated.signal ? `Signal:${s.state.terminated.signal}` : `ExitCode:${s.state.terminated.exitCode}`;
    }
  }
  if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  return [pod.metadata.name, `${ready}/${containers.length}`, reason, restarts, age(pod.metadata.creationTimestamp, now), pod.status?.podIP ?? '<none>', pod.spec?.nodeName ?? '<none>'];
}

/** `-o wide` columns of Deployments and ReplicaSets. */
const workloadWideColumns = [col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)];

function workloadWideCells(o: JsonObject): unknown[] {
  const containers: JsonObject[] = o.spec?.template?.spec?.containers ?? [];
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image).join(','), selectorString(o.spec?.selector) || '<none>'];
}

/** kubectl's way of showing many addresses: the first three, then `+ N more...`. */
function firstThree(items: string[]): string {
  if (items.length === 0) return '<none>';
  return items.length > 3 ? `${items.slice(0, 3).join(',')} + ${items.length - 3} more...` : items.join(',');
}

/** An Endpoints object's `ip:port` pairs (ready addresses only), as `kubectl get ep` shows them. */
function endpointsCell(o: JsonObject): string {
  const pairs: string[] = [];
  for (const subset of o.subsets ?? []) {
    for (const address of subset.addresses ?? []) for (const port of subset.ports ?? [{}]) pairs.push(port.port === undefined ? address.ip : `${address.ip}:${port.port}`);
  }
  return firstThree(pairs);
}

function builtinTable(type: ResourceType, now: number): { columns: Column[]; row: (o: JsonObject) => unknown[] } | undefined {
  const a = (o: JsonObject) => age(o.metadata.creationTimestamp, now);
  switch (`${type.group}/${type.plural}`) {
    case '/pods':
      return {
        columns: [nameColumn, col('Ready'), col('Status'), col('Restarts', 'string'), ageColumn, col('IP', 'string', 1), col('Node', 'string', 1)],
        row: (o) => podRow(o, now),
      };
    case '/namespaces':
      return { columns: [nameColumn, col('Status'), ageColumn], row: (o) => [o.metadata.name, o.status?.phase ?? 'Active', a(o)] };
    case '/configmaps':
      return { columns: [nameColumn, col('Data', 'integer'), ageColumn], row: (o) => [o.metadata.name, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, a(o)] };
    case '/secrets':
      return { columns: [nameColumn, col('Type'), col('Data', 'integer'), ageColumn], row: (o) => [o.metadata.name, o.type ?? 'Opaque', Object.keys(o.data ?? {}).length, a(o)] };
    case '/serviceaccounts':
      return { columns: [nameColumn, col('Secrets', 'integer'), ageColumn], row: (o) => [o.metadata.name, (o.secrets ?? []).length, a(o)] };
    case '/services':
      return {
        columns: [nameColumn, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), ageColumn],
        row: (o) => [
          o.metadata.name,
          o.spec?.type ?? 'ClusterIP',
          o.spec?.clusterIP ?? '<none>',
          '<none>',
          (o.spec?.ports ?? []).map((p: JsonObject) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>',
          a(o),
        ],
      };
    case '/endpoints':
      return { columns: [nameColumn, col('Endpoints'), ageColumn], row: (o) => [o.metadata.name, endpointsCell(o), a(o)] };
    case 'discovery.k8s.io/endpointslices':
      return {
        columns: [nameColumn, col('AddressType'), col('Ports'), col('Endpoints'), ageColumn],
        row: (o) => [
          o.metadata.name,
          o.addressType ?? '',
          (o.ports ?? []).map((p: JsonObject) => p.port ?? '<unset>').join(',') || '<unset>',
          firstThree((o.endpoints ?? []).flatMap((e: JsonObject) => e.addresses ?? [])),
          a(o),
        ],
      };
    case '/nodes':
      return {
        columns: [nameColumn, col('Status'), col('Roles'), ageColumn, col('Version')],
        row: (o) => {
          const ready = (o.status?.conditions ?? []).find((c: JsonObject) => c.type === 'Ready');
          return [o.metadata.name, ready?.status === 'True' ? 'Ready' : 'NotReady', '<none>', a(o), o.status?.nodeInfo?.kubeletVersion ?? ''];
        },
      };
    case '/events':
      return {
        columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
        row: (o) => [
          age(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp, now),
          o.type ?? '',
          o.reason ?? '',
          `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}`,
          o.message ?? '',
        ],
      };
    case 'apps/deployments':
      return {
        columns: [nameColumn, col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), ageColumn, ...workloadWideColumns],
        row: (o) => [o.metadata.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, o.status?.updatedReplicas ?? 0, o.status?.availableReplicas ?? 0, a(o), ...workloadWideCells(o)],
      };
    case 'apps/replicasets':
      return {
        columns: [nameColumn, col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), ageColumn, ...workloadWideColumns],
        row: (o) => [o.metadata.name, o.spec?.replicas ?? 0, o.status?.replicas ?? 0, o.status?.readyReplicas ?? 0, a(o), ...workloadWideCells(o)],
      };
    case 'coordination.k8s.io/leases':
      return { columns: [nameColumn, col('Holder'), ageColumn], row: (o) => [o.metadata.name, o.spec?.holderIdentity ?? '', a(o)] };
    case 'apps/statefulsets':
    case 'batch/jobs':
    case '/persistentvolumeclaims':
      return workloadTable(type, now);
    case 'rbac.authorization.k8s.io/roles':
    case 'rbac.authorization.k8s.io/clusterroles':
      return { columns: [nameColumn, col('Created At', 'date')], row: (o) => [o.metadata.name, o.metadata.creationTimestamp] };
    case 'rbac.authorization.k8s.io/rolebindings':
    case 'rbac.authorization.k8s.io/clusterrolebindings': {
      const subjects = (o: JsonObject, kind: string) =>
        (o.subjects ?? [])
          .filter((s: JsonObject) => s.kind === kind)
          .map((s: JsonObject) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name))
          .join(', ');
      return {
        columns: [nameColumn, col('Role'), ageColumn, col('Users', 'string', 1), col('Groups', 'string', 1), col('ServiceAccounts', 'string', 1)],
        row: (o) => [o.metadata.name, `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`, a(o), subjects(o, 'User'), subjects(o, 'Group'), subjects(o, 'ServiceAccount')],
      };
    }
    case 'apiextensions.k8s.io/customresourcedefinitions':
      return { columns: [nameColumn, col('Created At', 'date')], row: (o) => [o.metadata.name, o.metadata.creationTimestamp] };
  }
  return undefined;
}

function containerColumns(template: JsonObject | undefined): string[] {
  const containers: JsonObject[] = template?.spec?.containers ?? [];
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image).join(',')];
}

function selectorText(selector: JsonObject | undefined): string {
  if (!selector) return '<none>';
  const parts = Object.entries<string>(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of (selector.matchExpressions ?? []) as JsonObject[]) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',') || '<none>';
}

const accessModeShort: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

/** The columns kube-apiserver 1.32 prints for StatefulSets, Jobs and PersistentVolumeClaims. */
function workloadTable(type: ResourceType, now: number): { columns: Column[]; row: (o: JsonObject) => unknown[] } | undefined {
  const a = (o: JsonObject) => age(o.metadata.creationTimestamp, now);
  switch (`${type.group}/${type.plural}`) {
    case 'apps/statefulsets':
      return {
        columns: [nameColumn, col('Ready'), ageColumn, col('Containers', 'string', 1), col('Images', 'string', 1)],
        row: (o) => [o.metadata.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`, a(o), ...containerColumns(o.spec?.template)],
      };
    case 'batch/jobs':
      return {
        columns: [nameColumn, col('Status'), col('Completions'), col('Duration'), ageColumn, col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
        row: (o) => {
          const has = (t: string) => (o.status?.conditions ?? []).some((c: JsonObject) => c.type === t && c.status === 'True');
          let status = 'Running';
          if (has('Complete')) status = 'Complete';
          else if (has('Failed')) status = 'Failed';
          else if (o.metadata.deletionTimestamp) status = 'Terminating';
          else if (has('Suspended')) status = 'Suspended';
          else if (has('FailureTarget')) status = 'FailureTarget';
          else if (has('SuccessCriteriaMet')) status = 'SuccessCriteriaMet';
          const succeeded = o.status?.succeeded ?? 0;
          const spec = o.spec ?? {};
          let completions: string;
          if (spec.completions !== undefined && spec.completions !== null) completions = `${succeeded}/${spec.completions}`;
          else completions = (spec.parallelism ?? 1) > 1 ? `${succeeded}/1 of ${spec.parallelism}` : `${succeeded}/1`;
          const start = o.status?.startTime ? Date.parse(o.status.startTime) : undefined;
          const end = o.status?.completionTime ? Date.parse(o.status.completionTime) : now;
          const duration = start === undefined ? '' : humanDuration(end - start);
          return [o.metadata.name, status, completions, duration, a(o), ...containerColumns(spec.template), selectorText(spec.selector)];
        },
      };
    case '/persistentvolumeclaims':
      return {
        columns: [nameColumn, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), col('VolumeAttributesClass'), ageColumn, col('VolumeMode', 'string', 1)],
        row: (o) => {
          const bound = !!o.spec?.volumeName;
          const modes: string[] = bound ? (o.status?.accessModes ?? []) : [];
          return [
            o.metadata.name,
            o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.phase ?? 'Pending'),
            o.spec?.volumeName ?? '',
            bound ? (o.status?.capacity?.storage ?? '') : '',
            modes.map((m) => accessModeShort[m] ?? m).join(','),
            o.spec?.storageClassName ?? o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '',
            o.spec?.volumeAttributesClassName ?? '<unset>',
            a(o),
            o.spec?.volumeMode ?? '<unset>',
          ];
        },
      };
  }
  return undefined;
}

function cell(value: unknown, type: string, now: number): unknown {
  if (value === undefined) return null;
  if (type === 'date' && typeof value === 'string') return age(value, now);
  if (type === 'integer' && typeof value === 'number') return Math.trunc(value);
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return value;
}

/** How much of each object a row carries (`includeObject`): None, Metadata (default) or Object. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  /** Leave out column definitions (watch events after the first). */
  noHeaders?: boolean;
  now?: number;
}

function rowObject(o: JsonObject, include: IncludeObject): JsonObject | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(type: ResourceType, objects: JsonObject[], listMeta: JsonObject, options: TableOptions): JsonObject {
  const now = options.now ?? Date.now();
  let columns: Column[];
  let row: (o: JsonObject) => unknown[];
  if (type.printerColumns) {
    const printer = type.printerColumns;
    const hasAge = printer.some((c) => c.jsonPath === '.metadata.creationTimestamp');
    columns = [nameColumn, ...printer.map((c) => ({ name: c.name, type: c.type, format: c.format, description: c.description ?? '', priority: c.priority ?? 0 }))];
    if (!hasAge) columns.push({ ...ageColumn, type: 'date' });
    row = (o) => {
      const cells = [o.metadata.name, ...printer.map((c) => cell(evaluateJsonPath(c.jsonPath, o)[0], c.type, now))];
      if (!hasAge) cells.push(age(o.metadata.creationTimestamp, now));
      return cells;
    };
  } else {
    const b = builtinTable(type, now);
    columns = b?.columns ?? [nameColumn, { ...ageColumn, type: 'date' }];
    row = b?.row ?? ((o) => [o.metadata.name, age(o.metadata.creationTimestamp, now)]);
  }
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: options.noHeaders ? [] : columns,
    rows: objects.map((o) => {
      const r: JsonObject = { cells: row(o) };
      const obj = rowObject(o, options.includeObject);
      if (obj) r.object = obj;
      return r;
    }),
  };
}

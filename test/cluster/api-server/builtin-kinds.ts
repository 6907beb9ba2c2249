/**
 * The built-in kinds' defaults and validation, the part of each Go type's
 * registry strategy that clients notice: Pod defaults and the immutability of
 * a Pod's spec, Service cluster IPs, Secret `stringData`, ConfigMap keys,
 * Namespace phase, and object name / label syntax for every kind (Deployments and
 * ReplicaSets: `apps-kinds.ts`; StatefulSets, Jobs and PersistentVolumeClaims:
 * `workload-kinds.ts`; RBAC kinds: `rbac-kinds.ts`).
 */
import { randomBytes } from 'node:crypto';
import { badRequest, forbidden, invalidValue, required, tooLong, type FieldError, type JsonObject } from './errors.js';
import { prepareAppsKind } from './apps-kinds.js';
import { isRbacType, prepareRbac, rbacNameErrors } from './rbac-kinds.js';
import type { ResourceType } from './resource-type.js';
import { prepareWorkload } from './workload-kinds.js';
import { allocateClusterIp, requestedClusterIpErrors } from './cluster-ips.js';

const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const labelKeyName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const configKey = /^[-._a-zA-Z0-9]+$/;

/** Kinds whose names are DNS-1123 labels (63 chars) rather than subdomains. */
const labelNamed = new Set(['/namespaces', '/services']);

/** Name, owner reference and label syntax, checked for every kind. */
export function validateMetadata(type: ResourceType, obj: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const name: string = obj.metadata.name;
  if (isRbacType(type)) {
    errors.push(...rbacNameErrors(name));
  } else if (labelNamed.has(`${type.group}/${type.plural}`)) {
    if (!label.test(name) || name.length > 63) {
      errors.push(
        invalidValue(
          'metadata.name',
          name,
          `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        ),
      );
    }
  } else if (!subdomain.test(name) || name.length > 253) {
    errors.push(
      invalidValue(
        'metadata.name',
        name,
        `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ),
    );
  }
  (obj.metadata.ownerReferences ?? []).forEach((r: JsonObject, i: number) => {
    for (const key of ['apiVersion', 'kind', 'name', 'uid']) {
      if (!r?.[key]) errors.push(invalidValue(`metadata.ownerReferences[${i}].${key}`, r?.[key] ?? '', `${key} must not be empty`));
    }
  });
  for (const [k, v] of Object.entries<unknown>(obj.metadata.labels ?? {})) {
    const keyName = k.includes('/') ? k.slice(k.indexOf('/') + 1) : k;
    if (!labelKeyName.test(keyName) || keyName.length > 63) {
      errors.push(invalidValue('metadata.labels', k, `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`));
    }
    if (typeof v !== 'string' || !labelValue.test(v) || v.length > 63) {
      errors.push(
        invalidValue(
          'metadata.labels',
          v,
          `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
        ),
      );
    }
  }
  return errors;
}

function defaultContainer(c: JsonObject): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  const tagged = typeof c.image === 'string' && /:[^/]+$/.test(c.image) && !c.image.endsWith(':latest');
  c.imagePullPolicy ??= tagged || String(c.image).includes('@') ? 'IfNotPresent' : 'Always';
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
    if (!probe) continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (probe.httpGet) {
      probe.httpGet.path ??= '/';
      probe.httpGet.scheme ??= 'HTTP';
    }
  }
}

function podErrors(pod: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = pod.spec;
  if (!spec || !Array.isArray(spec.containers) || spec.containers.length === 0) return [required('spec.containers')];
  const names = new Set<string>();
  for (const [field, list] of [
    ['spec.initContainers', spec.initContainers ?? []],
    ['spec.containers', spec.containers],
  ] as const) {
    (list as JsonObject[]).forEach((c, i) => {
      if (!c.name) errors.push(required(`${field}[${i}].name`));
      else if (!label.test(c.name)) errors.push(invalidValue(`${field}[${i}].name`, c.name, `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`));
      else if (names.has(c.name)) errors.push({ type: 'FieldValueDuplicate', field: `${field}[${i}].name`, detail: `Duplicate value: ${JSON.stringify(c.name)}` });
      names.add(c.name);
      if (!c.image) errors.push(required(`${field}[${i}].image`));
    });
  }
  const volumes = new Set((spec.volumes ?? []).map((v: JsonObject) => v.name));
  for (const [field, list] of [
    ['spec.initContainers', spec.initContainers ?? []],
    ['spec.containers', spec.containers],
  ] as const) {
    (list as JsonObject[]).forEach((c, i) =>
      (c.volumeMounts ?? []).forEach((m: JsonObject, j: number) => {
        if (!volumes.has(m.name)) errors.push({ type: 'FieldValueNotFound', field: `${field}[${i}].volumeMounts[${j}].name`, detail: `Not found: ${JSON.stringify(m.name)}` });
      }),
    );
  }
  if (!['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy)) {
    errors.push({ type: 'FieldValueNotSupported', field: 'spec.restartPolicy', detail: `Unsupported value: ${JSON.stringify(spec.restartPolicy)}: supported values: "Always", "OnFailure", "Never"` });
  }
  if (spec.activeDeadlineSeconds !== undefined && !(Number.isInteger(spec.activeDeadlineSeconds) && spec.activeDeadlineSeconds > 0)) {
    errors.push(invalidValue('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  return errors;
}

/** The parts of a Pod's spec an update may change (everything else is immutable). */
function mutablePodSpecMask(spec: JsonObject): JsonObject {
  const s = structuredClone(spec ?? {});
  for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  return s;
}

/** The defaults of a Pod spec, also applied to the Pod templates of workloads (`SetDefaults_PodSpec`); returns `spec`. */
export function defaultPodSpec(spec: JsonObject): JsonObject {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (v.configMap) v.configMap.defaultMode ??= 420;
    if (v.secret) v.secret.defaultMode ??= 420;
  }
  return spec;
}

/** A Pod template's field errors (containers, volumes, restartPolicy), under `field` (`spec.template.spec`). */
export function podTemplateErrors(spec: JsonObject | undefined, field: string): FieldError[] {
  return podErrors({ spec }).map((e) => ({ ...e, field: e.field.replace(/^spec/, field) }));
}

/** What defaulting needs to know of the other stored objects. */
export interface BuiltinContext {
  /** The cluster IPs stored Services hold. */
  clusterIpsInUse(): Set<string>;
}

/**
 * Applies a built-in kind's defaults to `obj` (in place) and returns its field
 * errors; `old` is the stored object on an update.
 */
export function prepareBuiltin(type: ResourceType, obj: JsonObject, old: JsonObject | undefined, context?: BuiltinContext): FieldError[] {
  if (isRbacType(type)) return prepareRbac(type, obj, old);
  switch (`${type.group}/${type.plural}`) {
    case '/namespaces':
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.status = { phase: obj.metadata.deletionTimestamp ? 'Terminating' : 'Active' };
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      return [];
    case '/pods': {
      const spec = defaultPodSpec((obj.spec ??= {}));
      spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
      spec.serviceAccount ??= spec.serviceAccountName;
      spec.enableServiceLinks ??= true;
      spec.priority ??= 0;
      spec.preemptionPolicy ??= 'PreemptLowerPriority';
      if (!old) obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
      const errors = podErrors(obj);
      if (old && JSON.stringify(mutablePodSpecMask(old.spec)) !== JSON.stringify(mutablePodSpecMask(obj.spec))) {
        errors.push(
          forbidden(
            'spec',
            'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
          ),
        );
      }
      return errors;
    }
    case '/services': {
      const spec = (obj.spec ??= {});
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      const errors: FieldError[] = [];
      // Cluster IPs come from 127.2.0.0/16 (see cluster-ips.ts) and are kept on updates.
      if (old) spec.clusterIP = old.spec?.clusterIP;
      else if (spec.type !== 'ExternalName') {
        const inUse = context?.clusterIpsInUse() ?? new Set<string>();
        if (spec.clusterIP) errors.push(...requestedClusterIpErrors(spec.clusterIP, inUse));
        else spec.clusterIP = allocateClusterIp(inUse);
      }
      if (old) spec.clusterIPs = old.spec?.clusterIPs;
      else spec.clusterIPs ??= spec.clusterIP ? [spec.clusterIP] : undefined;
      if (spec.clusterIPs === undefined) delete spec.clusterIPs;
      if (spec.clusterIP) {
        spec.ipFamilies ??= ['IPv4'];
        spec.ipFamilyPolicy ??= 'SingleStack';
      }
      spec.internalTrafficPolicy ??= 'Cluster';
      for (const p of spec.ports ?? []) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      obj.status ??= { loadBalancer: {} };
      return errors;
    }
    case '/secrets': {
      obj.type ??= 'Opaque';
      if (obj.stringData) {
        obj.data = { ...(obj.data ?? {}) };
        for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString('base64');
        delete obj.stringData;
      }
      for (const [k, v] of Object.entries(obj.data ?? {})) {
        if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
          throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (key ${k})`);
        }
      }
      return [...keyErrors('data', obj.data), ...immutableErrors(obj, old)];
    }
    case '/configmaps': {
      const errors = [...keyErrors('data', obj.data), ...keyErrors('binaryData', obj.binaryData), ...immutableErrors(obj, old)];
      const size = JSON.stringify(obj.data ?? {}).length + JSON.stringify(obj.binaryData ?? {}).length;
      if (size > 1024 * 1024) errors.push(tooLong('', 1024 * 1024));
      return errors;
    }
    case 'apps/deployments':
    case 'apps/replicasets':
      return prepareAppsKind(type, obj, old);
    case '/persistentvolumeclaims':
    case 'apps/statefulsets':
    case 'batch/jobs':
      return prepareWorkload(type, obj, old);
    case '/serviceaccounts':
    case '/events':
    case 'events.k8s.io/events':
    case 'coordination.k8s.io/leases':
    case '/nodes':
      return [];
  }
  return [];
}

function keyErrors(field: string, map: JsonObject | undefined): FieldError[] {
  return Object.keys(map ?? {})
    .filter((k) => !configKey.test(k) || k.length > 253)
    .map((k) => invalidValue(`${field}[${k}]`, k, `a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`));
}

function immutableErrors(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  if (!old?.immutable) return [];
  if (JSON.stringify(old.data ?? {}) !== JSON.stringify(obj.data ?? {}) || JSON.stringify(old.binaryData ?? {}) !== JSON.stringify(obj.binaryData ?? {})) {
    return [forbidden('data', 'field is immutable when `immutable` is set')];
  }
  return [];
}

/** A random 5-character suffix, as `generateName` gets. */
export function nameSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

/**
 * Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`),
 * which kubectl's typed commands send (`kubectl create secret|configmap|namespace|
 * serviceaccount|service|deployment|job|role|rolebinding|clusterrole|clusterrolebinding|token`,
 * `kubectl auth can-i|whoami`). Only those kinds (and, of a Deployment or a Job, the
 * fields `kubectl create deployment|job` sets) are decoded, into the JSON form the
 * rest of the server works with (zero values dropped, as Go's `omitempty` does);
 * other kinds get 415. Responses are always JSON, which clients accept.
 */
import { ApiError, type JsonObject } from './errors.js';

type Field =
  | { name: string; type: 'string' | 'bytes' | 'int' | 'bool' | 'time' | 'intOrString' | 'stringMap' | 'bytesMap'; repeated?: boolean; keepZero?: boolean }
  | { name: string; type: 'message'; message: string; repeated?: boolean };

const s = (name: string, repeated = false): Field => ({ name, type: 'string', repeated });
const m = (name: string, message: string, repeated = false): Field => ({ name, type: 'message', message, repeated });
const i = (name: string): Field => ({ name, type: 'int' });
const b = (name: string): Field => ({ name, type: 'bool' });

const messages: Record<string, Record<number, Field>> = {
  ObjectMeta: {
    1: s('name'),
    2: s('generateName'),
    3: s('namespace'),
    5: s('uid'),
    6: s('resourceVersion'),
    7: i('generation'),
    8: { name: 'creationTimestamp', type: 'time' },
    9: { name: 'deletionTimestamp', type: 'time' },
    10: i('deletionGracePeriodSeconds'),
    11: { name: 'labels', type: 'stringMap' },
    12: { name: 'annotations', type: 'stringMap' },
    13: m('ownerReferences', 'OwnerReference', true),
    14: s('finalizers', true),
  },
  OwnerReference: { 1: s('kind'), 3: s('name'), 4: s('uid'), 5: s('apiVersion'), 6: b('controller'), 7: b('blockOwnerDeletion') },
  ConfigMap: { 1: m('metadata', 'ObjectMeta'), 2: { name: 'data', type: 'stringMap' }, 3: { name: 'binaryData', type: 'bytesMap' }, 4: b('immutable') },
  Secret: { 1: m('metadata', 'ObjectMeta'), 2: { name: 'data', type: 'bytesMap' }, 3: s('type'), 4: { name: 'stringData', type: 'stringMap' }, 5: b('immutable') },
  Namespace: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'NamespaceSpec'), 3: m('status', 'Empty') },
  NamespaceSpec: { 1: s('finalizers', true) },
  ServiceAccount: { 1: m('metadata', 'ObjectMeta'), 2: m('secrets', 'ObjectReference', true), 3: m('imagePullSecrets', 'LocalObjectReference', true), 4: b('automountServiceAccountToken') },
  ObjectReference: { 1: s('kind'), 2: s('namespace'), 3: s('name'), 4: s('uid'), 5: s('apiVersion'), 6: s('resourceVersion'), 7: s('fieldPath') },
  LocalObjectReference: { 1: s('name') },
  Service: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'ServiceSpec'), 3: m('status', 'Empty') },
  ServiceSpec: {
    1: m('ports', 'ServicePort', true),
    2: { name: 'selector', type: 'stringMap' },
    3: s('clusterIP'),
    4: s('type'),
    5: s('externalIPs', true),
    7: s('sessionAffinity'),
    10: s('externalName'),
    11: s('externalTrafficPolicy'),
    13: b('publishNotReadyAddresses'),
    18: s('clusterIPs', true),
  },
  ServicePort: { 1: s('name'), 2: s('protocol'), 3: i('port'), 4: { name: 'targetPort', type: 'intOrString' }, 5: i('nodePort'), 6: s('appProtocol') },
  // `kubectl create deployment NAME --image=… [--replicas=N] [--port=P] [-- COMMAND…]`
  Deployment: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'DeploymentSpec'), 3: m('status', 'Empty') },
  DeploymentSpec: { 1: { name: 'replicas', type: 'int', keepZero: true }, 2: m('selector', 'LabelSelector'), 3: m('template', 'PodTemplateSpec'), 4: m('strategy', 'DeploymentStrategy'), 5: i('minReadySeconds') },
  DeploymentStrategy: { 1: s('type') },
  LabelSelector: { 1: { name: 'matchLabels', type: 'stringMap' } },
  PodTemplateSpec: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'PodSpec') },
  PodSpec: { 2: m('containers', 'Container', true), 3: s('restartPolicy'), 6: s('dnsPolicy'), 8: s('serviceAccountName') },
  Container: { 1: s('name'), 2: s('image'), 3: s('command', true), 4: s('args', true), 5: s('workingDir'), 6: m('ports', 'ContainerPort', true), 7: m('env', 'EnvVar', true), 8: m('resources', 'Empty'), 13: s('terminationMessagePath'), 14: s('imagePullPolicy'), 20: s('terminationMessagePolicy') },
  ContainerPort: { 1: s('name'), 3: i('containerPort'), 4: s('protocol') },
  // `kubectl create job NAME --image=I -- CMD…`: what it sets, nothing more.
  Job: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'JobSpec'), 3: m('status', 'Empty') },
  JobSpec: { 1: i('parallelism'), 2: i('completions'), 3: i('activeDeadlineSeconds'), 5: b('manualSelector'), 6: m('template', 'PodTemplateSpec'), 7: i('backoffLimit'), 8: i('ttlSecondsAfterFinished'), 9: s('completionMode'), 10: b('suspend') },
  EnvVar: { 1: s('name'), 2: s('value') },
  // rbac.authorization.k8s.io/v1 (ClusterRole's aggregationRule is not decoded)
  Role: { 1: m('metadata', 'ObjectMeta'), 2: m('rules', 'PolicyRule', true) },
  ClusterRole: { 1: m('metadata', 'ObjectMeta'), 2: m('rules', 'PolicyRule', true) },
  PolicyRule: { 1: s('verbs', true), 2: s('apiGroups', true), 3: s('resources', true), 4: s('resourceNames', true), 5: s('nonResourceURLs', true) },
  RoleBinding: { 1: m('metadata', 'ObjectMeta'), 2: m('subjects', 'Subject', true), 3: m('roleRef', 'RoleRef') },
  ClusterRoleBinding: { 1: m('metadata', 'ObjectMeta'), 2: m('subjects', 'Subject', true), 3: m('roleRef', 'RoleRef') },
  Subject: { 1: s('kind'), 2: s('apiGroup'), 3: s('name'), 4: s('namespace') },
  RoleRef: { 1: s('apiGroup'), 2: s('kind'), 3: s('name') },
  // authorization.k8s.io/v1 and authentication.k8s.io/v1 requests about the caller
  SelfSubjectAccessReview: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'SelfSubjectAccessReviewSpec') },
  SelfSubjectAccessReviewSpec: { 1: m('resourceAttributes', 'ResourceAttributes'), 2: m('nonResourceAttributes', 'NonResourceAttributes') },
  ResourceAttributes: { 1: s('namespace'), 2: s('verb'), 3: s('group'), 4: s('version'), 5: s('resource'), 6: s('subresource'), 7: s('name') },
  NonResourceAttributes: { 1: s('path'), 2: s('verb') },
  SelfSubjectRulesReview: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'SelfSubjectRulesReviewSpec') },
  SelfSubjectRulesReviewSpec: { 1: s('namespace') },
  SelfSubjectReview: { 1: m('metadata', 'ObjectMeta') },
  TokenRequest: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'TokenRequestSpec') },
  TokenRequestSpec: { 1: s('audiences', true), 3: m('boundObjectRef', 'BoundObjectReference'), 4: i('expirationSeconds') },
  BoundObjectReference: { 1: s('kind'), 2: s('apiVersion'), 3: s('name'), 4: s('uid') },
  TypeMeta: { 1: s('apiVersion'), 2: s('kind') },
  Unknown: { 1: m('typeMeta', 'TypeMeta'), 2: { name: 'raw', type: 'bytes' } },
  Empty: {},
};

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.buf[this.pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
    }
  }
  bytes(): Buffer {
    const len = this.varint();
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function mapEntry(buf: Buffer): [string, Buffer] {
  const r = new Reader(buf);
  let key = '';
  let value: Buffer = Buffer.alloc(0);
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag >>> 3 === 1) key = r.bytes().toString('utf8');
    else if (tag >>> 3 === 2) value = r.bytes();
    else r.skip(tag & 7);
  }
  return [key, value];
}

function decode(buf: Buffer, message: string): JsonObject {
  const spec = messages[message];
  const out: JsonObject = {};
  const r = new Reader(buf);
  while (r.pos < buf.length) {
    const tag = r.varint();
    const field = spec[tag >>> 3];
    if (!field) {
      r.skip(tag & 7);
      continue;
    }
    let value: unknown;
    switch (field.type) {
      case 'string':
        value = r.bytes().toString('utf8');
        if (value === '' && !field.repeated) continue;
        break;
      case 'bytes':
        value = r.bytes();
        break;
      case 'int':
        value = r.varint();
        // A pointer field (`replicas`) keeps an explicit 0.
        if (value === 0 && !('keepZero' in field && field.keepZero)) continue;
        break;
      case 'bool':
        value = r.varint() !== 0;
        if (value === false) continue;
        break;
      case 'time':
        // Timestamps are set by the server.
        r.bytes();
        continue;
      case 'intOrString': {
        const v = new Reader(r.bytes());
        let type = 0;
        let intVal = 0;
        let strVal = '';
        while (v.pos < v.buf.length) {
          const t = v.varint();
          if (t >>> 3 === 1) type = v.varint();
          else if (t >>> 3 === 2) intVal = v.varint();
          else if (t >>> 3 === 3) strVal = v.bytes().toString('utf8');
          else v.skip(t & 7);
        }
        value = type === 1 ? strVal : intVal;
        break;
      }
      case 'stringMap':
      case 'bytesMap': {
        const [k, v] = mapEntry(r.bytes());
        out[field.name] ??= {};
        out[field.name][k] = field.type === 'stringMap' ? v.toString('utf8') : v.toString('base64');
        continue;
      }
      case 'message':
        value = decode(r.bytes(), field.message);
        break;
    }
    if (field.repeated) (out[field.name] ??= []).push(value);
    else out[field.name] = value;
  }
  return out;
}

/** The kinds whose protobuf bodies are decoded. */
const decodable = [
  'ConfigMap',
  'Secret',
  'Namespace',
  'ServiceAccount',
  'Service',
  'Deployment',
  'Job',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'SelfSubjectAccessReview',
  'SelfSubjectRulesReview',
  'SelfSubjectReview',
  'TokenRequest',
];

/** Decodes a `k8s\0`-prefixed protobuf body into a JSON object. */
export function decodeProtobufBody(body: Buffer): JsonObject {
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new ApiError(400, 'BadRequest', 'the body of the request was not a Kubernetes protobuf message (missing the k8s\\0 prefix)');
  const unknown = decode(body.subarray(4), 'Unknown');
  const kind: string | undefined = unknown.typeMeta?.kind;
  if (!kind || !messages[kind] || !decodable.includes(kind)) {
    throw new ApiError(415, 'UnsupportedMediaType', `the test API server decodes protobuf only for ${decodable.join(', ')}, not ${kind}; send JSON`);
  }
  return { apiVersion: unknown.typeMeta.apiVersion, kind, ...decode(unknown.raw ?? Buffer.alloc(0), kind) };
}

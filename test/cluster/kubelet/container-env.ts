/**
 * A container's environment and argv as the kubelet builds them: `envFrom` first, then
 * `env` (later wins), each value able to name earlier ones with `$(VAR)`; command and
 * args expanded the same way; the image table turns `command[0]` into a host program.
 * Pure functions over the Pod and the objects it references (read by the caller).
 */
import { podHostname } from './hosts-file.js';
import type { ImageEntry } from './images.js';
import type { K8sObject, PodContainer, PodObject } from './pod-types.js';

/** The container could not be configured (a missing Secret/ConfigMap or key): `CreateContainerConfigError`, retried. */
export class ContainerConfigError extends Error {
  readonly code = 'CreateContainerConfigError';
}

/** The command cannot be started (not in the image): `StartError`, exit code 128. */
export class ContainerStartError extends Error {
  readonly code = 'StartError';
}

/**
 * Kubernetes' `$(VAR)` expansion: `$(NAME)` becomes the variable's value when it is
 * defined and stays as written when not; `$$` is an escaped `$`.
 */
export function expandVars(input: string, vars: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      out += Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Reads a ConfigMap or Secret the Pod names (null when it does not exist). */
export type ObjectReader = (kind: 'ConfigMap' | 'Secret', namespace: string, name: string) => Promise<K8sObject | null>;

/** A Secret's or ConfigMap's data as strings (Secret `data` is base64). */
export function objectData(kind: 'ConfigMap' | 'Secret', obj: K8sObject): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const data = (obj.data ?? {}) as Record<string, string>;
  if (kind === 'Secret') {
    for (const [k, v] of Object.entries(data)) out[k] = Buffer.from(v, 'base64');
    for (const [k, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) out[k] = Buffer.from(v, 'utf8');
  } else {
    for (const [k, v] of Object.entries(data)) out[k] = Buffer.from(v, 'utf8');
    for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>)) out[k] = Buffer.from(v, 'base64');
  }
  return out;
}

/** The value a `fieldRef` names; only the fields the downward API offers. `podIP` is the Pod's address (the host's is 127.0.0.1). */
export function fieldRefValue(pod: PodObject, fieldPath: string, podIP: string): string {
  const meta = pod.metadata;
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (labelOrAnnotation) return (meta[labelOrAnnotation[1] as 'labels' | 'annotations'] ?? {})[labelOrAnnotation[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name;
    case 'metadata.namespace':
      return meta.namespace ?? 'default';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
    case 'metadata.annotations':
      return Object.entries(meta[fieldPath === 'metadata.labels' ? 'labels' : 'annotations'] ?? {})
        .map(([k, v]) => `${k}="${v}"`)
        .join('\n');
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return '127.0.0.1';
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath "${fieldPath}"`);
  }
}

/** The minimal environment every container gets before its own (`PATH` of a typical image, `HOSTNAME` = the Pod's hostname, `HOME`), then the image's ENV. */
export function baseEnv(pod: PodObject, uid: number, imageEnv: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: podHostname(pod),
    HOME: uid === 0 ? '/root' : '/',
    ...imageEnv,
  };
}

/** The container's environment: base (with the image's ENV), then `envFrom`, then `env` with `$(VAR)` expansion. Throws ContainerConfigError for a missing non-optional reference. */
export async function resolveContainerEnv(
  pod: PodObject,
  container: PodContainer,
  read: ObjectReader,
  uid: number,
  node: { podIP: string; imageEnv?: Record<string, string> } = { podIP: '127.0.0.1' },
): Promise<Record<string, string>> {
  const namespace = pod.metadata.namespace ?? 'default';
  const env = baseEnv(pod, uid, node.imageEnv);
  const cache = new Map<string, K8sObject | null>();
  const get = async (kind: 'ConfigMap' | 'Secret', name: string) => {
    const key = `${kind}/${name}`;
    if (!cache.has(key)) cache.set(key, await read(kind, namespace, name));
    return cache.get(key)!;
  };
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
    if (!ref) continue;
    const obj = await get(kind, ref.name);
    if (!obj) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind === 'Secret' ? 'secret' : 'configmap'} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(objectData(kind, obj))) {
      const name = `${source.prefix ?? ''}${k}`;
      // Keys that are not valid variable names are skipped, as the kubelet does (with an event).
      if (/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) env[name] = v.toString('utf8');
    }
  }
  for (const item of container.env ?? []) {
    if (item.valueFrom === undefined) {
      env[item.name] = expandVars(item.value ?? '', env);
      continue;
    }
    const from = item.valueFrom;
    const keyRef = from.secretKeyRef ?? from.configMapKeyRef;
    if (keyRef) {
      const kind = from.secretKeyRef ? 'Secret' : 'ConfigMap';
      const obj = await get(kind, keyRef.name);
      const value = obj ? objectData(kind, obj)[keyRef.key] : undefined;
      if (value === undefined) {
        if (keyRef.optional) continue;
        throw new ContainerConfigError(
          obj ? `couldn't find key ${keyRef.key} in ${kind} ${namespace}/${keyRef.name}` : `${kind === 'Secret' ? 'secret' : 'configmap'} "${keyRef.name}" not found`,
        );
      }
      env[item.name] = value.toString('utf8');
    } else if (from.fieldRef) {
      env[item.name] = fieldRefValue(pod, from.fieldRef.fieldPath, node.podIP);
    } else if (from.resourceFieldRef) {
      // No resources are enforced; a limit reads as written, otherwise the node's size (2 CPUs, 4 GiB).
      const resource = from.resourceFieldRef.resource;
      const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
      env[item.name] = String(container.resources?.[kind]?.[name] ?? (name === 'cpu' ? '2' : String(4 * 1024 ** 3)));
    }
  }
  return env;
}

/**
 * The host argv of a container: the image table's program for `command[0]` (or the
 * image's entrypoint), then the rest of the command and the args, all `$(VAR)`-expanded.
 * With no command the image's entrypoint runs with `args` (or the image's CMD when no args).
 */
export function containerArgv(container: PodContainer, image: ImageEntry, env: Record<string, string>): string[] {
  const command = container.command?.length ? container.command.map((c) => expandVars(c, env)) : [...(image.entrypoint ?? [])];
  const args = container.args !== undefined ? container.args.map((a) => expandVars(a, env)) : container.command?.length ? [] : [...(image.cmd ?? [])];
  const full = [...command, ...args];
  if (full.length === 0) throw new ContainerStartError('no command specified');
  const [program, ...rest] = full as [string, ...string[]];
  const host = image.binaries[program] ?? image.binaries[program.slice(program.lastIndexOf('/') + 1)];
  if (!host) {
    throw new ContainerStartError(
      `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${program}": executable file not found in $PATH: unknown`,
    );
  }
  return [...host, ...rest];
}

/**
 * The ConfigMap that carries a run's script and the other files of its folder into the
 * runner Pod, mounted at `/topas/source`. ConfigMap keys cannot hold `/` (they match
 * `[-._a-zA-Z0-9]+`), so each path is encoded into its key — every byte outside
 * `[-.a-zA-Z0-9]` (and `_` itself, and a leading `.`) becomes `_XX` in hex
 * (`lib/helpers.lua` → `lib_2Fhelpers.lua`) — and the volume's `items[].path` puts it
 * back at its relative path. The encoding is reversible ({@link decodeConfigMapKey}),
 * so `kubectl describe` stays readable and a user-made `spec.files` ConfigMap can use it.
 */
import type { V1ConfigMap, V1ObjectMeta } from '@kubernetes/client-node';
import { TopasError } from '../../core/errors.js';
import type { RunFiles } from '../../core/run.js';
import { isBundlePath } from '../../core/schemas/files.js';
import { sourceConfigMapName } from './names.js';
import { MANAGED_BY_LABELS, runLabels } from './labels.js';
import { testRunOwnerReferences, type TestRunOwner } from './owner.js';

/** What the API server accepts in one ConfigMap's data: keys and values together (`MaxConfigMapSize`). */
export const MAX_CONFIG_MAP_BYTES = 1024 * 1024;
/** A ConfigMap key is at most a DNS subdomain's length. */
const MAX_KEY = 253;

export class SourceTooLargeError extends TopasError {
  constructor(readonly bytes: number) {
    super('SourceTooLarge', `the script and its files take ${bytes} bytes, more than a ConfigMap holds (${MAX_CONFIG_MAP_BYTES}); the runner fetches them from topas instead`, { bytes });
  }
}

export class InvalidSourcePathError extends TopasError {
  constructor(path: string, why: string) {
    super('InvalidSourcePath', `file ${JSON.stringify(path)} ${why}`, { path });
  }
}

const PLAIN = /[-.a-zA-Z0-9]/;

/** A relative path as a ConfigMap key (`lib/helpers.lua` → `lib_2Fhelpers.lua`). */
export function encodeConfigMapKey(path: string): string {
  let out = '';
  for (const ch of path) {
    if (PLAIN.test(ch) && !(out === '' && ch === '.')) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A key made by {@link encodeConfigMapKey} as its path again (a key without `_XX` is its own path). */
export function decodeConfigMapKey(key: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    const hex = key[i] === '_' ? key.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(key.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

export interface SourceConfigMapOptions {
  runId: string;
  namespace: string;
  /** The script's file name: the key mounted at `/topas/source/<fileName>`. */
  fileName: string;
  script: string;
  /** The other files of its folder, by relative path. */
  files?: RunFiles;
  owner?: TestRunOwner;
}

/** The mount of the source volume: which key goes to which relative path. */
export interface SourceItem {
  key: string;
  path: string;
}

/**
 * The source ConfigMap and the `items` of its volume, or throws SourceTooLargeError when
 * the script and files do not fit one ConfigMap (1 MiB): then no ConfigMap is made and the
 * runner fetches the bundle from topas over the runner protocol (the Pod builder's
 * `source: {kind: 'server'}`). Throws InvalidSourcePathError for a path that cannot be
 * mounted (it would have been refused by the run request's schema already).
 */
/** A source ConfigMap as built. */
export type SourceConfigMap = V1ConfigMap & { metadata: V1ObjectMeta & { name: string; namespace: string }; data: Record<string, string> };

export function sourceConfigMap(o: SourceConfigMapOptions): { configMap: SourceConfigMap; items: SourceItem[] } {
  const entries: [string, string][] = [[o.fileName, o.script], ...Object.entries(o.files ?? {})];
  const data: Record<string, string> = {};
  const items: SourceItem[] = [];
  let bytes = 0;
  for (const [path, content] of entries) {
    if (!isBundlePath(path)) throw new InvalidSourcePathError(path, 'is not a relative path inside the test folder');
    const key = encodeConfigMapKey(path);
    if (key.length > MAX_KEY) throw new InvalidSourcePathError(path, `is too long for a ConfigMap key once encoded (${key.length} > ${MAX_KEY} characters)`);
    if (key in data) throw new InvalidSourcePathError(path, path === o.fileName ? 'is the script itself' : 'is given twice');
    data[key] = content;
    items.push({ key, path });
    bytes += Buffer.byteLength(key) + Buffer.byteLength(content);
  }
  if (bytes > MAX_CONFIG_MAP_BYTES) throw new SourceTooLargeError(bytes);
  const ownerReferences = testRunOwnerReferences(o.owner);
  const configMap: SourceConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: sourceConfigMapName(o.runId),
      namespace: o.namespace,
      labels: runLabels(o.runId, o.owner?.name),
      ...(ownerReferences ? { ownerReferences } : {}),
    },
    immutable: true,
    data,
  };
  return { configMap, items };
}

/** The files of a `spec.files` ConfigMap, by relative path (keys decoded); throws InvalidSourcePathError for a key that is no relative path. */
export function configMapFiles(data: Record<string, string> | undefined): RunFiles {
  const files: RunFiles = {};
  for (const [key, content] of Object.entries(data ?? {})) {
    const path = decodeConfigMapKey(key);
    if (!isBundlePath(path)) throw new InvalidSourcePathError(path, `(ConfigMap key ${JSON.stringify(key)}) is not a relative path inside the test folder`);
    files[path] = content;
  }
  return files;
}

export interface FilesConfigMapOptions {
  name: string;
  namespace: string;
  files: RunFiles;
  labels?: Record<string, string>;
}

/**
 * A ConfigMap holding a test folder's files for `spec.files.configMapRef` (what
 * `kctrl test schedule --kube` makes from the script's folder); throws SourceTooLargeError
 * over 1 MiB and InvalidSourcePathError for a path that cannot be a key.
 */
export function filesConfigMap(o: FilesConfigMapOptions): V1ConfigMap & { metadata: V1ObjectMeta & { name: string; namespace: string }; data: Record<string, string> } {
  const data: Record<string, string> = {};
  let bytes = 0;
  for (const [path, content] of Object.entries(o.files)) {
    if (!isBundlePath(path)) throw new InvalidSourcePathError(path, 'is not a relative path inside the test folder');
    const key = encodeConfigMapKey(path);
    if (key.length > MAX_KEY) throw new InvalidSourcePathError(path, `is too long for a ConfigMap key once encoded (${key.length} > ${MAX_KEY} characters)`);
    data[key] = content;
    bytes += Buffer.byteLength(key) + Buffer.byteLength(content);
  }
  if (bytes > MAX_CONFIG_MAP_BYTES) throw new SourceTooLargeError(bytes);
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: o.name, namespace: o.namespace, labels: { ...MANAGED_BY_LABELS, ...o.labels } }, data };
}

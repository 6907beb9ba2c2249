/**
 * What `topas test schedule --kube` creates, built by pure functions: the `TestRun` and,
 * for a script with other files in its folder, the ConfigMap its `spec.files` names
 * (keys encoded as `encodeConfigMapKey` does, since a key cannot hold `/`). The ConfigMap
 * is created first (the controller reads it when it records the run) and handed to the
 * TestRun afterwards (`filesOwnerPatch`), so deleting the TestRun deletes it too.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { parseOrThrow } from '../../core/schemas/issues.js';
import { TESTRUN_API_VERSION, TESTRUN_KIND, TestRunSpecSchema, type TestRunSpec } from '../../core/testrun.js';
import { MANAGED_BY_LABELS, TESTRUN_LABEL } from '../../kubernetes/manifests/labels.js';
import { testRunOwnerReferences } from '../../kubernetes/manifests/owner.js';
import { encodeConfigMapKey, MAX_CONFIG_MAP_BYTES } from '../../kubernetes/manifests/source-config-map.js';
import { CliError } from '../cli-error.js';

export interface TestRunManifestOptions {
  name: string;
  namespace: string;
  /** Exactly one source. */
  source: { script: string; fileName: string; filesConfigMap?: string } | { git: { url: string; path: string; revision?: string } } | { definition: string };
  appName?: string;
  readOnly?: boolean;
  timeoutSeconds?: number;
  env?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface TestRunManifest {
  apiVersion: typeof TESTRUN_API_VERSION;
  kind: typeof TESTRUN_KIND;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: TestRunSpec;
}

/** The TestRun; its spec checked with the CRD's own schema (errors name `spec.*`). */
export function testRunManifest(o: TestRunManifestOptions): TestRunManifest {
  const s = o.source;
  const spec: Record<string, unknown> = {
    ...('script' in s ? { script: s.script, fileName: s.fileName, ...(s.filesConfigMap ? { files: { configMapRef: { name: s.filesConfigMap } } } : {}) } : {}),
    ...('git' in s ? { git: { url: s.git.url, path: s.git.path, ...(s.git.revision ? { revision: s.git.revision } : {}) } } : {}),
    ...('definition' in s ? { definition: s.definition } : {}),
    ...(o.appName ? { appName: o.appName } : {}),
    ...(o.readOnly ? { readOnly: true } : {}),
    ...(o.timeoutSeconds !== undefined ? { timeout: goDuration(o.timeoutSeconds) } : {}),
    ...(o.env && Object.keys(o.env).length ? { env: o.env } : {}),
  };
  return {
    apiVersion: TESTRUN_API_VERSION,
    kind: TESTRUN_KIND,
    metadata: { name: o.name, namespace: o.namespace, ...(o.labels && Object.keys(o.labels).length ? { labels: o.labels } : {}) },
    spec: parseOrThrow(TestRunSpecSchema, spec, { prefix: ['spec'] }),
  };
}

/** `90` → `1m30s`. */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec || (!h && !m) ? `${sec}s` : ''}`;
}

/** The name of the files ConfigMap of TestRun `name`. */
export const filesConfigMapName = (testRunName: string) => `${testRunName}-files`;

export type FilesConfigMap = V1ConfigMap & { metadata: { name: string; namespace: string }; data: Record<string, string> };

/** The ConfigMap of a script's folder files (not the script: it is in `spec.script`). Throws a CliError over 1 MiB. */
export function filesConfigMap(o: { testRunName: string; namespace: string; files: Record<string, string> }): FilesConfigMap {
  const data: Record<string, string> = {};
  let bytes = 0;
  for (const [path, content] of Object.entries(o.files)) {
    const k = encodeConfigMapKey(path);
    data[k] = content;
    bytes += Buffer.byteLength(k) + Buffer.byteLength(content);
  }
  if (bytes > MAX_CONFIG_MAP_BYTES)
    throw new CliError(`the files of the script's folder are ${Math.ceil(bytes / 1024)} KiB, more than a ConfigMap holds (1 MiB): move the script into a folder of its own, pass --no-bundle, or use --git`);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: filesConfigMapName(o.testRunName), namespace: o.namespace, labels: { ...MANAGED_BY_LABELS, [TESTRUN_LABEL]: o.testRunName } },
    data,
  };
}

/** The merge patch that makes the TestRun own its files ConfigMap. */
export function filesOwnerPatch(testRun: { name: string; uid: string }) {
  return { metadata: { ownerReferences: testRunOwnerReferences(testRun) } };
}

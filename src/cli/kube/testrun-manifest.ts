/**
 * What `topas test schedule --kube` creates from its flags: the TestRun (built by
 * `kubernetes/manifests/testrun-manifest.ts`, its spec checked with the CRD's own schema)
 * and, for a script with other files in its folder, the ConfigMap its `spec.files` names
 * (`filesConfigMap`). The ConfigMap is created first (the controller reads it when it
 * records the run) and handed to the TestRun once that exists (`filesOwnerPatch`), so
 * deleting the TestRun deletes it too.
 */
import { TESTRUN_LABEL } from '../../kubernetes/manifests/labels.js';
import { testRunOwnerReferences } from '../../kubernetes/manifests/owner.js';
import { filesConfigMap } from '../../kubernetes/manifests/source-config-map.js';
import { testRunManifest, type TestRunManifest } from '../../kubernetes/manifests/testrun-manifest.js';
import type { TestRunSpec } from '../../core/testrun.js';

export interface ScheduleManifestOptions {
  name: string;
  namespace: string;
  /** Exactly one source. */
  source: { script: string; fileName: string; files?: Record<string, string> } | { git: { url: string; path: string; revision?: string } } | { definition: string };
  appName?: string;
  readOnly?: boolean;
  timeoutSeconds?: number;
  env?: Record<string, string>;
  labels?: Record<string, string>;
}

/** The name of the files ConfigMap of TestRun `name`. */
export const filesConfigMapName = (testRunName: string) => `${testRunName}-files`;

/**
 * The TestRun and its files ConfigMap (null without files). Throws ValidationError
 * (fields `spec.*`), SourceTooLargeError over 1 MiB of files.
 */
export function scheduleManifests(o: ScheduleManifestOptions): { testRun: TestRunManifest; files: ReturnType<typeof filesConfigMap> | null } {
  const s = o.source;
  const files =
    'script' in s && s.files && Object.keys(s.files).length
      ? filesConfigMap({ name: filesConfigMapName(o.name), namespace: o.namespace, files: s.files, labels: { [TESTRUN_LABEL]: o.name } })
      : null;
  const spec = {
    ...('script' in s ? { script: s.script, fileName: s.fileName, ...(files ? { files: { configMapRef: { name: files.metadata.name } } } : {}) } : {}),
    ...('git' in s ? { git: { url: s.git.url, path: s.git.path, ...(s.git.revision ? { revision: s.git.revision } : {}) } } : {}),
    ...('definition' in s ? { definition: s.definition } : {}),
    ...(o.appName ? { appName: o.appName } : {}),
    ...(o.readOnly ? { readOnly: true } : {}),
    ...(o.timeoutSeconds !== undefined ? { timeout: goDuration(o.timeoutSeconds) } : {}),
    ...(o.env && Object.keys(o.env).length ? { env: o.env } : {}),
  } as TestRunSpec;
  return { testRun: testRunManifest({ name: o.name, namespace: o.namespace, spec, ...(o.labels ? { labels: o.labels } : {}) }), files };
}

/** `90` → `1m30s`. */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec || (!h && !m) ? `${sec}s` : ''}`;
}

/** The merge patch that makes the TestRun own its files ConfigMap. */
export function filesOwnerPatch(testRun: { name: string; uid: string }) {
  return { metadata: { ownerReferences: testRunOwnerReferences(testRun) } };
}

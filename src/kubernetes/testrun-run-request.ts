/**
 * A TestRun as a run request: what the controller submits to the engine (origin `crd`,
 * `k8sRef`), the same request every other entry point makes. Pure: what the spec points
 * at in the cluster (envFrom Secrets and ConfigMaps, the `files` ConfigMap) is read by
 * the controller and passed in as {@link TestRunInputs}.
 *
 * Env: `envFrom` entries in order, then `spec.env` over them (as Kubernetes does for a
 * container). Values from Secrets are returned in `secretEnvNames` too: the controller
 * must submit them as secret env of the run, so topas masks them in everything the run
 * reports whatever their names (a name like `DB_PASSWORD` is masked anyway). They are
 * never put on the runner Pod: the runner gets its env from topas.
 */
import type { z } from 'zod';
import type { RunFiles } from '../core/run.js';
import { ENV_NAME } from '../core/schemas/env.js';
import type { RunRequestSchema } from '../core/schemas/run-request.js';
import { DEFAULT_GIT_REVISION, scriptFileName, specTimeoutSeconds, type TestRun } from '../core/testrun.js';

/** A git source of a run request (the `git` engineer's `source: {git: {url, path, revision}}`). */
export interface GitRunRequestSource {
  git: { url: string; path: string; revision: string };
}

type RunRequestInput = z.input<typeof RunRequestSchema>;

/** The engine's run request, with git sources in the shape the git engineer adds. */
export type TestRunRequest = Omit<RunRequestInput, 'source'> & { source?: RunRequestInput['source'] | GitRunRequestSource };

/** What the controller read from the cluster for a TestRun. */
export interface TestRunInputs {
  /** One entry per `spec.envFrom` entry, in order: its keys and values, and whether they came from a Secret. */
  envFrom?: { data: Record<string, string>; secret: boolean }[];
  /** The files of `spec.files.configMapRef`, by relative path (keys decoded with `decodeConfigMapKey`). */
  files?: RunFiles;
}

export interface TestRunRunRequest {
  request: TestRunRequest;
  /** Env names whose values came from a Secret (and were not overridden by `spec.env`). */
  secretEnvNames: string[];
  /** envFrom keys that are not valid env names, skipped (Kubernetes skips them too and records an event). */
  skippedEnvKeys: string[];
}

/** The run request of `testRun`. */
export function testRunToRunRequest(testRun: TestRun, inputs: TestRunInputs = {}): TestRunRunRequest {
  const { spec, metadata } = testRun;
  const env: Record<string, string> = {};
  const secret = new Set<string>();
  const skippedEnvKeys: string[] = [];
  for (const entry of inputs.envFrom ?? []) {
    for (const [k, v] of Object.entries(entry.data)) {
      if (!ENV_NAME.test(k)) {
        skippedEnvKeys.push(k);
        continue;
      }
      env[k] = v;
      if (entry.secret) secret.add(k);
      else secret.delete(k);
    }
  }
  for (const [k, v] of Object.entries(spec.env ?? {})) {
    env[k] = v;
    secret.delete(k);
  }

  const source: Pick<TestRunRequest, 'script' | 'fileName' | 'files' | 'definitionId' | 'source'> = spec.git
    ? { source: { git: { url: spec.git.url, path: spec.git.path, revision: spec.git.revision ?? DEFAULT_GIT_REVISION } } }
    : spec.definition !== undefined
      ? { definitionId: spec.definition }
      : {
          script: spec.script!,
          fileName: scriptFileName(testRun),
          ...(inputs.files && Object.keys(inputs.files).length ? { files: inputs.files } : {}),
        };

  const request: TestRunRequest = {
    origin: 'crd',
    name: metadata.name,
    ...source,
    ...(Object.keys(env).length ? { env } : {}),
    ...(spec.timeout !== undefined ? { timeoutSeconds: specTimeoutSeconds(spec) } : {}),
    ...(metadata.labels && Object.keys(metadata.labels).length ? { labels: { ...metadata.labels } } : {}),
    ...(spec.appName !== undefined ? { appName: spec.appName } : {}),
    ...(spec.readOnly !== undefined ? { appReadOnly: spec.readOnly } : {}),
    k8sRef: { namespace: metadata.namespace, name: metadata.name, ...(metadata.uid ? { uid: metadata.uid } : {}) },
  };
  return { request, secretEnvNames: [...secret].sort(), skippedEnvKeys };
}

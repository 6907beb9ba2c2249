/**
 * Names of the objects of a run, derived from the run id alone, so that a retry after
 * a conflict or a restart finds the object it made before instead of making a second
 * one. A run id is a UUID (`src/core/ids.ts`): lower-cased it is DNS-1123 safe, and
 * `topas-run-<uuid>-source` is 53 characters, within a DNS label's 63.
 */
import { TopasError } from '../../core/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class InvalidRunIdError extends TopasError {
  constructor(runId: string) {
    super('InvalidRunId', `run id ${JSON.stringify(runId)} is not a UUID, so it cannot name Kubernetes objects`, { runId });
  }
}

function base(runId: string): string {
  const id = runId.toLowerCase();
  if (!UUID.test(id)) throw new InvalidRunIdError(runId);
  return `topas-run-${id}`;
}

/** The runner Pod: `topas-run-<id>`. */
export function runnerPodName(runId: string): string {
  return base(runId);
}

/** The ConfigMap with the script and its folder's files: `topas-run-<id>-source`. */
export function sourceConfigMapName(runId: string): string {
  return `${base(runId)}-source`;
}

/** The Secret with the per-run token: `topas-run-<id>-token`. */
export function tokenSecretName(runId: string): string {
  return `${base(runId)}-token`;
}

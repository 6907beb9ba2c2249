/**
 * How runs are shown outside topas (API, CLI, dashboard): secrets masked, and in
 * lists without the script and the bundled files. The stored run keeps both, so
 * it can execute and be re-run.
 */
import type { Run, RunSource } from './run.js';
import { maskSecretEnv } from './secrets.js';

/** Where a run's script came from, without the script and files themselves. */
export type RunSourceRef =
  | { type: 'inline'; fileName?: string }
  | { type: 'definition'; definitionId: string; fileName?: string }
  | { type: 'git'; url: string; path: string; revision: string; commit?: string };

/** A run as lists show it: everything but the script and the bundled files. */
export type RunListItem = Omit<Run, 'source'> & { source: RunSourceRef };

/** A run (or a definition) with the values of its secret env variables shown as `***`. */
export function maskSecrets<T extends Pick<Run, 'env'>>(run: T): T {
  const env = maskSecretEnv(run.env);
  return env === run.env ? run : { ...run, env };
}

export function sourceRef(source: RunSource): RunSourceRef {
  switch (source.type) {
    case 'inline':
      return { type: 'inline', ...(source.fileName !== undefined ? { fileName: source.fileName } : {}) };
    case 'definition':
      return { type: 'definition', definitionId: source.definitionId, ...(source.fileName !== undefined ? { fileName: source.fileName } : {}) };
    case 'git':
      return { type: 'git', url: source.url, path: source.path, revision: source.revision, ...(source.commit ? { commit: source.commit } : {}) };
  }
}

/** The run as a list item: secrets masked, script and files left out. */
export function toRunListItem(run: Run): RunListItem {
  return { ...maskSecrets(run), source: sourceRef(run.source) };
}

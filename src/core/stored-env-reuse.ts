/**
 * Stored env values (a definition's, or an earlier run's) may be secrets that the
 * caller cannot read. Whoever may change what such a run does — where it connects
 * (an env value such as `BASE_URL`, the App it targets) or what it runs (the script,
 * the files) — can send those secrets anywhere. So that takes the editor role; a
 * runner may only run the stored test as it is.
 */
import { keepMaskedSecrets } from './secrets.js';

/** The rule, in the words a 403 uses. */
export const STORED_SECRETS_RULE =
  'a run that reuses stored secret values and changes the script, the files or any env value needs the editor role; runner may only rerun as-is';

/** What a run is built on: the stored test it repeats. */
export interface StoredRunBasis {
  env: Record<string, string>;
  script?: string;
  files?: Record<string, string>;
  appName?: string | null;
}

/** What a request asks to change (absent: keep the stored value). */
export interface RunChanges {
  env?: Record<string, string>;
  script?: string;
  files?: Record<string, string>;
  appName?: string | null;
}

/**
 * The fields a request changes (`env.BASE_URL`, `script`, `files`, `appName`) when the
 * new run keeps at least one stored env value; [] when it keeps none or changes
 * nothing. A secret sent back as `***` (as the API shows it) keeps its stored value.
 * Every stored value counts, not only secret-looking names: a password can hide in a
 * URL (`DB_URL=postgres://user:pass@host`).
 */
export function changesOverStoredEnv(stored: StoredRunBasis, change: RunChanges): string[] {
  const env = keepMaskedSecrets(change.env ?? {}, stored.env);
  const keepsStored = Object.keys(stored.env).some((name) => !Object.hasOwn(env, name) || env[name] === stored.env[name]);
  if (!keepsStored) return [];
  const changed: string[] = [];
  for (const [name, value] of Object.entries(env)) if (stored.env[name] !== value) changed.push(`env.${name}`);
  if (change.script !== undefined && change.script !== stored.script) changed.push('script');
  if (change.files !== undefined && JSON.stringify(change.files) !== JSON.stringify(stored.files ?? {})) changed.push('files');
  if (change.appName !== undefined && (change.appName ?? null) !== (stored.appName ?? null)) changed.push('appName');
  return changed;
}

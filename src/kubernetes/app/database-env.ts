/**
 * The env a service's containers get for the App's databases: `DATABASE_URL` (the first
 * database) and `DATABASE_URL_<NAME>` (every database; NAME upper-cased, `-` → `_`), as
 * locally (`databaseUrlEnv`). The URL names the database's Service (`users-db`, resolved
 * by cluster DNS); user, password and database name come from the credentials Secret
 * through `TOPAS_DB_<NAME>_*` variables and `$(VAR)` references, so the password never
 * appears in the Deployment. The Secret holds them percent-encoded too, so a password
 * with `@` or `/` still makes a valid URL.
 */
import type { V1EnvVar } from '@kubernetes/client-node';
import type { DatabaseSpec } from '../../core/app.js';
import { credentialsSecretName } from './app-child-meta.js';

/** Keys of the credentials Secret: the ones the postgres image reads, and their URL-encoded forms. */
export const CREDENTIAL_KEYS = {
  user: 'POSTGRES_USER',
  password: 'POSTGRES_PASSWORD',
  dbname: 'POSTGRES_DB',
  userEncoded: 'POSTGRES_USER_URLENCODED',
  passwordEncoded: 'POSTGRES_PASSWORD_URLENCODED',
  dbnameEncoded: 'POSTGRES_DB_URLENCODED',
} as const;

/** `users-db` → `USERS_DB`. */
export function envNamePart(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/** An env var fed from a key of the database's credentials Secret. */
export function secretEnv(name: string, app: string, database: string, key: string): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: credentialsSecretName(app, database), key } } };
}

/** The env names `databaseUrlEnvVars` sets (a service's `envVars` of the same name are overridden, as locally). */
export function databaseUrlEnvNames(databases: readonly Pick<DatabaseSpec, 'name'>[]): string[] {
  return databases.flatMap((d, i) => [...(i === 0 ? ['DATABASE_URL'] : []), `DATABASE_URL_${envNamePart(d.name)}`]);
}

/** The env vars (in order: `$(VAR)` only sees variables defined before it) that give a service its database URLs. */
export function databaseUrlEnvVars(app: string, databases: readonly DatabaseSpec[]): V1EnvVar[] {
  const feeds: V1EnvVar[] = [];
  const urls: V1EnvVar[] = [];
  databases.forEach((d, i) => {
    const part = envNamePart(d.name);
    const user = `TOPAS_DB_${part}_USER`;
    const password = `TOPAS_DB_${part}_PASSWORD`;
    const dbname = `TOPAS_DB_${part}_NAME`;
    feeds.push(secretEnv(user, app, d.name, CREDENTIAL_KEYS.userEncoded));
    if (d.credentials.password) feeds.push(secretEnv(password, app, d.name, CREDENTIAL_KEYS.passwordEncoded));
    feeds.push(secretEnv(dbname, app, d.name, CREDENTIAL_KEYS.dbnameEncoded));
    const auth = d.credentials.password ? `$(${user}):$(${password})` : `$(${user})`;
    const url = `postgres://${auth}@${d.name}:${d.port}/$(${dbname})`;
    if (i === 0) urls.push({ name: 'DATABASE_URL', value: url });
    urls.push({ name: `DATABASE_URL_${part}`, value: url });
  });
  return [...feeds, ...urls];
}

/** A value Kubernetes must not expand: every `$` doubled (`$$` is a literal `$`), so `$(X)` stays as written. */
export function escapeEnvValue(value: string): string {
  return value.replace(/\$/g, () => '$$');
}

/**
 * How Apps are shown outside topas (API, CLI, dashboard): database passwords and the
 * values of secret-looking env variables read `***`, and those secrets are masked in
 * the status texts (a replica's last log lines, exit and condition messages) and in
 * `initSQL`. The stored App keeps the real values: its processes, databases and the
 * tests that use them get them. An App sent back as it was shown keeps its secrets
 * (`keepMaskedAppSecrets`), as a definition's env does.
 */
import type { App, AppManifest } from './app.js';
import { keepMaskedSecrets, MASK, maskSecretEnv, SecretMasker, secretsToMask } from './secrets.js';

type Spec = AppManifest['spec'];

/** Every secret of a spec as text to mask: database passwords and secret env values (with their encoded forms). */
function maskerOf(spec: Spec): SecretMasker {
  const env: Record<string, string> = {};
  let n = 0;
  for (const s of spec.services) {
    for (const [name, value] of Object.entries({ ...s.envVars, ...s.local?.env })) env[`${name}_${n++}`] = value;
  }
  for (const d of spec.databases) if (d.credentials.password) env[`PASSWORD_${n++}`] = d.credentials.password;
  return new SecretMasker(secretsToMask(env));
}

function maskEnv(env: Record<string, string> | undefined): Record<string, string> | undefined {
  return env === undefined ? undefined : maskSecretEnv(env);
}

/** The spec as shown: passwords `***`, secret env values `***`, secrets in initSQL masked. */
function maskSpec(spec: Spec, masker: SecretMasker): Spec {
  return {
    ...spec,
    services: spec.services.map((s) => ({
      ...s,
      ...(s.envVars ? { envVars: maskEnv(s.envVars) } : {}),
      ...(s.local ? { local: { ...s.local, ...(s.local.env ? { env: maskEnv(s.local.env) } : {}) } } : {}),
    })),
    databases: spec.databases.map((d) => ({
      ...d,
      credentials: { ...d.credentials, password: d.credentials.password ? MASK : '' },
      ...(d.initSQL !== undefined ? { initSQL: masker.mask(d.initSQL) } : {}),
    })),
  };
}

/** The App as the API shows it: its secrets masked in the spec and in every status text. */
export function maskAppSecrets(app: App): App {
  const masker = maskerOf(app.spec);
  const status = app.status;
  return {
    ...app,
    spec: maskSpec(app.spec, masker),
    status: {
      ...status,
      services: status.services.map((s) => ({
        ...s,
        ...(s.message !== undefined ? { message: masker.mask(s.message) } : {}),
        ...(s.replicaStatuses
          ? {
              replicaStatuses: s.replicaStatuses.map((r) => ({
                ...r,
                lastExit: r.lastExit === null ? null : masker.mask(r.lastExit),
                ...(r.lastLog ? { lastLog: r.lastLog.map((line) => masker.mask(line)) } : {}),
              })),
            }
          : {}),
      })),
      databases: status.databases.map((d) => ({ ...d, ...(d.message !== undefined ? { message: masker.mask(d.message) } : {}) })),
      conditions: status.conditions.map((c) => ({ ...c, message: masker.mask(c.message) })),
    },
  };
}

/**
 * A spec sent back after it was shown masked keeps the stored secrets: a password that
 * reads `***` is the stored one (of the database with that name), env values and an
 * initSQL as shown are the stored ones (of the service or database with that name).
 * Anything changed is taken as sent.
 */
export function keepMaskedAppSecrets(next: Spec, stored: Spec): Spec {
  const storedService = new Map(stored.services.map((s) => [s.name, s]));
  const storedDatabase = new Map(stored.databases.map((d) => [d.name, d]));
  const storedMasker = maskerOf(stored);
  return {
    ...next,
    services: next.services.map((s) => {
      const before = storedService.get(s.name);
      if (!before) return s;
      return {
        ...s,
        ...(s.envVars ? { envVars: keepMaskedSecrets(s.envVars, before.envVars ?? {}) } : {}),
        ...(s.local?.env ? { local: { ...s.local, env: keepMaskedSecrets(s.local.env, before.local?.env ?? {}) } } : {}),
      };
    }),
    databases: next.databases.map((d) => {
      const before = storedDatabase.get(d.name);
      if (!before) return d;
      const password = d.credentials.password === MASK && before.credentials.password ? before.credentials.password : d.credentials.password;
      const shownSQL = before.initSQL === undefined ? undefined : storedMasker.mask(before.initSQL);
      const initSQL = d.initSQL !== undefined && d.initSQL === shownSQL ? before.initSQL : d.initSQL;
      return { ...d, credentials: { ...d.credentials, password }, ...(initSQL !== undefined ? { initSQL } : {}) };
    }),
  };
}

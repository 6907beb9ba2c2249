/**
 * Which env variables hold secrets. The runner masks their values in everything a
 * run reports; the API shows them as `***`. One rule for both, here.
 */

/** Env variables whose name looks like this hold secrets: their values never leave the run unmasked. */
export const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL)/i;

/** What a secret is shown as. */
export const MASK = '***';

/** True when an env variable of this name holds a secret (`DB_PASSWORD`, `GITHUB_TOKEN`, `apiKey`). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The env as shown outside the run: every secret's value is `***`, whatever its length. */
export function maskSecretEnv(env: Record<string, string>): Record<string, string> {
  let masked: Record<string, string> | null = null;
  for (const name of Object.keys(env)) {
    if (!isSecretName(name)) continue;
    masked ??= { ...env };
    masked[name] = MASK;
  }
  return masked ?? env;
}

/**
 * An env sent back after it was shown masked: a secret whose value is still `***`
 * keeps its stored value (so reading, editing and saving a definition loses nothing).
 */
export function keepMaskedSecrets(next: Record<string, string>, stored: Record<string, string>): Record<string, string> {
  let kept: Record<string, string> | null = null;
  for (const [name, value] of Object.entries(next)) {
    if (value !== MASK || !isSecretName(name) || stored[name] === undefined) continue;
    kept ??= { ...next };
    kept[name] = stored[name]!;
  }
  return kept ?? next;
}

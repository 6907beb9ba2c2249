/**
 * Secrets topas hands out — API tokens, dashboard session cookies, one-time login
 * codes — and the one way they are stored: a SHA-256 hash (the secrets are 256
 * random bits, so a fast hash is enough; nothing to brute-force).
 */
import { createHash, randomBytes } from 'node:crypto';

/** Every API token starts with this, so a leaked one is easy to recognise (and to scan for). */
export const TOKEN_PREFIX = 'topas_';

/** A new API token secret: `topas_` + 43 characters of base64url (32 random bytes). */
export function newTokenSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** A new random value for a session cookie or a one-time login code. */
export function newOpaqueSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** How a secret is stored and looked up: hex SHA-256. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

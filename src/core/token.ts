/**
 * API tokens as topas keeps them: a name, a role and dates. The secret itself is
 * shown once, when the token is created, and stored only as a SHA-256 hash.
 */
import type { Role } from './roles.js';

/** A token as listed (never with its secret). */
export interface TokenRecord {
  /** A UUID; `topas token revoke` takes it or the name. */
  id: string;
  /** Unique among tokens that are not revoked (`admin` for the one the first start creates). */
  name: string;
  role: Role;
  /** ISO-8601 timestamps. */
  createdAt: string;
  /** When a request last used it (updated at most once a minute); null if never. */
  lastUsedAt: string | null;
  /** When it was revoked; a revoked token and its sessions no longer work. */
  revokedAt: string | null;
}

/** Token names: what `--name` takes (letters, digits, `.`, `_`, `-`; 1..63, starting with a letter or digit). */
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

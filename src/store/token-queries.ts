/**
 * The SQL behind API tokens and dashboard sessions (migration 6). Secrets never
 * reach the database: callers pass SHA-256 hashes. A revoked token keeps its row
 * (the list shows it) and loses its sessions in the same transaction.
 */
import { ConflictError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Role } from '../core/roles.js';
import type { TokenRecord } from '../core/token.js';
import type { Sql } from './sql.js';
import { iso, isoOrNull } from './row-mapping.js';

type Row = Record<string, unknown>;

/** A token to store: its secret's hash, never the secret. */
export interface NewToken {
  id?: string;
  name: string;
  role: Role;
  /** Hex SHA-256 of the secret. */
  secretHash: string;
}

/** A dashboard session to store, by the hash of its cookie value. */
export interface NewSession {
  idHash: string;
  tokenId: string;
  /** ISO-8601. */
  expiresAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toToken(row: Row): TokenRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    role: row.role as Role,
    createdAt: iso(row.created_at),
    lastUsedAt: isoOrNull(row.last_used_at),
    revokedAt: isoOrNull(row.revoked_at),
  };
}

export async function createToken(sql: Sql, input: NewToken): Promise<TokenRecord> {
  try {
    const { rows } = await sql.query('INSERT INTO tokens (id, name, role, secret_hash) VALUES ($1, $2, $3, $4) RETURNING *', [
      input.id ?? newId(),
      input.name,
      input.role,
      input.secretHash,
    ]);
    return toToken(rows[0]!);
  } catch (error) {
    if ((error as { code?: unknown }).code !== '23505') throw error;
    const constraint = (error as { constraint?: string }).constraint ?? '';
    if (constraint.includes('secret_hash')) throw new ConflictError('this token secret is already stored', { field: 'secret' });
    if (constraint.endsWith('_pkey')) throw new ConflictError(`a token with id ${JSON.stringify(input.id)} already exists`, { id: input.id });
    throw new ConflictError(`a token named ${JSON.stringify(input.name)} already exists; choose another name, or revoke it first (topas token revoke ${input.name})`, {
      field: 'name',
      name: input.name,
    });
  }
}

export async function listTokens(sql: Sql): Promise<TokenRecord[]> {
  const { rows } = await sql.query('SELECT * FROM tokens ORDER BY created_at, id');
  return rows.map(toToken);
}

/** The token whose secret has this hash, revoked or not. */
export async function findTokenBySecretHash(sql: Sql, secretHash: string): Promise<TokenRecord | null> {
  const { rows } = await sql.query('SELECT * FROM tokens WHERE secret_hash = $1', [secretHash]);
  return rows[0] ? toToken(rows[0]) : null;
}

/** A token by id (revoked or not), or the live token of that name. */
export async function getToken(sql: Sql, idOrName: string): Promise<TokenRecord | null> {
  const { rows } = UUID.test(idOrName)
    ? await sql.query('SELECT * FROM tokens WHERE id = $1', [idOrName.toLowerCase()])
    : await sql.query('SELECT * FROM tokens WHERE name = $1 AND revoked_at IS NULL', [idOrName]);
  return rows[0] ? toToken(rows[0]) : null;
}

export async function touchToken(sql: Sql, id: string): Promise<void> {
  await sql.query('UPDATE tokens SET last_used_at = now() WHERE id = $1', [id]);
}

/** Revokes a live token and deletes its sessions; null when there is no live token with that id. */
export async function revokeToken(sql: Sql, id: string): Promise<TokenRecord | null> {
  return sql.transaction(async (tx) => {
    const { rows } = await tx.query('UPDATE tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING *', [id]);
    if (!rows[0]) return null;
    await tx.query('DELETE FROM sessions WHERE token_id = $1', [id]);
    return toToken(rows[0]);
  });
}

/** Stores a session (and drops expired ones, so the table does not grow). */
export async function createSession(sql: Sql, input: NewSession): Promise<void> {
  await sql.query('DELETE FROM sessions WHERE expires_at <= now()');
  await sql.query('INSERT INTO sessions (id_hash, token_id, expires_at) VALUES ($1, $2, $3)', [input.idHash, input.tokenId, input.expiresAt]);
}

/** The live token behind an unexpired session; null when the session is unknown, expired or its token revoked. */
export async function findSession(sql: Sql, idHash: string): Promise<{ token: TokenRecord; expiresAt: string } | null> {
  const { rows } = await sql.query(
    `SELECT t.*, s.expires_at AS session_expires_at FROM sessions s JOIN tokens t ON t.id = s.token_id
     WHERE s.id_hash = $1 AND s.expires_at > now() AND t.revoked_at IS NULL`,
    [idHash],
  );
  return rows[0] ? { token: toToken(rows[0]), expiresAt: iso(rows[0].session_expires_at) } : null;
}

export async function deleteSession(sql: Sql, idHash: string): Promise<boolean> {
  const { affectedRows } = await sql.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
  return affectedRows > 0;
}

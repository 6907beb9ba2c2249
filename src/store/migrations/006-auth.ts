/**
 * Authentication: API tokens (stored as SHA-256 hashes of their secrets, with a
 * role) and dashboard sessions made from them (hashed too, with an expiry), so both
 * survive a restart and are shared by every instance on one database. A token's
 * name is unique among tokens that are not revoked; revoking keeps the row (for the
 * list) and deletes its sessions.
 */
export const sql = /* sql */ `
CREATE TABLE tokens (
  id           uuid PRIMARY KEY,
  name         text COLLATE "C" NOT NULL,
  role         text NOT NULL CHECK (role IN ('viewer', 'runner', 'editor', 'admin')),
  secret_hash  text NOT NULL UNIQUE,
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  last_used_at timestamptz(3),
  revoked_at   timestamptz(3)
);
CREATE UNIQUE INDEX tokens_live_name_idx ON tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE sessions (
  id_hash    text PRIMARY KEY,
  token_id   uuid NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  expires_at timestamptz(3) NOT NULL
);
CREATE INDEX sessions_token_idx ON sessions (token_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
`;

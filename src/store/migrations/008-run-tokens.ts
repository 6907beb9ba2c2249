/**
 * Per-run tokens: the credential of a remote runner (`topas runner`), which allows
 * the runner routes of exactly one run (`/api/runs/{id}/runner/…`) and nothing else.
 * Stored as the SHA-256 hash of the secret, like API tokens; a token works only while
 * its run is Queued or Running and before `expires_at`, and its row goes with its run.
 */
export const sql = /* sql */ `
CREATE TABLE run_tokens (
  run_id      text COLLATE "C" PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  secret_hash text NOT NULL UNIQUE,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  expires_at  timestamptz(3) NOT NULL
);
`;

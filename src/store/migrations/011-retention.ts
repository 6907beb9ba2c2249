/**
 * Retention (issue 12 §6): finished runs are deleted, and their log lines expire,
 * some days after they finished (`core/retention.ts`).
 *
 * - `runs.logs_expired_at`: when retention deleted the run's log lines (null: it has
 *   whatever it logged). The run, its steps, assertions and test results stay.
 * - `runs_retention_idx`: finished runs oldest-finished first, so a sweep reads the
 *   next batch of candidates as an index range instead of the table.
 * - `runs_logs_expiry_idx`: the same for runs whose logs have not expired yet; a run
 *   leaves it when its logs expire, so each batch starts at the front of the index.
 *   Queued and Running runs are in neither.
 */
export const sql = /* sql */ `
ALTER TABLE runs ADD COLUMN logs_expired_at timestamptz(3);

CREATE INDEX runs_retention_idx ON runs (finished_at, id)
  WHERE phase IN ('Passed','Failed','Error','TimedOut','Cancelled');
CREATE INDEX runs_logs_expiry_idx ON runs (finished_at, id)
  WHERE phase IN ('Passed','Failed','Error','TimedOut','Cancelled') AND logs_expired_at IS NULL;
`;

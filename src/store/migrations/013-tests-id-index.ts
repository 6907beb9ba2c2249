/**
 * `tests.id` (the first 16 hex digits of the key's md5, the id in URLs) is looked up
 * through a plain index; its UNIQUE constraint is gone. The key is what is unique (the
 * primary key, which the upsert that records results arbitrates with `ON CONFLICT`);
 * the id's own unique index was not an arbiter, so on PostgreSQL two run ends that
 * inserted the same new test at once could fail one of them with a unique violation on
 * `tests_id_key` instead of updating (reproduced: 1 in ~1,000 concurrent ends of runs
 * sharing new tests). And two keys whose md5 began alike would have made every end of
 * a run with the second key fail, for as long as it was retried.
 */
export const sql = /* sql */ `
ALTER TABLE tests DROP CONSTRAINT tests_id_key;
CREATE INDEX tests_id_idx ON tests (id);
`;

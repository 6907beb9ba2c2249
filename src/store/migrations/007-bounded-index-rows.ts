/**
 * No index row can outgrow a btree page because of what a user wrote.
 *
 * A btree entry holds at most ~2.7 KB. `runs_finished_idx` (migration 4) carried the
 * run's labels: a run with big labels was created fine (a Queued run is not in that
 * partial index) but the statement that ended it failed, for as long as it was
 * retried — the run stayed Running and held a concurrency slot forever.
 *
 * Now every btree over user text has a bound the database itself enforces:
 * - `name` at most 1024 bytes (the API allows 200 characters, or a 255-character file
 *   name: at most 1020 bytes in UTF-8), `app_name` 253 (a DNS name), `definition_id`
 *   128 (an id), the definition's `name` 1024 — a longer value is refused when the
 *   row is created (a 400 naming the field), never when a run ends;
 * - labels are unbounded (Kubernetes allows 64 labels of ~380 bytes each), so they
 *   are in the covering index only for runs whose labels fit (`labels::text` at most
 *   768 bytes — a dozen ordinary labels): `runs_finished_idx`. Finished runs with
 *   bigger labels are in `runs_finished_wide_idx`, which carries no labels; trends and
 *   top lists read both (UNION ALL), index-only for the first, through the table for
 *   the rare second. The biggest row the bounds allow is about 2.2 KB.
 *
 * Names already longer than the bound (possible only for a name derived from a long
 * file name outside the API) are shortened first, so the checks hold for every row
 * and ending an old run never trips them; App names and definition ids were always
 * validated (DNS names, generated ids).
 */
export const sql = /* sql */ `
UPDATE runs SET name = left(name, 200) || '…' WHERE octet_length(name) > 1024;
UPDATE test_definitions SET name = left(name, 200) || '…' || id WHERE octet_length(name) > 1024;

ALTER TABLE runs ADD CONSTRAINT runs_name_size CHECK (octet_length(name) <= 1024);
ALTER TABLE runs ADD CONSTRAINT runs_app_name_size CHECK (octet_length(app_name) <= 253);
ALTER TABLE runs ADD CONSTRAINT runs_definition_id_size CHECK (octet_length(definition_id) <= 128);
ALTER TABLE test_definitions ADD CONSTRAINT test_definitions_name_size CHECK (octet_length(name) <= 1024);

DROP INDEX runs_finished_idx;
CREATE INDEX runs_finished_idx ON runs (created_at) INCLUDE (phase, duration_ms, definition_id, name, app_name, labels)
  WHERE phase IN ('Passed','Failed','Error','TimedOut','Cancelled') AND octet_length(labels::text) <= 768;
CREATE INDEX runs_finished_wide_idx ON runs (created_at) INCLUDE (phase, duration_ms, definition_id, name, app_name)
  WHERE phase IN ('Passed','Failed','Error','TimedOut','Cancelled') AND octet_length(labels::text) > 768;
`;

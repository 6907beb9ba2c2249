/**
 * Runs per phase without counting the table, and the indexes trends and top lists
 * read.
 *
 * `run_counts` holds deltas per (phase, shard); the count of a phase is the sum of
 * its shards. Statement-level triggers on `runs` add each statement's net change
 * per phase (from its transition tables), in the writing transaction, so the sums
 * are exact at every commit. A transaction writes to shard `txid % 16`: concurrent
 * writers on PostgreSQL land on different rows instead of queueing on one hot row
 * per phase, and each statement touches its rows in phase order, so two writers
 * never wait on each other in a cycle. TRUNCATE empties the counts.
 *
 * `runs_finished_idx` covers what trends and top lists aggregate (finished runs by
 * creation time), so they read an index, not the heap; `runs_name_idx` finds the
 * runs of a test without a definition by name (the previous run, a top list's
 * slowest run).
 */
export const sql = /* sql */ `
CREATE TABLE run_counts (
  phase text NOT NULL,
  shard smallint NOT NULL,
  n     bigint NOT NULL,
  PRIMARY KEY (phase, shard)
);

CREATE FUNCTION run_counts_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO run_counts AS c (phase, shard, n)
  SELECT phase, (txid_current() % 16)::smallint, count(*) FROM new_runs GROUP BY phase ORDER BY phase
  ON CONFLICT (phase, shard) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END $$;

CREATE FUNCTION run_counts_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO run_counts AS c (phase, shard, n)
  SELECT phase, (txid_current() % 16)::smallint, sum(d)
    FROM (SELECT phase, -1 AS d FROM old_runs UNION ALL SELECT phase, 1 FROM new_runs) x
   GROUP BY phase HAVING sum(d) <> 0 ORDER BY phase
  ON CONFLICT (phase, shard) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END $$;

CREATE FUNCTION run_counts_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO run_counts AS c (phase, shard, n)
  SELECT phase, (txid_current() % 16)::smallint, -count(*) FROM old_runs GROUP BY phase ORDER BY phase
  ON CONFLICT (phase, shard) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END $$;

CREATE FUNCTION run_counts_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM run_counts;
  RETURN NULL;
END $$;

CREATE TRIGGER runs_count_insert AFTER INSERT ON runs REFERENCING NEW TABLE AS new_runs
  FOR EACH STATEMENT EXECUTE FUNCTION run_counts_on_insert();
CREATE TRIGGER runs_count_update AFTER UPDATE ON runs REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs
  FOR EACH STATEMENT EXECUTE FUNCTION run_counts_on_update();
CREATE TRIGGER runs_count_delete AFTER DELETE ON runs REFERENCING OLD TABLE AS old_runs
  FOR EACH STATEMENT EXECUTE FUNCTION run_counts_on_delete();
CREATE TRIGGER runs_count_truncate AFTER TRUNCATE ON runs
  FOR EACH STATEMENT EXECUTE FUNCTION run_counts_on_truncate();

-- The triggers hold a lock that keeps writers out until this commits, so the
-- count below and the triggers' deltas neither miss nor double-count a run.
INSERT INTO run_counts (phase, shard, n) SELECT phase, 0, count(*) FROM runs GROUP BY phase;

CREATE INDEX runs_finished_idx ON runs (created_at) INCLUDE (phase, duration_ms, definition_id, name, app_name, labels)
  WHERE phase IN ('Passed','Failed','Error','TimedOut','Cancelled');
CREATE INDEX runs_name_idx ON runs (name, created_at DESC, id DESC);
`;

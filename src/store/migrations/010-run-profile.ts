/**
 * What each run used (issue 12 §6, `core/run.ts` RunProfile): its CPU time and peak
 * memory, written with the run's end; both null when its executor did not measure them
 * (older runners, runs that never ran or whose worker was killed). The partial index
 * carries what the profile insight aggregates, so it reads finished, profiled runs of a
 * time range from the index alone (every included column is bounded, see migration 7).
 */
export const sql = /* sql */ `
ALTER TABLE runs ADD COLUMN cpu_ms double precision;
ALTER TABLE runs ADD COLUMN peak_memory_bytes bigint;
ALTER TABLE runs ADD CONSTRAINT runs_profile_whole CHECK ((cpu_ms IS NULL) = (peak_memory_bytes IS NULL));

CREATE INDEX runs_profile_idx ON runs (created_at) INCLUDE (definition_id, name, phase, duration_ms, cpu_ms, peak_memory_bytes)
  WHERE cpu_ms IS NOT NULL AND phase IN ('Passed','Failed','Error','TimedOut');
`;

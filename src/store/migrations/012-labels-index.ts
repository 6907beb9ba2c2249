/**
 * `runs_labels_idx` (migration 1, the GIN index behind `?label=`) holds only runs that
 * have labels. Every row version of a run was an entry in it, labels or not (a GIN
 * index records a row with no keys too), and a run writes three row versions (created,
 * started, ended): on PGlite that was 8% of the write-ahead log a run without labels
 * wrote. The label filter says `labels <> '{}'` beside its `@>` (a non-empty
 * containment implies it), so the planner knows the partial index holds every match.
 */
export const sql = /* sql */ `
DROP INDEX runs_labels_idx;
CREATE INDEX runs_labels_idx ON runs USING gin (labels jsonb_path_ops) WHERE labels <> '{}'::jsonb;
`;

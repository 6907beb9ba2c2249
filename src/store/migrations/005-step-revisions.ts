/**
 * Every insert or change of a step takes the next revision, so a live follower reads
 * only the steps that changed since its last look instead of all of a run's steps.
 * A run's events are written by one writer, one transaction after another, so within
 * a run revisions become visible in order.
 */
export const sql = /* sql */ `
CREATE SEQUENCE run_steps_rev_seq;
ALTER TABLE run_steps ADD COLUMN rev bigint NOT NULL DEFAULT nextval('run_steps_rev_seq');
CREATE INDEX run_steps_rev_idx ON run_steps (run_id, rev);
`;

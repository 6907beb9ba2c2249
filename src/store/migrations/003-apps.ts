/**
 * Apps (the systems under test) and how runs target them. `app_read_only` marks a
 * run that only reads its App: such runs may overlap each other, while a run that
 * changes its App (the default) runs alone on it. The active-runs index lets a claim
 * see which Apps are busy without reading the history.
 */
export const sql = /* sql */ `
CREATE TABLE apps (
  name        text COLLATE "C" PRIMARY KEY,
  generation  bigint NOT NULL DEFAULT 1,
  spec        jsonb NOT NULL,
  status      jsonb,
  base_dir    text,
  labels      jsonb NOT NULL DEFAULT '{}',
  annotations jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at  timestamptz(3) NOT NULL DEFAULT now()
);

ALTER TABLE runs ADD COLUMN app_read_only boolean NOT NULL DEFAULT false;
CREATE INDEX runs_app_active_idx ON runs (app_name, created_at, id) INCLUDE (phase, app_read_only)
  WHERE phase IN ('Queued','Running') AND app_name IS NOT NULL;
`;

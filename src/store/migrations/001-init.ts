/**
 * The initial schema. Timestamps are `timestamptz(3)` (millisecond precision) so
 * an ISO-8601 string round-trips exactly, which keyset cursors rely on. Ids are
 * text in the "C" collation: UUIDv7 strings sort by time and compare bytewise.
 */
export const sql = /* sql */ `
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE runs (
  id                text COLLATE "C" PRIMARY KEY,
  name              text NOT NULL,
  phase             text NOT NULL CHECK (phase IN ('Queued','Running','Passed','Failed','Error','TimedOut','Cancelled')),
  origin            text NOT NULL,
  k8s_ref           jsonb,
  app_name          text,
  source            jsonb NOT NULL,
  definition_id     text COLLATE "C",
  env               jsonb NOT NULL DEFAULT '{}',
  timeout_seconds   integer NOT NULL,
  labels            jsonb NOT NULL DEFAULT '{}',
  created_at        timestamptz(3) NOT NULL DEFAULT now(),
  started_at        timestamptz(3),
  finished_at       timestamptz(3),
  duration_ms       bigint,
  steps_passed      integer NOT NULL DEFAULT 0,
  steps_failed      integer NOT NULL DEFAULT 0,
  steps_skipped     integer NOT NULL DEFAULT 0,
  assertions_passed integer NOT NULL DEFAULT 0,
  assertions_failed integer NOT NULL DEFAULT 0,
  reason            text,
  message           text,
  owner             text,
  cancel_requested  boolean NOT NULL DEFAULT false
);

-- Listing is newest first with keyset pagination on (created_at, id); every common
-- filter has an index that leads with it and then yields rows in that order, so
-- "phase = Failed limit 50" reads 50 index entries, not the table.
CREATE INDEX runs_created_idx    ON runs (created_at DESC, id DESC);
CREATE INDEX runs_phase_idx      ON runs (phase, created_at DESC, id DESC);
CREATE INDEX runs_origin_idx     ON runs (origin, created_at DESC, id DESC);
CREATE INDEX runs_app_idx        ON runs (app_name, created_at DESC, id DESC) WHERE app_name IS NOT NULL;
CREATE INDEX runs_definition_idx ON runs (definition_id, created_at DESC, id DESC) WHERE definition_id IS NOT NULL;
CREATE INDEX runs_labels_idx     ON runs USING gin (labels jsonb_path_ops);
CREATE INDEX runs_name_trgm_idx  ON runs USING gin (name gin_trgm_ops);
-- The live queue is tiny next to the history: claiming (oldest Queued first),
-- counting Running, cancel requests and orphan detection read only this.
CREATE INDEX runs_active_idx     ON runs (phase, created_at, id) INCLUDE (owner) WHERE phase IN ('Queued','Running');

CREATE TABLE run_logs (
  run_id   text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq      integer NOT NULL,
  ts       timestamptz(3) NOT NULL,
  level    text NOT NULL,
  message  text NOT NULL,
  step_seq integer,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE run_steps (
  run_id      text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq         integer NOT NULL,
  parent_seq  integer,
  kind        text NOT NULL,
  name        text NOT NULL,
  status      text NOT NULL,
  started_at  timestamptz(3) NOT NULL,
  finished_at timestamptz(3),
  duration_ms bigint,
  message     text,
  file        text,
  line        integer,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE run_assertions (
  run_id   text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq      integer NOT NULL,
  step_seq integer,
  passed   boolean NOT NULL,
  message  text NOT NULL,
  expected text,
  actual   text,
  file     text,
  line     integer,
  ts       timestamptz(3) NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE test_definitions (
  id              text COLLATE "C" PRIMARY KEY,
  name            text NOT NULL UNIQUE,
  description     text NOT NULL DEFAULT '',
  script          text NOT NULL,
  env             jsonb NOT NULL DEFAULT '{}',
  timeout_seconds integer NOT NULL,
  labels          jsonb NOT NULL DEFAULT '{}',
  app_name        text,
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  updated_at      timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE instances (
  id           text PRIMARY KEY,
  heartbeat_at timestamptz(3) NOT NULL DEFAULT now(),
  info         jsonb NOT NULL DEFAULT '{}'
);
`;

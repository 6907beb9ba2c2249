/**
 * Results people can triage (issue 12): test cases with identities and history,
 * failure categories, flakiness and quarantine, imported reports.
 *
 * - `test_results`: one row per test case of a finished run (`core/test-case.ts`),
 *   written in the transaction that ends the run. It copies what history and
 *   filters need from the run, so a test's history is one index range.
 * - `tests`: one row per test key (`id`: 16 hex digits of its MD5, for URLs), kept current by the same transaction: the last
 *   outcomes (`recent`, newest first, one letter each: P F E S) and durations
 *   (`recent_ms`), at most 100 of each, so the Tests page reads one row per test.
 * - `category_rules`: the ordered rules (`core/categories.ts`), one document with a
 *   version; no row means the shipped defaults.
 * - `audit_log`: who quarantined or released a test, who changed the rules.
 * - Imported reports keep each testcase's classname and rerun flag on its step.
 */
export const sql = /* sql */ `
ALTER TABLE run_steps ADD COLUMN classname text;
ALTER TABLE run_steps ADD COLUMN flaky boolean NOT NULL DEFAULT false;

ALTER TABLE runs ADD COLUMN category text;
ALTER TABLE runs ADD COLUMN category_rule text;
ALTER TABLE runs ADD COLUMN quarantined_failures integer NOT NULL DEFAULT 0;
CREATE INDEX runs_category_idx ON runs (category, created_at DESC, id DESC) WHERE category IS NOT NULL;

CREATE TABLE test_results (
  run_id        text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  idx           integer NOT NULL,
  test_key      text COLLATE "C" NOT NULL,
  classname     text NOT NULL,
  name          text NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('Passed','Failed','Error','Skipped')),
  duration_ms   bigint,
  message       text,
  failure_type  text,
  detail        text,
  file          text,
  line          integer,
  step_seq      integer,
  flaky         boolean NOT NULL DEFAULT false,
  quarantined   boolean NOT NULL DEFAULT false,
  category      text,
  category_rule text,
  created_at    timestamptz(3) NOT NULL,
  origin        text NOT NULL,
  definition_id text COLLATE "C",
  app_name      text,
  revision      text,
  PRIMARY KEY (run_id, idx)
);
CREATE INDEX test_results_history_idx  ON test_results (test_key, created_at DESC, run_id DESC);
CREATE INDEX test_results_failures_idx ON test_results (created_at DESC, run_id DESC) WHERE outcome IN ('Failed','Error');
CREATE INDEX test_results_revision_idx ON test_results (test_key, revision) WHERE revision IS NOT NULL;

CREATE TABLE tests (
  key                   text COLLATE "C" PRIMARY KEY,
  id                    text COLLATE "C" GENERATED ALWAYS AS (left(md5(key), 16)) STORED UNIQUE,
  classname             text NOT NULL,
  name                  text NOT NULL,
  definition_id         text COLLATE "C",
  app_name              text,
  first_seen_at         timestamptz(3) NOT NULL,
  last_run_at           timestamptz(3) NOT NULL,
  last_run_id           text COLLATE "C" NOT NULL,
  last_outcome          text NOT NULL,
  recent                text NOT NULL DEFAULT '',
  recent_ms             integer[] NOT NULL DEFAULT '{}',
  runs                  bigint NOT NULL DEFAULT 0,
  last_failure_at       timestamptz(3),
  last_failure_run_id   text COLLATE "C",
  last_failure_message  text,
  last_failure_category text,
  flaky_revision        text,
  quarantined_at        timestamptz(3),
  quarantined_by        text,
  quarantine_reason     text
);
CREATE INDEX tests_last_run_idx ON tests (last_run_at DESC, key DESC);

CREATE TABLE category_rules (
  id         smallint PRIMARY KEY CHECK (id = 1),
  rules      jsonb NOT NULL,
  version    integer NOT NULL,
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_by text
);

CREATE TABLE audit_log (
  id     bigserial PRIMARY KEY,
  at     timestamptz(3) NOT NULL DEFAULT now(),
  actor  text,
  action text NOT NULL,
  target text,
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
`;

import type { AppRecord, AppStatus, NewApp } from '../core/app.js';
import type { NewRun, Run, RunCompletion, RunFilter, RunSource, RunSummary } from '../core/run.js';
import type { RunPhase } from '../core/run-phase.js';
import type { NewTestDefinition, TestDefinition, TestDefinitionPatch } from '../core/definition.js';
import type { AssertionRecord, EventBatch, LogLine, StepRecord } from '../core/run-events.js';
import type { TopLists, TopRequest, TrendPoint, TrendsRequest } from '../core/insights.js';
import type { ProfileRequest, RunProfiles } from '../core/resource-profile.js';
import type { TokenRecord } from '../core/token.js';
import type { NewSession, NewToken } from './token-queries.js';
import type { TestDetail, TestFilter, TestResultItem, TestSummary } from '../core/test-summary.js';
import type { CategoryRules } from '../core/categories.js';
import type { TimeRange, TrendBucket } from '../core/insights.js';
import type { CategoryTrendPoint, FailureSample, RecategorizeOptions, RecategorizeProgress, StoredCategoryRules } from './category-sql.js';
import type { RecordedTestCase } from './run-results-sql.js';

export type { NewSession, NewToken } from './token-queries.js';
export type { CategoryTrendPoint, FailureSample, RecategorizeOptions, RecategorizeProgress, StoredCategoryRules } from './category-sql.js';
export type { RecordedTestCase } from './run-results-sql.js';

/** One batch of `deleteRunsBefore`. Cut-offs are ISO-8601 instants (`core/retention.ts` computes them from days). */
export interface DeleteRunsRequest {
  /** Finished runs that finished before this are deleted (unless an override keeps them). */
  before: string;
  /**
   * Runs whose `labels[label] = value` are kept until their own cut-off instead (null:
   * forever); with several matching, the run is kept while any of them keeps it.
   */
  overrides?: readonly { label: string; value: string; before: string | null }[];
  /** Runs deleted per call (one short transaction). 1..10000, default 500. */
  batchSize?: number;
  /** `next` of the previous batch of this sweep: continue after it (runs kept by an override are not read twice). */
  after?: string | null;
  /** Fewer runs when their log lines add up to more than this (a run's lines go together). Default 50,000. */
  maxLogLines?: number;
}

/** What one batch of `deleteRunsBefore` deleted. */
export interface DeleteRunsResult {
  /** Runs deleted, with their logs, steps, assertions, test results and run tokens. */
  runs: number;
  /** `tests` rows deleted because none of their results is left (see `deleteRunsBefore`). */
  tests: number;
  /** Pass as `after` for the next batch; null when no deletable run is left. */
  next: string | null;
}

/** One batch of `expireLogsBefore`. */
export interface ExpireLogsRequest {
  /** Log lines of finished runs that finished before this are deleted. */
  before: string;
  /** Runs whose logs expire per call (one short transaction). 1..10000, default 500. */
  batchSize?: number;
  /** Fewer runs when their log lines add up to more than this (a run's lines go together). Default 50,000. */
  maxLogLines?: number;
}

/** What one batch of `expireLogsBefore` did. */
export interface ExpireLogsResult {
  /** Runs whose logs expired (now marked with `logsExpiredAt`). */
  runs: number;
  /** Log lines deleted. */
  lines: number;
  /** True when the batch was full: more runs may be waiting. */
  more: boolean;
}

/** A definition's last finished run, as the Definitions list shows it. */
export interface DefinitionLastRun {
  id: string;
  phase: RunPhase;
  finishedAt: string | null;
  /** The failure category of a failed run; null when it passed. */
  category: string | null;
}

/** A run's per-run token as stored: its secret's hash, and when it stops working at the latest (ISO-8601). */
export interface RunTokenRecord {
  runId: string;
  secretHash: string;
  expiresAt: string;
}

/** A moment of a run as a live follower reads it (`getRunChanges`). */
export interface RunChanges {
  run: Run;
  logs: LogLine[];
  steps: StepRecord[];
  /** The step revision to pass next time. */
  rev: number;
}

/** One run's end, as handed to `finishRuns`. */
export interface RunFinish {
  id: string;
  owner: string;
  completion: RunCompletion;
}

/**
 * An imported report (JUnit XML, Gauge output) as a finished run: what `importRun`
 * needs besides its events. The run's origin is `import`; no executor owns it.
 */
export interface ImportedRunInput {
  id?: string;
  name: string;
  labels: Record<string, string>;
  /** `inline` (empty script, `fileName` = the report) or, linked to a definition, `definition`. */
  source: RunSource;
  timeoutSeconds: number;
  completion: RunCompletion & { phase: 'Passed' | 'Failed' };
  /** When the report's tests started (its earliest timestamp, else when the import began): created and started at. */
  startedAt: string;
  durationMs: number;
}

/** A page of a keyset-paginated list. `nextCursor` is opaque; null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  /** 1..1000, default 50. */
  limit?: number;
  cursor?: string | null;
}

/** Who starts the runs inserted by `createRuns` when there is room, and how many at most. */
export interface RunStartAtInsert {
  owner: string;
  /** At most this many of the inserted runs start (this owner's free room). */
  max: number;
  /** The one global limit on Running runs. */
  globalLimit: number;
}

/**
 * The store contract: everything topas keeps, in one Postgres schema. Implemented
 * once over a `Sql` connection (PGlite or PostgreSQL); the contract test suite in
 * `store.contract.ts` runs against both.
 *
 * Phase changes are single conditional statements: they only apply when the run is
 * in a phase the state machine allows, so concurrent writers cannot break it.
 */
export interface Store {
  /** Applies pending numbered migrations. Idempotent; safe with concurrent callers. */
  migrate(): Promise<void>;
  /**
   * Housekeeping the database does not do by itself: on PGlite (no autovacuum),
   * `VACUUM ANALYZE` of the run tables, so index-only reads (trends, top lists) and
   * plans stay fast. A no-op on PostgreSQL. Blocks the embedded database while it runs
   * (about 1.6 s at 1,000,000 runs): call it when idle.
   */
  maintain(): Promise<void>;
  /**
   * The part of `maintain()` that cannot wait for an idle moment, as autovacuum would do
   * it: on PGlite, `VACUUM ANALYZE runs` once `RUNS_VACUUM_AFTER` runs or a tenth of the
   * table (the larger) have finished since the last one. A server that is never idle
   * otherwise slows down as dead row versions pile up. Resolves true if it vacuumed;
   * always false on PostgreSQL.
   */
  maintainUnderLoad(): Promise<boolean>;
  close(): Promise<void>;

  // --- runs ---------------------------------------------------------------
  /** Inserts a run in phase Queued. */
  createRun(input: NewRun): Promise<Run>;
  /**
   * Inserts several runs in one statement (group commit); results in input order.
   * With `start`, runs that can start at once are inserted Running, owned by
   * `start.owner` (claim at insert, one round trip less per run): at most `start.max`
   * of them, only runs without an App, only while no run is Queued (so none passes an
   * older one), and never more Running runs across all owners than `start.globalLimit`
   * (the same exact count as `claimRuns`). The others are Queued.
   */
  createRuns(inputs: NewRun[], start?: RunStartAtInsert): Promise<Run[]>;
  getRun(id: string): Promise<Run | null>;
  /** Newest first (createdAt desc, id desc). */
  listRuns(filter: RunFilter, page: PageRequest): Promise<Page<Run>>;
  /**
   * Atomically moves up to `max` of the oldest Queued runs to Running, owned by
   * `owner`, never letting the number of Running runs across all owners exceed
   * `globalLimit`. Safe under concurrent claimers: a run is claimed once.
   */
  claimRuns(owner: string, max: number, globalLimit: number): Promise<Run[]>;
  /**
   * Moves a Running run owned by `owner` to a terminal phase. Returns null (and
   * changes nothing) if the run is not Running or is owned by someone else.
   */
  finishRun(id: string, owner: string, completion: RunCompletion): Promise<Run | null>;
  /** `finishRun` for several runs in one statement; one result per item, in order. */
  finishRuns(items: RunFinish[]): Promise<(Run | null)[]>;
  /** Queued → Cancelled. Returns null if the run was not Queued. */
  cancelQueuedRun(id: string, message: string): Promise<Run | null>;
  /** Marks a Running run for cancellation; its owner stops it. Returns the run, or null if not Running. */
  requestCancel(id: string): Promise<Run | null>;
  /**
   * Records what a run's git source resolved to when checked out: `source.commit`, and
   * the script and files read (so the run shows what it ran). No-op for other sources.
   */
  recordGitCheckout(id: string, checkout: { commit: string; script?: string; files?: Record<string, string> }): Promise<void>;
  /** Ids of Running runs owned by `owner` whose cancellation was requested. */
  cancelRequested(owner: string): Promise<string[]>;
  /** Running runs owned by `owner`, oldest first (what it should be executing). */
  runningRunsOf(owner: string): Promise<Run[]>;
  /**
   * Every Running run whose owner is not in `liveOwners` becomes Error with
   * reason ExecutorLost. Returns the runs it changed.
   */
  failOrphanedRuns(liveOwners: string[], message: string): Promise<Run[]>;
  /**
   * Takes over the Running runs whose owner is not in `liveOwners` (dead instances,
   * or a previous process with a reused id): one conditional statement sets their
   * owner to `newOwner`, so of two instances adopting at once each run goes to one.
   * For detached executors, whose runs outlive the process that started them.
   */
  adoptOrphanedRuns(liveOwners: string[], newOwner: string): Promise<Run[]>;
  /**
   * `owner` gives up its Running runs (their owner becomes null; they stay Running):
   * an instance that stopped leading hands the runs it left to the leader, which
   * adopts them (`adoptOrphanedRuns`). Returns the runs it changed.
   */
  releaseRuns(owner: string): Promise<Run[]>;
  /**
   * Stores an imported report as a run already in its terminal phase (origin
   * `import`), with its steps, assertions and logs, in ONE transaction: `batches`
   * (given the new run's id) is drained inside it, then the run's test results are
   * recorded (`recordTestResults`). All or nothing: when `batches` throws, nothing is
   * stored. Returns the run as stored (a quarantine may have changed its phase).
   */
  importRun(input: ImportedRunInput, batches: (runId: string) => AsyncIterable<EventBatch>): Promise<Run>;
  /** Runs per phase (all phases present, zero when none). Reads counts kept by triggers: cheap at any size. */
  countByPhase(): Promise<Record<RunPhase, number>>;
  /** Number of Queued runs and Running runs (cheap; used for metrics and scheduling). */
  queueStats(): Promise<{ queued: number; running: number }>;

  // --- retention (core/retention.ts) ----------------------------------------
  /**
   * Deletes one batch of finished runs (never Queued or Running ones) that finished
   * before `before` and that no override keeps, oldest-finished first, in one short
   * transaction; their logs, steps, assertions, test results and run tokens go with
   * them and the per-phase counts stay exact. A run being changed by someone else at
   * that moment is skipped, not waited for. The `tests` rows (each test's summary of
   * its history) stay; a test none of whose results is left, whose last run is also
   * before `before` and which is not quarantined, is deleted with its last result.
   * A batch holds fewer runs when their log lines exceed `maxLogLines`, so it stays short.
   * Call again with `after: next` until `next` is null.
   */
  deleteRunsBefore(request: DeleteRunsRequest): Promise<DeleteRunsResult>;
  /**
   * Deletes the log lines of one batch of finished runs that finished before `before`
   * and whose logs have not expired yet, oldest-finished first, in one short
   * transaction, and sets their `logsExpiredAt`; the runs, their steps, assertions and
   * test results stay. Call again while `more`.
   */
  expireLogsBefore(request: ExpireLogsRequest): Promise<ExpireLogsResult>;

  // --- insights -----------------------------------------------------------
  /** Finished runs per bucket of creation time in [from, to), one point per bucket, empty ones included. */
  runTrends(request: TrendsRequest): Promise<TrendPoint[]>;
  /** The tests (definitions, or names without one) with the most failures and the slowest, over finished runs in [from, to). */
  topTests(request: TopRequest): Promise<TopLists>;
  /** The latest run created before `run` of the same definition (or, without one, of the same name); null when none. */
  previousRun(run: Run): Promise<Run | null>;
  /**
   * Resource profiles: per test (definition, or name without one) p50/p95 of CPU time,
   * peak memory, duration and CPU share over its newest `last` finished runs with a
   * profile created in [from, to) (Cancelled left out), heaviest p95 CPU first, at most
   * `limit` tests; and the p95s of all those runs pooled (`core/resource-profile.ts`).
   */
  runProfiles(request: ProfileRequest): Promise<RunProfiles>;

  // --- failure categories -------------------------------------------------
  /** The rules in force: the stored ones, or the shipped defaults (`defaults: true`, version 0) when none were stored. */
  getCategoryRules(): Promise<StoredCategoryRules>;
  /**
   * Replaces the rules (the `{ rules }` document) with one version more, and writes an
   * `audit_log` row naming `actor`. Runs that end afterwards are judged by them; past
   * failures keep their category until `recategorize`.
   */
  putCategoryRules(rules: CategoryRules, actor: string | null): Promise<StoredCategoryRules>;
  /**
   * The last `limit` failed (Failed or Error) test cases, newest first, with what a
   * rule looks at (message and detail, key, name, classname, App, the run's labels, the
   * case's first log lines) and the category they carry now.
   */
  recentFailures(limit: number): Promise<FailureSample[]>;
  /**
   * Judges the failed test cases of runs created since `since` again with the stored
   * rules, in batches of `batchSize`, each its own short transaction: updates their
   * category and rule, their runs' category (that of the run's first failed case) and
   * their tests' last failure category. Returns how many were judged and changed.
   */
  recategorize(options: RecategorizeOptions): Promise<RecategorizeProgress>;
  /** Failed test cases per category in each bucket of creation time in [from, to), empty buckets included. */
  categoryTrends(request: TimeRange & { bucket: TrendBucket }): Promise<CategoryTrendPoint[]>;
  /** The recorded test cases of a finished run in order; empty for a run that has not ended (or recorded none). */
  runTestResults(runId: string): Promise<RecordedTestCase[]>;

  // --- run events ---------------------------------------------------------
  /**
   * Writes logs, steps (upsert by runId+seq) and assertions in one transaction,
   * then applies `finishes` (as `finishRuns`) in the same transaction, so a run's
   * last events and its end are stored together. Returns the finish results.
   */
  writeEvents(batch: EventBatch, finishes?: RunFinish[]): Promise<(Run | null)[]>;
  /** Log lines with seq > afterSeq, in order, at most `limit` (default 1000). */
  getLogs(runId: string, afterSeq?: number, limit?: number): Promise<LogLine[]>;
  getSteps(runId: string): Promise<StepRecord[]>;
  /**
   * What a live follower reads: the run, its log lines after `after.seq` (at most
   * `logLimit`) and its steps inserted or changed after revision `after.rev` (0: all),
   * as one read — one moment of the run, so every step that ended in it comes with every
   * line logged before that end. When the lines fill `logLimit`, more follow and `steps`
   * is empty (`rev` unchanged): read again after the last line. Null when the run does
   * not exist.
   */
  getRunChanges(runId: string, after: { seq: number; rev: number }, logLimit: number): Promise<RunChanges | null>;
  getAssertions(runId: string, options?: { failedOnly?: boolean }): Promise<AssertionRecord[]>;
  /** The run with its steps and assertions as one read (one moment of the run), or null. */
  getRunDetail(id: string): Promise<{ run: Run; steps: StepRecord[]; assertions: AssertionRecord[] } | null>;
  /** The live summary counters, updated as events are written. */
  getSummary(runId: string): Promise<RunSummary | null>;

  // --- tests (test cases across runs) --------------------------------------
  /**
   * Test cases seen in finished runs, newest last run first (lastRunAt desc, key desc),
   * keyset-paginated. Pass rate and flakiness are over the store's flaky window.
   */
  listTests(filter: TestFilter, page: PageRequest): Promise<Page<TestSummary>>;
  /** One test by id, with the evidence of its flakiness; null when unknown. */
  getTest(id: string): Promise<TestDetail | null>;
  /** A test's results across runs, newest first (createdAt desc, runId desc); null when the test is unknown. */
  testHistory(id: string, page: PageRequest): Promise<Page<TestResultItem> | null>;
  /**
   * Quarantines a test: it still runs and is recorded, but its failures no longer fail
   * runs (a run whose every failure is quarantined ends Passed). Audited. Null when unknown.
   */
  quarantineTest(id: string, actor: string | null, reason: string): Promise<TestSummary | null>;
  /** Ends a test's quarantine (its next failure fails the run again). Audited. Null when unknown. */
  releaseTest(id: string, actor: string | null): Promise<TestSummary | null>;

  // --- test definitions ---------------------------------------------------
  createDefinition(input: NewTestDefinition): Promise<TestDefinition>;
  getDefinition(idOrName: string): Promise<TestDefinition | null>;
  listDefinitions(page: PageRequest & { text?: string }): Promise<Page<TestDefinition>>;
  /**
   * Each definition's last result: its newest run (by creation) that has finished,
   * keyed by definition id; definitions with no finished run are absent. One query
   * for a page of definitions.
   */
  lastRunsOfDefinitions(definitionIds: readonly string[]): Promise<Map<string, DefinitionLastRun>>;
  updateDefinition(id: string, patch: TestDefinitionPatch): Promise<TestDefinition | null>;
  /** Returns false if there was no such definition. Runs keep their snapshot. */
  deleteDefinition(id: string): Promise<boolean>;

  // --- apps (systems under test) -------------------------------------------
  /** Creates or replaces an App; `generation` goes up by one when the spec changed. */
  putApp(input: NewApp): Promise<{ record: AppRecord; created: boolean; changed: boolean }>;
  getApp(name: string): Promise<AppRecord | null>;
  /** All Apps by name. */
  listApps(): Promise<AppRecord[]>;
  deleteApp(name: string): Promise<boolean>;
  /** Records the controller's view; ignored when the App is gone. */
  setAppStatus(name: string, status: AppStatus): Promise<void>;

  // --- tokens and sessions (authentication) --------------------------------
  /** Stores a token by its secret's hash. ConflictError when a live token has the name. */
  createToken(input: NewToken): Promise<TokenRecord>;
  /** Every token, revoked ones included, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** The token whose secret has this SHA-256 hash (hex), revoked or not. */
  findTokenBySecretHash(secretHash: string): Promise<TokenRecord | null>;
  /** A token by id (revoked or not), or the live token with that name. */
  getToken(idOrName: string): Promise<TokenRecord | null>;
  /** Records that the token was used now. */
  touchToken(id: string): Promise<void>;
  /** Revokes a live token and deletes its sessions, in one transaction; null when no live token has this id. */
  revokeToken(id: string): Promise<TokenRecord | null>;
  /** Stores a dashboard session by the hash of its cookie value. */
  createSession(input: NewSession): Promise<void>;
  /** The live token behind an unexpired session, or null. */
  findSession(idHash: string): Promise<{ token: TokenRecord; expiresAt: string } | null>;
  deleteSession(idHash: string): Promise<boolean>;

  // --- per-run tokens (remote runners) -------------------------------------
  /**
   * Stores (or replaces) the tokens of runs by their secrets' hashes, in one statement;
   * each expires at its `expiresAt` (ISO-8601) at the latest. Of two for one run, the last counts.
   */
  putRunTokens(tokens: RunTokenRecord[]): Promise<void>;
  /** The run whose token has this hash, while that run is Queued or Running and the token unexpired; else null. */
  findRunToken(secretHash: string): Promise<{ runId: string } | null>;
  /** Deletes the tokens of these runs (they ended), in one statement; returns how many there were. */
  deleteRunTokens(runIds: string[]): Promise<number>;

  // --- instances (liveness of executors) ---------------------------------
  /** Records that `instanceId` is alive now. */
  heartbeat(instanceId: string, info?: Record<string, unknown>): Promise<void>;
  /** Instances whose last heartbeat is newer than `staleAfterMs` ago. */
  liveInstances(staleAfterMs: number): Promise<string[]>;
  removeInstance(instanceId: string): Promise<void>;
}

import type { AppRecord, AppStatus, NewApp } from '../core/app.js';
import type { NewRun, Run, RunCompletion, RunFilter, RunSummary } from '../core/run.js';
import type { RunPhase } from '../core/run-phase.js';
import type { NewTestDefinition, TestDefinition, TestDefinitionPatch } from '../core/definition.js';
import type { AssertionRecord, EventBatch, LogLine, StepRecord } from '../core/run-events.js';
import type { TopLists, TopRequest, TrendPoint, TrendsRequest } from '../core/insights.js';
import type { TokenRecord } from '../core/token.js';
import type { NewSession, NewToken } from './token-queries.js';

export type { NewSession, NewToken } from './token-queries.js';

/** A definition's last finished run, as the Definitions list shows it. */
export interface DefinitionLastRun {
  id: string;
  phase: RunPhase;
  finishedAt: string | null;
  /** The failure category of a failed run; null when it passed. */
  category: string | null;
}

/** One run's end, as handed to `finishRuns`. */
export interface RunFinish {
  id: string;
  owner: string;
  completion: RunCompletion;
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
  close(): Promise<void>;

  // --- runs ---------------------------------------------------------------
  /** Inserts a run in phase Queued. */
  createRun(input: NewRun): Promise<Run>;
  /** Inserts several runs in one statement (group commit); results in input order. */
  createRuns(inputs: NewRun[]): Promise<Run[]>;
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
  /** Runs per phase (all phases present, zero when none). Reads counts kept by triggers: cheap at any size. */
  countByPhase(): Promise<Record<RunPhase, number>>;
  /** Number of Queued runs and Running runs (cheap; used for metrics and scheduling). */
  queueStats(): Promise<{ queued: number; running: number }>;

  // --- insights -----------------------------------------------------------
  /** Finished runs per bucket of creation time in [from, to), one point per bucket, empty ones included. */
  runTrends(request: TrendsRequest): Promise<TrendPoint[]>;
  /** The tests (definitions, or names without one) with the most failures and the slowest, over finished runs in [from, to). */
  topTests(request: TopRequest): Promise<TopLists>;
  /** The latest run created before `run` of the same definition (or, without one, of the same name); null when none. */
  previousRun(run: Run): Promise<Run | null>;

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
   * The steps inserted or changed after revision `afterRev` (0: all), and the revision
   * to pass next time — what a live follower reads instead of every step.
   */
  getStepChanges(runId: string, afterRev: number): Promise<{ steps: StepRecord[]; rev: number }>;
  getAssertions(runId: string, options?: { failedOnly?: boolean }): Promise<AssertionRecord[]>;
  /** The live summary counters, updated as events are written. */
  getSummary(runId: string): Promise<RunSummary | null>;

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
  /** Stores (or replaces) the token of a run by its secret's hash; it expires at `expiresAt` (ISO-8601) at the latest. */
  putRunToken(runId: string, secretHash: string, expiresAt: string): Promise<void>;
  /** The run whose token has this hash, while that run is Queued or Running and the token unexpired; else null. */
  findRunToken(secretHash: string): Promise<{ runId: string } | null>;
  /** Deletes a run's token (the run ended); false when it had none. */
  deleteRunToken(runId: string): Promise<boolean>;

  // --- instances (liveness of executors) ---------------------------------
  /** Records that `instanceId` is alive now. */
  heartbeat(instanceId: string, info?: Record<string, unknown>): Promise<void>;
  /** Instances whose last heartbeat is newer than `staleAfterMs` ago. */
  liveInstances(staleAfterMs: number): Promise<string[]>;
  removeInstance(instanceId: string): Promise<void>;
}

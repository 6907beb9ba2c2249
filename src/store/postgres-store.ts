import { clean } from './event-rows.js';
import { DURATION_NOW } from './run-events-sql.js';
import { callProcedure } from './procedures.js';
import { queryJsonRows } from './json-rows.js';
import { INSERT_QUEUED_RUNS, INSERT_STARTING_RUNS } from './run-queue-sql.js';
import { DEFAULT_TIMEOUT_SECONDS, type NewRun, type Run, type RunCompletion, type RunFilter, type RunSummary } from '../core/run.js';
import { RUN_PHASES, assertTransition, type RunPhase } from '../core/run-phase.js';
import type { NewTestDefinition, TestDefinition, TestDefinitionPatch } from '../core/definition.js';
import type { AssertionRecord, EventBatch, LogLine, StepRecord } from '../core/run-events.js';
import { ConflictError, ValidationError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { RunStartAtInsert, RunTokenRecord, DefinitionLastRun, DeleteRunsRequest, DeleteRunsResult, ExpireLogsRequest, ExpireLogsResult, ImportedRunInput, Page, PageRequest, RunChanges, RunFinish, Store } from './store.js';
import * as retention from './retention-sql.js';
import { importRun } from './import-run-sql.js';
import type { Sql } from './sql.js';
import { migrate } from './migrate.js';
import { listRunsQuery } from './list-runs-query.js';
import { lastRunsOfDefinitions } from './definition-last-run-sql.js';
import { recordTestResults } from './test-results-sql.js';
import * as tests from './test-queries.js';
import { DEFAULT_FLAKY_WINDOW, type TestDetail, type TestFilter, type TestResultItem, type TestSummary } from '../core/test-summary.js';
import { countByPhaseQuery, previousRun, runTrends, topTests } from './insights-queries.js';
import { runProfiles } from './run-profile-sql.js';
import type { ProfileRequest, RunProfiles } from '../core/resource-profile.js';
import * as tokens from './token-queries.js';
import type { TokenRecord } from '../core/token.js';
import type { TopLists, TopRequest, TrendPoint, TrendsRequest } from '../core/insights.js';
import { decodeCursor, encodeCursor, likeSubstring, pageLimit } from './cursor.js';
import { json, toAppRecord, toAssertion, toDefinition, toLogLine, toRun, toStep, toSummary } from './row-mapping.js';
import type { AppRecord, AppStatus, NewApp } from '../core/app.js';
import type { CategoryRules } from '../core/categories.js';
import type { TimeRange, TrendBucket } from '../core/insights.js';
import * as categories from './category-sql.js';
import { runTestResults, type RecordedTestCase } from './run-results-sql.js';

/** Milliseconds between `started_at` and now, for a statement that finishes a run. */

/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === UNIQUE_VIOLATION;
}

/** The size bounds of migration 7, by constraint: the field they bound and how. */
const SIZE_CHECKS: Record<string, { field: string; message: string }> = {
  runs_name_size: { field: 'name', message: 'must be at most 1024 bytes' },
  runs_app_name_size: { field: 'appName', message: 'must be at most 253 bytes' },
  runs_definition_id_size: { field: 'definitionId', message: 'must be at most 128 bytes' },
  test_definitions_name_size: { field: 'name', message: 'must be at most 1024 bytes' },
};

/** A size bound of migration 7 refused the row: the ValidationError naming the field, else the error itself. */
function sizeViolation(error: unknown): unknown {
  if (typeof error !== 'object' || error === null || (error as { code?: unknown }).code !== '23514') return error;
  const e = error as { constraint?: string; message?: string };
  const name = e.constraint ?? Object.keys(SIZE_CHECKS).find((c) => e.message?.includes(`"${c}"`));
  const check = name ? SIZE_CHECKS[name] : undefined;
  return check ? new ValidationError([check]) : error;
}

/** Refuses a finish to a phase a Running run cannot reach: here, typed, before the finish crosses threads (`procedures.ts`). */
function assertFinishable(finishes: readonly RunFinish[]): void {
  for (const { completion } of finishes) assertTransition('Running', completion.phase);
}

/** Runs oldest first (createdAt, then id). */
function sortOldestFirst(runs: Run[]): Run[] {
  return runs.sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
}

/** The Store over any `Sql` connection: PGlite or PostgreSQL, same statements. */
/** How the store reads what it keeps. */
export interface StoreOptions {
  /** Outcomes a test's flakiness and pass rate are judged on (`TOPAS_FLAKY_WINDOW`). Default 30. */
  flakyWindow?: number;
}

export function createPostgresStore(sql: Sql, options: StoreOptions = {}): Store {
  return new PostgresStore(sql, options.flakyWindow ?? DEFAULT_FLAKY_WINDOW);
}

/**
 * PGlite: `maintainUnderLoad()` vacuums `runs` once this many runs (or a tenth of the
 * table, the larger) have finished since the last vacuum. Measured (engine and store
 * alone, 10,000-run windows, 2026-12-02): without it the database thread's CPU per run
 * went 0.75 → 1.2–1.7 ms over 60,000 runs; vacuumed after each window it stayed 0.65–0.70
 * ms, each vacuum 110–350 ms.
 */
export const RUNS_VACUUM_AFTER = 10_000;

class PostgresStore implements Store {
  /** PGlite only: runs that target an App may be Queued or Running (unknown at open). */
  private appRunsMayBeActive = true;
  /** Counts creations of runs that target an App, so a claim's "none left" cannot hide a newer one. */
  private appRunsCreated = 0;
  /**
   * PGlite only: no Queued run was created before this instant (the `created_at` of the
   * last run claimed; null: unknown). A claim's pick starts its index scan here instead
   * of at the first entry of `runs_active_idx`'s Queued range, which keeps the dead
   * entries of every run claimed since the last VACUUM: without it the claim read ~165
   * index pages for 12,000 runs of history, and more with every run (no VACUUM runs
   * while the engine is busy). Runs are created Queued with `now()`, so the ones still
   * Queued are at or after it; a run created earlier (a clock set back) moves it back
   * (`createRuns`), and should one be older all the same (written by other means), the
   * pick falls back to the whole range as soon as it finds fewer runs than it has room
   * for and fewer than are Queued.
   */
  private queuedSince: string | null = null;
  /** PGlite only: retention deleted rows since the last `maintain()`, whose space a VACUUM makes reusable. */
  private retentionDeleted = false;
  /** PGlite only: runs finished since `runs` was last vacuumed (each left a dead row version or two). */
  private finishedSinceVacuum = 0;
  /** PGlite only: rows of `runs` at its last vacuum (`pg_class.reltuples`). */
  private runsAtVacuum = 0;

  constructor(
    private readonly sql: Sql,
    private readonly flakyWindow: number,
  ) {}

  async migrate(): Promise<void> {
    await migrate(this.sql);
  }

  close(): Promise<void> {
    return this.sql.close();
  }

  async maintain(): Promise<void> {
    if (this.sql.dialect !== 'pglite') return; // PostgreSQL's autovacuum does this
    await this.vacuumRuns();
    await this.sql.exec('VACUUM ANALYZE run_steps');
    if (this.retentionDeleted) {
      // Without it the embedded database would keep growing although retention deletes:
      // the space of deleted rows is reused only once vacuumed.
      this.retentionDeleted = false;
      for (const table of ['run_logs', 'run_assertions', 'test_results', 'run_tokens']) await this.sql.exec(`VACUUM ${table}`);
    }
  }

  async maintainUnderLoad(): Promise<boolean> {
    if (this.sql.dialect !== 'pglite') return false;
    if (this.finishedSinceVacuum < Math.max(RUNS_VACUUM_AFTER, this.runsAtVacuum / 10)) return false;
    await this.vacuumRuns();
    return true;
  }

  private async vacuumRuns(): Promise<void> {
    const finished = this.finishedSinceVacuum;
    await this.sql.exec('VACUUM ANALYZE runs');
    this.finishedSinceVacuum -= finished; // the runs that finished meanwhile count for the next one
    const { rows } = await this.sql.query<{ n: number }>(`SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE relname = 'runs'`);
    this.runsAtVacuum = Number(rows[0]?.n ?? 0);
  }

  // --- runs ---------------------------------------------------------------

  async createRun(input: NewRun): Promise<Run> {
    return (await this.createRuns([input]))[0]!;
  }

  async createRuns(inputs: NewRun[], start?: RunStartAtInsert): Promise<Run[]> {
    if (inputs.length === 0) return [];
    if (inputs.some((r) => r.appName)) {
      this.appRunsMayBeActive = true;
      this.appRunsCreated++;
    }
    const rows = inputs.map((input, ord) => ({
      ord,
      id: input.id ?? newId(),
      name: input.name,
      origin: input.origin,
      k8s_ref: input.k8sRef ?? null,
      app_name: input.appName ?? null,
      app_read_only: Boolean(input.appName && input.appReadOnly),
      source: input.source,
      definition_id: input.source.type === 'definition' ? input.source.definitionId : null,
      env: input.env ?? {},
      timeout_seconds: input.timeoutSeconds,
      labels: input.labels ?? {},
    }));
    const json = JSON.stringify(rows, (_k, v) => (typeof v === 'string' ? clean(v) : v));
    const starting = start && start.max > 0 && start.globalLimit > 0 ? start : null;
    try {
      let inserted: Record<string, unknown>[];
      if (!starting) inserted = await queryJsonRows(this.sql, INSERT_QUEUED_RUNS, [json]);
      else if (this.sql.dialect === 'pglite') {
        // One session: the statement is alone, as in claimRuns.
        inserted = await queryJsonRows(this.sql, INSERT_STARTING_RUNS, [json, starting.owner, starting.max, starting.globalLimit]);
      } else inserted = await callProcedure(this.sql, 'insertStartingShared', { json, ...starting });
      const byId = new Map(inserted.map((r) => [String(r.id), toRun(r)]));
      for (const run of byId.values()) {
        // A clock set back: Queued runs older than the mark exist now.
        if (run.phase === 'Queued' && this.queuedSince !== null && run.createdAt < this.queuedSince) this.queuedSince = run.createdAt;
      }
      return rows.map((r) => byId.get(r.id)!);
    } catch (error) {
      if (isUniqueViolation(error)) {
        const ids = rows.map((r) => r.id);
        throw new ConflictError(`a run with id ${ids.length === 1 ? JSON.stringify(ids[0]) : `among ${ids.join(', ')}`} already exists`, { ids });
      }
      throw sizeViolation(error);
    }
  }

  async getRun(id: string): Promise<Run | null> {
    const { rows } = await this.sql.query('SELECT * FROM runs WHERE id = $1', [id]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  async listRuns(filter: RunFilter, page: PageRequest): Promise<Page<Run>> {
    const limit = pageLimit(page.limit);
    const query = listRunsQuery(filter, limit, page.cursor);
    const rows = await queryJsonRows(this.sql, query.text, query.params, 'created_at DESC, id DESC');
    const items = rows.slice(0, limit).map(toRun);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null };
  }

  async claimRuns(owner: string, max: number, globalLimit: number): Promise<Run[]> {
    if (max <= 0 || globalLimit <= 0) return [];
    if (this.sql.dialect === 'pglite') {
      // Only this process writes its data folder, so it knows whether runs that target
      // an App may be waiting; when none are, the App rule (which doubles a claim's
      // cost) is left out.
      const created = this.appRunsCreated;
      const { rows, appRunsActive } = await callProcedure(this.sql, 'claimEmbedded', {
        owner,
        max,
        globalLimit,
        queuedSince: this.queuedSince,
        withApps: this.appRunsMayBeActive,
      });
      // unless a run that targets an App was created since this claim began
      if (appRunsActive === false && this.appRunsCreated === created) this.appRunsMayBeActive = false;
      const claimed = sortOldestFirst(rows.map(toRun));
      const last = claimed[claimed.length - 1]?.createdAt;
      // Claims end in the order they ran: a later one's runs are never older.
      if (last && (this.queuedSince === null || last > this.queuedSince)) this.queuedSince = last;
      return claimed;
    }
    return sortOldestFirst((await callProcedure(this.sql, 'claimShared', { owner, max, globalLimit })).map(toRun));
  }

  async finishRun(id: string, owner: string, completion: RunCompletion): Promise<Run | null> {
    return (await this.finishRuns([{ id, owner, completion }]))[0]!;
  }

  async finishRuns(items: RunFinish[]): Promise<(Run | null)[]> {
    if (items.length === 0) return [];
    assertFinishable(items);
    this.finishedSinceVacuum += items.length;
    return callProcedure(this.sql, 'finishRuns', items);
  }

  importRun(input: ImportedRunInput, batches: (runId: string) => AsyncIterable<EventBatch>): Promise<Run> {
    return importRun(this.sql, input, batches).catch((error: unknown) => {
      if (isUniqueViolation(error)) throw new ConflictError(`a run with id ${JSON.stringify(input.id)} already exists`, { ids: [input.id] });
      throw sizeViolation(error);
    });
  }

  async cancelQueuedRun(id: string, message: string): Promise<Run | null> {
    return this.sql.transaction(async (tx) => {
      const { rows } = await tx.query(
        `UPDATE runs SET phase = 'Cancelled', reason = 'Cancelled', message = $2, finished_at = now()
          WHERE id = $1 AND phase = 'Queued'
         RETURNING *`,
        [id, message],
      );
      if (!rows[0]) return null;
      const changed = await recordTestResults(tx, [id]);
      return changed.get(id) ?? toRun(rows[0]);
    });
  }

  async requestCancel(id: string): Promise<Run | null> {
    const { rows } = await this.sql.query(
      `UPDATE runs SET cancel_requested = true WHERE id = $1 AND phase = 'Running' RETURNING *`,
      [id],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }

  async recordGitCheckout(id: string, checkout: { commit: string; script?: string; files?: Record<string, string> }): Promise<void> {
    const resolved = { commit: checkout.commit, ...(checkout.script !== undefined ? { script: checkout.script } : {}), ...(checkout.files && Object.keys(checkout.files).length ? { files: checkout.files } : {}) };
    await this.sql.query(`UPDATE runs SET source = source || $2::jsonb WHERE id = $1 AND source->>'type' = 'git'`, [id, JSON.stringify(resolved)]);
  }

  async cancelRequested(owner: string): Promise<string[]> {
    const { rows } = await this.sql.query<{ id: string }>(
      `SELECT id FROM runs WHERE phase = 'Running' AND owner = $1 AND cancel_requested ORDER BY created_at, id`,
      [owner],
    );
    return rows.map((r) => r.id);
  }

  async runningRunsOf(owner: string): Promise<Run[]> {
    const { rows } = await this.sql.query(`SELECT * FROM runs WHERE phase = 'Running' AND owner = $1 ORDER BY created_at, id`, [owner]);
    return rows.map(toRun);
  }

  async failOrphanedRuns(liveOwners: string[], message: string): Promise<Run[]> {
    return this.sql.transaction(async (tx) => {
      const { rows } = await tx.query(
        `UPDATE runs SET phase = 'Error', reason = 'ExecutorLost', message = $2,
                finished_at = now(), duration_ms = ${DURATION_NOW}
          WHERE phase = 'Running' AND (owner IS NULL OR NOT (owner = ANY($1::text[])))
         RETURNING *`,
        [liveOwners, message],
      );
      const runs = rows.map(toRun);
      if (runs.length === 0) return runs;
      const changed = await recordTestResults(tx, runs.map((r) => r.id));
      return runs.map((r) => changed.get(r.id) ?? r);
    });
  }

  async adoptOrphanedRuns(liveOwners: string[], newOwner: string): Promise<Run[]> {
    const { rows } = await this.sql.query(
      `UPDATE runs SET owner = $2
        WHERE phase = 'Running' AND (owner IS NULL OR NOT (owner = ANY($1::text[])))
       RETURNING *`,
      [liveOwners, newOwner],
    );
    return rows.map(toRun);
  }

  async releaseRuns(owner: string): Promise<Run[]> {
    const { rows } = await this.sql.query(`UPDATE runs SET owner = NULL WHERE phase = 'Running' AND owner = $1 RETURNING *`, [owner]);
    return rows.map(toRun);
  }

  async putRunTokens(tokens: RunTokenRecord[]): Promise<void> {
    // One row per run (the last given): ON CONFLICT may not touch a row twice in one statement.
    const last = [...new Map(tokens.map((t) => [t.runId, t])).values()];
    if (!last.length) return;
    await this.sql.query(
      `INSERT INTO run_tokens (run_id, secret_hash, expires_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
       ON CONFLICT (run_id) DO UPDATE SET secret_hash = excluded.secret_hash, expires_at = excluded.expires_at, created_at = now()`,
      [last.map((t) => t.runId), last.map((t) => t.secretHash), last.map((t) => t.expiresAt)],
    );
  }

  async findRunToken(secretHash: string): Promise<{ runId: string } | null> {
    const { rows } = await this.sql.query<{ run_id: string }>(
      `SELECT t.run_id FROM run_tokens t JOIN runs r ON r.id = t.run_id
        WHERE t.secret_hash = $1 AND t.expires_at > now() AND r.phase IN ('Queued', 'Running')`,
      [secretHash],
    );
    return rows[0] ? { runId: rows[0].run_id } : null;
  }

  async deleteRunTokens(runIds: string[]): Promise<number> {
    if (!runIds.length) return 0;
    const { affectedRows } = await this.sql.query('DELETE FROM run_tokens WHERE run_id = ANY($1::text[])', [runIds]);
    return affectedRows;
  }

  async countByPhase(): Promise<Record<RunPhase, number>> {
    const counts = Object.fromEntries(RUN_PHASES.map((p) => [p, 0])) as Record<RunPhase, number>;
    for (const r of await countByPhaseQuery(this.sql)) counts[r.phase as RunPhase] = r.n;
    return counts;
  }

  async queueStats(): Promise<{ queued: number; running: number }> {
    const { rows } = await this.sql.query<{ queued: number; running: number }>(
      `SELECT count(*) FILTER (WHERE phase = 'Queued')::int AS queued,
              count(*) FILTER (WHERE phase = 'Running')::int AS running
         FROM runs WHERE phase IN ('Queued', 'Running')`,
    );
    return { queued: Number(rows[0]!.queued), running: Number(rows[0]!.running) };
  }

  // --- retention ----------------------------------------------------------

  async deleteRunsBefore(request: DeleteRunsRequest): Promise<DeleteRunsResult> {
    const result = await retention.deleteRunsBefore(this.sql, request);
    if (result.runs > 0) this.retentionDeleted = true;
    return result;
  }

  async expireLogsBefore(request: ExpireLogsRequest): Promise<ExpireLogsResult> {
    const result = await retention.expireLogsBefore(this.sql, request);
    if (result.lines > 0) this.retentionDeleted = true;
    return result;
  }

  // --- insights -----------------------------------------------------------

  runTrends(request: TrendsRequest): Promise<TrendPoint[]> {
    return runTrends(this.sql, request);
  }

  topTests(request: TopRequest): Promise<TopLists> {
    return topTests(this.sql, request);
  }

  previousRun(run: Run): Promise<Run | null> {
    return previousRun(this.sql, run);
  }

  runProfiles(request: ProfileRequest): Promise<RunProfiles> {
    return runProfiles(this.sql, request);
  }

  // --- run events ---------------------------------------------------------

  async writeEvents(batch: EventBatch, finishes: RunFinish[] = []): Promise<(Run | null)[]> {
    const empty = batch.logs.length === 0 && batch.steps.length === 0 && batch.assertions.length === 0;
    if (empty && finishes.length === 0) return [];
    if (empty) return this.finishRuns(finishes);
    assertFinishable(finishes);
    this.finishedSinceVacuum += finishes.length;
    return callProcedure(this.sql, 'writeEvents', batch, finishes);
  }

  async getLogs(runId: string, afterSeq = 0, limit = 1000): Promise<LogLine[]> {
    const { rows } = await this.sql.query(
      'SELECT * FROM run_logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [runId, afterSeq, Math.max(0, Math.floor(limit))],
    );
    return rows.map(toLogLine);
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    const { rows } = await this.sql.query('SELECT * FROM run_steps WHERE run_id = $1 ORDER BY seq', [runId]);
    return rows.map(toStep);
  }

  async getRunChanges(runId: string, after: { seq: number; rev: number }, logLimit: number): Promise<RunChanges | null> {
    // One statement sees one snapshot: a step's end is never read without the lines before it.
    const { rows } = await this.sql.query<{ run: Record<string, unknown>; logs: Record<string, unknown>[]; steps: Record<string, unknown>[] }>(
      `SELECT row_to_json(r) AS run,
              (SELECT coalesce(json_agg(l ORDER BY l.seq), '[]')
                 FROM (SELECT * FROM run_logs WHERE run_id = r.id AND seq > $2 ORDER BY seq LIMIT $3) l) AS logs,
              (SELECT coalesce(json_agg(s ORDER BY s.seq), '[]') FROM run_steps s WHERE s.run_id = r.id AND s.rev > $4) AS steps
         FROM runs r WHERE r.id = $1`,
      [runId, after.seq, Math.max(0, Math.floor(logLimit)), after.rev],
    );
    const row = rows[0];
    if (!row) return null;
    const run = toRun(json(row.run));
    const logs = json<Record<string, unknown>[]>(row.logs).map(toLogLine);
    if (logs.length >= logLimit) return { run, logs, steps: [], rev: after.rev };
    const stepRows = json<Record<string, unknown>[]>(row.steps);
    const rev = stepRows.reduce((max, s) => Math.max(max, Number(s.rev)), after.rev);
    return { run, logs, steps: stepRows.map(toStep), rev };
  }

  async getRunDetail(id: string): Promise<{ run: Run; steps: StepRecord[]; assertions: AssertionRecord[] } | null> {
    // One statement, not three: one moment of the run, and one turn of the read lane.
    const { rows } = await this.sql.query<{ run: Record<string, unknown>; steps: Record<string, unknown>[]; assertions: Record<string, unknown>[] }>(
      `SELECT row_to_json(r) AS run,
              (SELECT coalesce(json_agg(s ORDER BY s.seq), '[]') FROM run_steps s WHERE s.run_id = r.id) AS steps,
              (SELECT coalesce(json_agg(a ORDER BY a.seq), '[]') FROM run_assertions a WHERE a.run_id = r.id) AS assertions
         FROM runs r WHERE r.id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      run: toRun(json(row.run)),
      steps: json<Record<string, unknown>[]>(row.steps).map(toStep),
      assertions: json<Record<string, unknown>[]>(row.assertions).map(toAssertion),
    };
  }

  async getAssertions(runId: string, options: { failedOnly?: boolean } = {}): Promise<AssertionRecord[]> {
    const { rows } = await this.sql.query(
      `SELECT * FROM run_assertions WHERE run_id = $1 ${options.failedOnly ? 'AND NOT passed' : ''} ORDER BY seq`,
      [runId],
    );
    return rows.map(toAssertion);
  }

  async getSummary(runId: string): Promise<RunSummary | null> {
    const { rows } = await this.sql.query(
      'SELECT steps_passed, steps_failed, steps_skipped, assertions_passed, assertions_failed, quarantined_failures FROM runs WHERE id = $1',
      [runId],
    );
    return rows[0] ? toSummary(rows[0]) : null;
  }

  // --- tests (test cases across runs) --------------------------------------

  listTests(filter: TestFilter, page: PageRequest): Promise<Page<TestSummary>> {
    return tests.listTests(this.sql, filter, page, this.flakyWindow);
  }

  getTest(id: string): Promise<TestDetail | null> {
    return tests.getTest(this.sql, id, this.flakyWindow);
  }

  testHistory(id: string, page: PageRequest): Promise<Page<TestResultItem> | null> {
    return tests.testHistory(this.sql, id, page);
  }

  quarantineTest(id: string, actor: string | null, reason: string): Promise<TestSummary | null> {
    return tests.setQuarantine(this.sql, id, actor, reason, this.flakyWindow);
  }

  releaseTest(id: string, actor: string | null): Promise<TestSummary | null> {
    return tests.setQuarantine(this.sql, id, actor, null, this.flakyWindow);
  }

  // --- test definitions ---------------------------------------------------

  async createDefinition(input: NewTestDefinition): Promise<TestDefinition> {
    try {
      const { rows } = await this.sql.query(
        `INSERT INTO test_definitions (id, name, description, script, env, timeout_seconds, labels, app_name, files)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9::jsonb)
         RETURNING *`,
        [
          input.id ?? newId(),
          input.name,
          input.description ?? '',
          input.script,
          JSON.stringify(input.env ?? {}),
          input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
          JSON.stringify(input.labels ?? {}),
          input.appName ?? null,
          JSON.stringify(input.files ?? {}, (_k, v) => (typeof v === 'string' ? clean(v) : v)),
        ],
      );
      return toDefinition(rows[0]!);
    } catch (error) {
      throw this.definitionConflict(error, input.name, input.id);
    }
  }

  async getDefinition(idOrName: string): Promise<TestDefinition | null> {
    const { rows } = await this.sql.query(
      'SELECT * FROM test_definitions WHERE id = $1 OR name = $1 ORDER BY (id = $1) DESC LIMIT 1',
      [idOrName],
    );
    return rows[0] ? toDefinition(rows[0]) : null;
  }

  async listDefinitions(page: PageRequest & { text?: string }): Promise<Page<TestDefinition>> {
    const limit = pageLimit(page.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    if (page.text) {
      params.push(likeSubstring(page.text));
      where.push(`(name ILIKE $${params.length} OR description ILIKE $${params.length})`);
    }
    if (page.cursor) {
      const [name] = decodeCursor(page.cursor, 1);
      params.push(name);
      where.push(`name > $${params.length}`);
    }
    params.push(limit + 1);
    const { rows } = await this.sql.query(
      `SELECT * FROM test_definitions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit).map(toDefinition);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.name]) : null };
  }

  lastRunsOfDefinitions(definitionIds: readonly string[]): Promise<Map<string, DefinitionLastRun>> {
    return lastRunsOfDefinitions(this.sql, definitionIds);
  }

  async updateDefinition(id: string, patch: TestDefinitionPatch): Promise<TestDefinition | null> {
    const sets: string[] = [];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown, cast = '') => {
      params.push(value);
      sets.push(`${column} = $${params.length}${cast}`);
    };
    if (patch.name !== undefined) set('name', patch.name);
    if (patch.description !== undefined) set('description', patch.description);
    if (patch.script !== undefined) set('script', patch.script);
    if (patch.env !== undefined) set('env', JSON.stringify(patch.env), '::jsonb');
    if (patch.timeoutSeconds !== undefined) set('timeout_seconds', patch.timeoutSeconds);
    if (patch.labels !== undefined) set('labels', JSON.stringify(patch.labels), '::jsonb');
    if (patch.appName !== undefined) set('app_name', patch.appName);
    if (patch.files !== undefined) set('files', JSON.stringify(patch.files), '::jsonb');
    sets.push('updated_at = now()');
    try {
      const { rows } = await this.sql.query(`UPDATE test_definitions SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, params);
      return rows[0] ? toDefinition(rows[0]) : null;
    } catch (error) {
      throw this.definitionConflict(error, patch.name ?? '', id);
    }
  }

  async deleteDefinition(id: string): Promise<boolean> {
    const { affectedRows } = await this.sql.query('DELETE FROM test_definitions WHERE id = $1', [id]);
    return affectedRows > 0;
  }

  private definitionConflict(error: unknown, name: string, id: string | undefined): unknown {
    if (!isUniqueViolation(error)) return sizeViolation(error);
    const constraint = (error as { constraint?: string }).constraint ?? '';
    if (id !== undefined && constraint.endsWith('_pkey')) {
      return new ConflictError(`a test definition with id ${JSON.stringify(id)} already exists`, { id });
    }
    return new ConflictError(`a test definition named ${JSON.stringify(name)} already exists; choose another name`, { name });
  }

  // --- instances ----------------------------------------------------------

  // --- failure categories -------------------------------------------------

  getCategoryRules(): Promise<categories.StoredCategoryRules> {
    return categories.getCategoryRules(this.sql);
  }

  putCategoryRules(rules: CategoryRules, actor: string | null): Promise<categories.StoredCategoryRules> {
    return categories.putCategoryRules(this.sql, rules, actor);
  }

  recentFailures(limit: number): Promise<categories.FailureSample[]> {
    return categories.recentFailures(this.sql, limit);
  }

  recategorize(options: categories.RecategorizeOptions): Promise<categories.RecategorizeProgress> {
    return categories.recategorize(this.sql, options);
  }

  categoryTrends(request: TimeRange & { bucket: TrendBucket }): Promise<categories.CategoryTrendPoint[]> {
    return categories.categoryTrends(this.sql, request);
  }

  runTestResults(runId: string): Promise<RecordedTestCase[]> {
    return runTestResults(this.sql, runId);
  }

  // --- apps ---------------------------------------------------------------

  async putApp(input: NewApp): Promise<{ record: AppRecord; created: boolean; changed: boolean }> {
    // One statement: the previous generation is read under the row lock the upsert takes;
    // jsonb equality (key order aside) decides whether the spec changed.
    const { rows } = await this.sql.query(
      `WITH before AS (SELECT generation FROM apps WHERE name = $1)
       INSERT INTO apps AS a (name, spec, base_dir, labels, annotations, generation)
       VALUES ($1, $2::jsonb, $3, $4::jsonb, $5::jsonb, COALESCE($6::bigint, 1))
       ON CONFLICT (name) DO UPDATE SET
         spec = EXCLUDED.spec, base_dir = EXCLUDED.base_dir, labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,
         generation = COALESCE($6::bigint, a.generation + (CASE WHEN a.spec IS DISTINCT FROM EXCLUDED.spec THEN 1 ELSE 0 END)),
         updated_at = now()
       RETURNING a.*, (SELECT generation FROM before) AS previous_generation`,
      [input.name, JSON.stringify(input.spec), input.baseDir ?? null, JSON.stringify(input.labels ?? {}), JSON.stringify(input.annotations ?? {}), input.generation ?? null],
    );
    const row = rows[0]!;
    const record = toAppRecord(row);
    const created = row.previous_generation == null;
    return { record, created, changed: created || Number(row.previous_generation) !== record.generation };
  }

  async getApp(name: string): Promise<AppRecord | null> {
    const { rows } = await this.sql.query('SELECT * FROM apps WHERE name = $1', [name]);
    return rows[0] ? toAppRecord(rows[0]) : null;
  }

  async listApps(): Promise<AppRecord[]> {
    const { rows } = await this.sql.query('SELECT * FROM apps ORDER BY name');
    return rows.map(toAppRecord);
  }

  async deleteApp(name: string): Promise<boolean> {
    const { rows } = await this.sql.query('DELETE FROM apps WHERE name = $1 RETURNING name', [name]);
    return rows.length > 0;
  }

  async setAppStatus(name: string, status: AppStatus): Promise<void> {
    await this.sql.query('UPDATE apps SET status = $2::jsonb WHERE name = $1', [name, JSON.stringify(status)]);
  }

  // --- tokens and sessions -------------------------------------------------

  createToken(input: tokens.NewToken): Promise<TokenRecord> {
    return tokens.createToken(this.sql, input);
  }

  listTokens(): Promise<TokenRecord[]> {
    return tokens.listTokens(this.sql);
  }

  findTokenBySecretHash(secretHash: string): Promise<TokenRecord | null> {
    return tokens.findTokenBySecretHash(this.sql, secretHash);
  }

  getToken(idOrName: string): Promise<TokenRecord | null> {
    return tokens.getToken(this.sql, idOrName);
  }

  touchToken(id: string): Promise<void> {
    return tokens.touchToken(this.sql, id);
  }

  revokeToken(id: string): Promise<TokenRecord | null> {
    return tokens.revokeToken(this.sql, id);
  }

  createSession(input: tokens.NewSession): Promise<void> {
    return tokens.createSession(this.sql, input);
  }

  findSession(idHash: string): Promise<{ token: TokenRecord; expiresAt: string } | null> {
    return tokens.findSession(this.sql, idHash);
  }

  deleteSession(idHash: string): Promise<boolean> {
    return tokens.deleteSession(this.sql, idHash);
  }

  async heartbeat(instanceId: string, info?: Record<string, unknown>): Promise<void> {
    await this.sql.query(
      `INSERT INTO instances (id, heartbeat_at, info) VALUES ($1, now(), coalesce($2::jsonb, '{}'))
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), info = coalesce($2::jsonb, instances.info)`,
      [instanceId, info === undefined ? null : JSON.stringify(info)],
    );
  }

  async liveInstances(staleAfterMs: number): Promise<string[]> {
    const { rows } = await this.sql.query<{ id: string }>(
      `SELECT id FROM instances WHERE heartbeat_at > now() - $1::double precision * interval '1 millisecond' ORDER BY id`,
      [staleAfterMs],
    );
    return rows.map((r) => r.id);
  }

  async removeInstance(instanceId: string): Promise<void> {
    await this.sql.query('DELETE FROM instances WHERE id = $1', [instanceId]);
  }
}

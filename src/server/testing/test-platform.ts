/**
 * The real parts behind the HTTP layer, for `app.request()` tests: an in-memory
 * PGlite store (or a PostgreSQL database given by URL) and a started RunEngine on the local Lua executor. Opening PGlite
 * takes seconds, so a test file opens one platform (`beforeAll`) and calls
 * `reset()` between tests.
 *
 * The counting wrappers below delegate every call to the real objects; they only
 * observe (calls per store method, engine subscriptions still open).
 */
import type { Run } from '../../core/run.js';
import type { LogLine } from '../../core/run-events.js';
import { isTerminal } from '../../core/run-phase.js';
import type { RunNotification } from '../../engine/engine.js';
import { RunEngine } from '../../engine/run-engine.js';
import type { Executor } from '../../executors/executor.js';
import { createLocalExecutor } from '../../executors/local-executor.js';
import { openSql } from '../../store/open-store.js';
import { createPostgresStore } from '../../store/postgres-store.js';
import type { Sql } from '../../store/sql.js';
import type { Store } from '../../store/store.js';
import type { ServerEngine, ServerStore } from '../deps.js';

export interface TestPlatform {
  sql: Sql;
  store: Store;
  engine: RunEngine;
  executor: Executor;
  /** Cancels whatever is still Queued or Running, waits until nothing executes, then empties the data tables. */
  reset(): Promise<void>;
  /** Waits until the run has at least `count` log lines in the store. */
  waitForLogs(runId: string, count: number, timeoutMs?: number): Promise<LogLine[]>;
  /** Waits until the run is terminal in the store. */
  waitForEnd(runId: string, timeoutMs?: number): Promise<Run>;
  close(): Promise<void>;
}

export interface TestPlatformOptions {
  /** The engine's global limit on Running runs. Default 4. */
  concurrency?: number;
  /** A PostgreSQL database to migrate and use (`postgres://…`); default an in-memory PGlite. */
  databaseUrl?: string;
}

export async function openTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const sql = await openSql({ databaseUrl: options.databaseUrl ?? null });
  const store = createPostgresStore(sql);
  let executor: Executor | null = null;
  let engine: RunEngine | null = null;
  try {
    await store.migrate();
    executor = createLocalExecutor({ workers: 1, memoryLimitBytes: 64 << 20 });
    engine = new RunEngine({
      store,
      executor,
      instanceId: `server-test-${process.pid}-${Math.random().toString(36).slice(2)}`,
      concurrency: options.concurrency ?? 4,
      exclusive: true,
      // Short intervals keep cancels of just-claimed runs and queue polling fast.
      heartbeatMs: 100,
      pollMs: 50,
    });
    await engine.start();
  } catch (error) {
    await engine?.stop(0).catch(() => {});
    await executor?.close().catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
  const started = engine;
  const exec = executor;

  async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== null) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(10);
    }
  }

  return {
    sql,
    store,
    engine: started,
    executor: exec,
    async reset() {
      await waitUntil('every run to stop', 15_000, async () => {
        const open = await store.listRuns({ phase: ['Queued', 'Running'] }, { limit: 1000, cursor: null });
        if (open.items.length === 0 && started.localActive === 0) return true;
        await Promise.all(open.items.map((run) => started.cancel(run.id).catch(() => {})));
        return null;
      });
      await sql.exec('TRUNCATE runs, test_definitions, tests, category_rules, audit_log CASCADE');
    },
    waitForLogs(runId, count, timeoutMs = 10_000) {
      return waitUntil(`${count} log line(s) of run ${runId}`, timeoutMs, async () => {
        const lines = await store.getLogs(runId, 0, 1000);
        return lines.length >= count ? lines : null;
      });
    },
    waitForEnd(runId, timeoutMs = 10_000) {
      return waitUntil(`run ${runId} to finish`, timeoutMs, async () => {
        const run = await store.getRun(runId);
        return run && isTerminal(run.phase) ? run : null;
      });
    },
    async close() {
      await started.stop(0);
      await exec.close();
      await store.close();
    },
  };
}

/** The real store, counting the calls of each method. */
export function countingStore<S extends ServerStore>(store: S): { store: S; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const counted = new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        calls[key] = (calls[key] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: counted, calls };
}

/** A view of an engine whose `subscribe` counts subscriptions not yet released. */
export function trackingEngine(engine: ServerEngine): { engine: ServerEngine; subscriptions: () => number } {
  let open = 0;
  const tracked: ServerEngine = {
    submit: (request) => engine.submit(request),
    submitMany: (requests) => engine.submitMany(requests),
    cancel: (id) => engine.cancel(id),
    stats: () => engine.stats(),
    get metrics() {
      return engine.metrics;
    },
    subscribe(runId: string, listener: (n: RunNotification) => void) {
      const unsubscribe = engine.subscribe(runId, listener);
      open++;
      let released = false;
      return () => {
        if (!released) {
          released = true;
          open--;
        }
        unsubscribe();
      };
    },
  };
  return { engine: tracked, subscriptions: () => open };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An in-memory stand-in for the store and engine, for tests of the HTTP layer
 * that need no Lua or Postgres: `app.request()` validation tests and stream
 * clean-up tests. It is NOT the platform:
 * - runs do not execute by themselves; tests drive them with `start`, `emit`
 *   and `finish` (or `autoRun`), which write records like the engine would;
 * - listRuns pages by offset and filters in memory; definitions are unique by name;
 * - no concurrency limit, timeouts, cancellation of running scripts or recovery.
 * Integration tests use the real platform (`startTopas`) instead.
 */
import { Registry } from 'prom-client';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.js';
import type { TestDefinition } from '../../core/definition.js';
import { newId } from '../../core/ids.js';
import type { AssertionRecord, LogLine, StepRecord } from '../../core/run-events.js';
import { RUN_PHASES, isTerminal, type RunPhase } from '../../core/run-phase.js';
import { EMPTY_SUMMARY, type Run, type RunCompletion, type RunFilter } from '../../core/run.js';
import type { RunNotification, RunRequest } from '../../engine/engine.js';
import type { Page, PageRequest } from '../../store/store.js';
import type { ServerEngine, ServerStore } from '../deps.js';

export class MemoryBackend {
  readonly runs = new Map<string, Run>();
  readonly logs = new Map<string, LogLine[]>();
  readonly steps = new Map<string, StepRecord[]>();
  readonly assertions = new Map<string, AssertionRecord[]>();
  readonly definitions = new Map<string, TestDefinition>();
  private readonly listeners = new Map<string, Set<(n: RunNotification) => void>>();
  /** Calls of each store method, to tell whether something still polls. */
  readonly calls: Record<string, number> = {};

  /** Active engine subscriptions (0 once every follower cleaned up). */
  get subscriptions(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  readonly store: ServerStore = {
    getRun: async (id) => (this.count('getRun'), this.runs.get(id) ?? null),
    listRuns: async (filter, page) => this.page(this.filterRuns(filter), page),
    getLogs: async (runId, afterSeq = 0, limit = 1000) => (this.count('getLogs'), (this.logs.get(runId) ?? []).filter((l) => l.seq > afterSeq).slice(0, limit)),
    getSteps: async (runId) => [...(this.steps.get(runId) ?? [])],
    getAssertions: async (runId, options) => (this.assertions.get(runId) ?? []).filter((a) => !options?.failedOnly || !a.passed),
    createDefinition: async (input) => {
      if ([...this.definitions.values()].some((d) => d.name === input.name)) throw new ConflictError(`definition ${input.name} exists`);
      const now = new Date().toISOString();
      const def: TestDefinition = {
        id: newId(),
        name: input.name,
        description: input.description ?? '',
        script: input.script,
        env: input.env ?? {},
        timeoutSeconds: input.timeoutSeconds ?? 600,
        labels: input.labels ?? {},
        appName: input.appName ?? null,
        createdAt: now,
        updatedAt: now,
      };
      this.definitions.set(def.id, def);
      return def;
    },
    getDefinition: async (idOrName) => this.definitions.get(idOrName) ?? [...this.definitions.values()].find((d) => d.name === idOrName) ?? null,
    listDefinitions: async (page) =>
      this.page([...this.definitions.values()].filter((d) => !page.text || d.name.toLowerCase().includes(page.text.toLowerCase())), page),
    updateDefinition: async (id, patch) => {
      const def = this.definitions.get(id);
      if (!def) return null;
      const updated = { ...def, ...patch, updatedAt: new Date().toISOString() } as TestDefinition;
      this.definitions.set(id, updated);
      return updated;
    },
    deleteDefinition: async (id) => this.definitions.delete(id),
    countByPhase: async () => {
      const counts = Object.fromEntries(RUN_PHASES.map((p) => [p, 0])) as Record<RunPhase, number>;
      for (const run of this.runs.values()) counts[run.phase]++;
      return counts;
    },
    queueStats: async () => {
      const all = [...this.runs.values()];
      return { queued: all.filter((r) => r.phase === 'Queued').length, running: all.filter((r) => r.phase === 'Running').length };
    },
  };

  readonly engine: ServerEngine = {
    submit: async (request) => this.submit(request),
    cancel: async (id) => {
      const run = this.runs.get(id);
      if (!run) throw new NotFoundError('run', id);
      if (isTerminal(run.phase)) throw new ConflictError(`run ${id} already finished (${run.phase})`, { phase: run.phase });
      return this.update(id, { phase: 'Cancelled', reason: 'Cancelled', message: 'cancelled by a user', finishedAt: new Date().toISOString() });
    },
    subscribe: (runId, listener) => {
      const set = this.listeners.get(runId) ?? new Set();
      set.add(listener);
      this.listeners.set(runId, set);
      return () => void set.delete(listener);
    },
    stats: async () => {
      const q = await this.store.queueStats();
      return { queueDepth: q.queued, activeRunners: q.running, concurrency: 4 };
    },
    metrics: new Registry(),
  };

  private async submit(request: RunRequest): Promise<Run> {
    let script = request.script;
    let env = request.env ?? {};
    let source: Run['source'];
    if (request.definitionId) {
      const def = await this.store.getDefinition(request.definitionId);
      if (!def) throw new NotFoundError('test definition', request.definitionId);
      script = def.script;
      env = { ...def.env, ...env };
      source = { type: 'definition', definitionId: def.id, script };
    } else if (script) {
      source = { type: 'inline', script, ...(request.fileName ? { fileName: request.fileName } : {}) };
    } else {
      throw new ValidationError([{ field: 'script', message: 'give exactly one of script and definitionId' }]);
    }
    const run: Run = {
      id: newId(),
      name: request.name ?? request.fileName?.replace(/\.lua$/, '') ?? 'adhoc',
      phase: 'Queued',
      origin: request.origin,
      k8sRef: null,
      appName: request.appName ?? null,
      source,
      env,
      timeoutSeconds: request.timeoutSeconds ?? 600,
      labels: request.labels ?? {},
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      summary: { ...EMPTY_SUMMARY },
      reason: null,
      message: null,
      executor: null,
    };
    this.runs.set(run.id, run);
    return run;
  }

  /** Queued → Running. */
  start(id: string): Run {
    return this.update(id, { phase: 'Running', startedAt: new Date().toISOString(), executor: 'memory' });
  }

  /** Appends log lines (and optional step records) and notifies followers. */
  emit(id: string, messages: string[], steps: Omit<StepRecord, 'runId'>[] = []): void {
    const lines = this.logs.get(id) ?? [];
    for (const message of messages) {
      lines.push({ runId: id, seq: lines.length + 1, ts: new Date().toISOString(), level: 'info', message, stepSeq: null });
    }
    this.logs.set(id, lines);
    const stored = this.steps.get(id) ?? [];
    for (const step of steps) {
      const i = stored.findIndex((s) => s.seq === step.seq);
      if (i >= 0) stored[i] = { ...step, runId: id };
      else stored.push({ ...step, runId: id });
    }
    this.steps.set(id, stored);
    this.notify(id, { type: 'events', runId: id, lastLogSeq: lines.length });
  }

  /** Running → a terminal phase. */
  finish(id: string, completion: Partial<RunCompletion> & Pick<RunCompletion, 'phase'>): Run {
    const run = this.runs.get(id)!;
    const finishedAt = new Date();
    return this.update(id, {
      phase: completion.phase,
      reason: completion.reason ?? null,
      message: completion.message ?? null,
      summary: completion.summary ?? run.summary,
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - Date.parse(run.startedAt ?? run.createdAt),
    });
  }

  private update(id: string, patch: Partial<Run>): Run {
    const run = { ...this.runs.get(id)!, ...patch };
    this.runs.set(id, run);
    this.notify(id, { type: 'phase', run });
    return run;
  }

  private notify(id: string, n: RunNotification): void {
    for (const listener of this.listeners.get(id) ?? []) listener(n);
  }

  private filterRuns(f: RunFilter): Run[] {
    return [...this.runs.values()]
      .filter(
        (r) =>
          (!f.phase?.length || f.phase.includes(r.phase)) &&
          (!f.origin?.length || f.origin.includes(r.origin)) &&
          (!f.appName || r.appName === f.appName) &&
          (!f.text || r.name.toLowerCase().includes(f.text.toLowerCase())) &&
          (!f.createdAfter || r.createdAt >= f.createdAfter) &&
          (!f.createdBefore || r.createdAt < f.createdBefore) &&
          (!f.definitionId || (r.source.type === 'definition' && r.source.definitionId === f.definitionId)) &&
          Object.entries(f.labels ?? {}).every(([k, v]) => r.labels[k] === v),
      )
      .sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  private page<T>(all: T[], page: PageRequest): Page<T> {
    const offset = page.cursor ? Number(page.cursor) : 0;
    const limit = page.limit ?? 50;
    const items = all.slice(offset, offset + limit);
    return { items, nextCursor: offset + limit < all.length ? String(offset + limit) : null };
  }
}

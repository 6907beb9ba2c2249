import type { AssertionRecord, EventBatch, LogLine, RunEvent, StepRecord } from '../core/run-events.js';
import type { Run } from '../core/run.js';
import type { RunFinish, Store } from '../store/store.js';

/** Longest log line kept; longer lines are cut with a marker. */
export const MAX_LOG_LINE_CHARS = 64 * 1024;
/** Log lines kept per run; after that one line says the log was truncated. */
export const MAX_LOG_LINES_PER_RUN = 1_000_000;

export interface EventWriterOptions {
  /** Longest time an event waits before it is written. Default 20 ms. */
  flushIntervalMs?: number;
  /** Pending records that trigger an immediate write. Default 1000. */
  maxPending?: number;
  /** Called after a batch is persisted, with the newest log seq of each run in it. */
  onPersisted?: (runs: Map<string, number>) => void;
  /** Called when a write fails (it is retried). */
  onError?: (error: unknown) => void;
}

interface RunState {
  logSeq: number;
  assertionSeq: number;
  /** Steps started and not yet ended, by seq. */
  open: Map<number, StepRecord>;
  truncated: boolean;
}

/**
 * Turns runner events into rows and writes them in batches: every event is
 * persisted within `flushIntervalMs` of arriving (so logs survive a crash a moment
 * later) while thousands of events per second cost a few statements.
 */
export class EventWriter {
  private readonly runs = new Map<string, RunState>();
  private pending: EventBatch = emptyBatch();
  private pendingCount = 0;
  private pendingFinishes: { finish: RunFinish; resolve: (run: Run | null) => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private soon: Promise<void> | null = null;
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;

  constructor(
    private readonly store: Store,
    private readonly options: EventWriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 20;
    this.maxPending = options.maxPending ?? 1000;
  }

  /** Starts tracking a run (seq counters begin at 1). */
  begin(runId: string): void {
    this.runs.set(runId, { logSeq: 0, assertionSeq: 0, open: new Map(), truncated: false });
  }

  add(runId: string, event: RunEvent): void {
    const state = this.runs.get(runId);
    if (!state) return;
    const ts = new Date(event.ts).toISOString();
    switch (event.type) {
      case 'log': {
        if (state.logSeq >= MAX_LOG_LINES_PER_RUN) {
          if (state.truncated) return;
          state.truncated = true;
          this.pushLog(runId, state, ts, 'warn', `log truncated: more than ${MAX_LOG_LINES_PER_RUN} lines`, null);
          return;
        }
        const message =
          event.message.length > MAX_LOG_LINE_CHARS
            ? `${event.message.slice(0, MAX_LOG_LINE_CHARS)}… [line cut at ${MAX_LOG_LINE_CHARS} characters]`
            : event.message;
        this.pushLog(runId, state, ts, event.level, message, event.stepSeq);
        return;
      }
      case 'step.start': {
        const step: StepRecord = {
          runId,
          seq: event.seq,
          parentSeq: event.parentSeq,
          kind: event.kind,
          name: event.name,
          status: 'running',
          startedAt: ts,
          finishedAt: null,
          durationMs: null,
          message: null,
          file: event.location?.file ?? null,
          line: event.location?.line ?? null,
        };
        state.open.set(event.seq, step);
        this.pending.steps.push(step);
        this.bump();
        return;
      }
      case 'step.end': {
        const started = state.open.get(event.seq);
        if (!started) return;
        state.open.delete(event.seq);
        const ended: StepRecord = {
          ...started,
          status: event.status,
          finishedAt: ts,
          durationMs: Math.max(0, event.ts - Date.parse(started.startedAt)),
          message: event.message,
          file: event.location?.file ?? started.file,
          line: event.location?.line ?? started.line,
        };
        // A start still waiting to be written is replaced by its end: one upsert.
        const i = this.pending.steps.indexOf(started);
        if (i >= 0) this.pending.steps[i] = ended;
        else {
          this.pending.steps.push(ended);
          this.bump();
        }
        return;
      }
      case 'assertion': {
        const record: AssertionRecord = {
          runId,
          seq: ++state.assertionSeq,
          stepSeq: event.stepSeq,
          passed: event.passed,
          message: event.message,
          expected: event.expected ?? null,
          actual: event.actual ?? null,
          file: event.location?.file ?? null,
          line: event.location?.line ?? null,
          ts,
        };
        this.pending.assertions.push(record);
        this.bump();
        return;
      }
    }
  }

  /**
   * Writes everything pending now. Resolves when all events added before the call
   * are persisted.
   */
  async flush(): Promise<void> {
    // Wait for an in-flight write, then write what accumulated meanwhile.
    while (this.writing) await this.writing;
    if (this.pendingCount === 0 && this.pendingFinishes.length === 0) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    const finishes = this.pendingFinishes;
    this.pending = emptyBatch();
    this.pendingCount = 0;
    this.pendingFinishes = [];
    this.writing = this.write(batch, finishes).finally(() => {
      this.writing = null;
    });
    await this.writing;
  }

  /**
   * Persists the run's events and then its end (`finish`), in the same transaction,
   * and forgets the run. Steps left open are closed as failed. Resolves with the
   * finished run, or null when the run was no longer ours to finish.
   */
  async end(runId: string, reason: string | null, finish: RunFinish): Promise<Run | null> {
    const state = this.runs.get(runId);
    if (state) {
      const now = Date.now();
      for (const seq of [...state.open.keys()].sort((a, b) => b - a)) {
        this.add(runId, {
          type: 'step.end',
          ts: now,
          seq,
          status: 'failed',
          message: reason ?? 'the run ended before the step finished',
          location: null,
        });
      }
    }
    const done = new Promise<Run | null>((resolve, reject) => this.pendingFinishes.push({ finish, resolve, reject }));
    void this.flushSoon().catch(() => {});
    try {
      return await done;
    } finally {
      this.runs.delete(runId);
    }
  }

  /**
   * Like `flush`, but waits for the end of the current event-loop turn first, so
   * that runs ending together share one write.
   */
  flushSoon(): Promise<void> {
    this.soon ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.soon = null;
      return this.flush();
    });
    return this.soon;
  }

  /** Newest log seq of a tracked run (0 when none). */
  lastLogSeq(runId: string): number {
    return this.runs.get(runId)?.logSeq ?? 0;
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private pushLog(runId: string, state: RunState, ts: string, level: LogLine['level'], message: string, stepSeq: number | null) {
    this.pending.logs.push({ runId, seq: ++state.logSeq, ts, level, message, stepSeq });
    this.bump();
  }

  private bump(): void {
    this.pendingCount++;
    if (this.pendingCount >= this.maxPending) {
      this.flush().catch((e) => this.options.onError?.(e));
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush().catch((e) => this.options.onError?.(e));
      }, this.flushIntervalMs);
    }
  }

  private async write(batch: EventBatch, finishes: EventWriter['pendingFinishes']): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const results = await this.store.writeEvents(
          batch,
          finishes.map((f) => f.finish),
        );
        finishes.forEach((f, i) => f.resolve(results[i] ?? null));
        break;
      } catch (error) {
        this.options.onError?.(error);
        if (attempt >= 20) {
          for (const f of finishes) f.reject(error);
          throw error;
        }
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
      }
    }
    const newest = new Map<string, number>();
    for (const l of batch.logs) newest.set(l.runId, l.seq);
    for (const s of batch.steps) if (!newest.has(s.runId)) newest.set(s.runId, this.lastLogSeq(s.runId));
    for (const a of batch.assertions) if (!newest.has(a.runId)) newest.set(a.runId, this.lastLogSeq(a.runId));
    this.options.onPersisted?.(newest);
  }
}

function emptyBatch(): EventBatch {
  return { logs: [], steps: [], assertions: [] };
}

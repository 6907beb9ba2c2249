import { errorField, silentLogger, type Logger } from '../core/logger.js';
import { assertionRecord, endedStep, startedStep, type AssertionRecord, type EventBatch, type LogLine, type NumberedRunEvent, type StepRecord } from '../core/run-events.js';
import type { Run } from '../core/run.js';
import type { RunFinish, Store } from '../store/store.js';
import { decideAfterFailure, type StoreRetryPolicy } from './store-retry.js';

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
  /** When and how often a refused write is tried again (`store-retry.ts`). */
  retry?: StoreRetryPolicy;
  /**
   * Whether the store takes writes at all right now: resolves if it does. A write
   * that fails while this succeeds is judged by its content; one that fails while
   * this fails waits for the store. Default: a read of the queue counts.
   */
  probe?: () => Promise<unknown>;
  log?: Logger;
}

/** The writer stopped before the store took a run's end (the run is recovered as ExecutorLost). */
export class WriterClosedError extends Error {
  readonly code = 'WriterClosed';
  constructor() {
    super('the event writer stopped before the store took the write');
    this.name = 'WriterClosedError';
  }
}

interface PendingFinish {
  finish: RunFinish;
  resolve: (run: Run | null) => void;
  reject: (e: unknown) => void;
}

/**
 * One store transaction: the events of some runs and the ends of some runs.
 * `standIn` marks a write that already replaces a record the store refused.
 */
interface Write {
  batch: EventBatch;
  finishes: PendingFinish[];
  standIn?: boolean;
}

interface RunState {
  /** The newest log line number seen (numbers come with the events: `EventNumberer`). */
  logSeq: number;
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
  private pendingFinishes: PendingFinish[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private soon: Promise<void> | null = null;
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;
  private readonly log: Logger;
  private readonly probe: () => Promise<unknown>;
  /** Run ends whose stand-in the store refused too: retried aside until it takes them (rule 5). */
  private readonly parked = new Set<Write>();
  private parkTimer: NodeJS.Timeout | null = null;
  /** Set by `close`: retries stop at this time and unstored ends are rejected. */
  private closeDeadline: number | null = null;

  constructor(
    private readonly store: Pick<Store, 'writeEvents' | 'queueStats'>,
    private readonly options: EventWriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 20;
    this.maxPending = options.maxPending ?? 1000;
    this.log = options.log ?? silentLogger;
    this.probe = options.probe ?? (() => store.queueStats());
  }

  /**
   * Starts tracking a run. `openSteps`: steps already stored as running (a re-attached
   * run), so that their ends, arriving now, complete them.
   */
  begin(runId: string, openSteps: readonly StepRecord[] = []): void {
    const open = new Map<number, StepRecord>();
    for (const step of openSteps) if (step.status === 'running') open.set(step.seq, step);
    this.runs.set(runId, { logSeq: 0, open, truncated: false });
  }

  /**
   * Adds a numbered event. The same event added twice (a replay) becomes the same
   * record, which the store keeps once. Lines past MAX_LOG_LINES_PER_RUN become one
   * marker with the number MAX_LOG_LINES_PER_RUN + 1 (the same one on every replay).
   */
  add(runId: string, event: NumberedRunEvent): void {
    const state = this.runs.get(runId);
    if (!state) return;
    const ts = new Date(event.ts).toISOString();
    switch (event.type) {
      case 'log': {
        if (event.seq > MAX_LOG_LINES_PER_RUN) {
          if (state.truncated) return;
          state.truncated = true;
          this.pushLog(runId, state, MAX_LOG_LINES_PER_RUN + 1, ts, 'warn', `log truncated: more than ${MAX_LOG_LINES_PER_RUN} lines`, null);
          return;
        }
        const message =
          event.message.length > MAX_LOG_LINE_CHARS
            ? `${event.message.slice(0, MAX_LOG_LINE_CHARS)}… [line cut at ${MAX_LOG_LINE_CHARS} characters]`
            : event.message;
        this.pushLog(runId, state, event.seq, ts, event.level, message, event.stepSeq);
        return;
      }
      case 'step.start': {
        const step = startedStep(runId, event, ts);
        state.open.set(event.seq, step);
        this.pending.steps.push(step);
        this.bump();
        return;
      }
      case 'step.end': {
        const started = state.open.get(event.seq);
        if (!started) return;
        state.open.delete(event.seq);
        const ended = endedStep(started, event, ts);
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
        const record = assertionRecord(runId, event, ts);
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
    this.writing = this.write({ batch, finishes }).finally(() => {
      this.writing = null;
    });
    await this.writing;
  }

  /**
   * Persists the run's events and then its end (`finish`), in the same transaction,
   * and forgets the run. Steps left open are closed as failed. Resolves with the
   * finished run, or null when the run was no longer ours to finish. While the store
   * refuses the write it is retried (`store-retry.ts`); this rejects only when the
   * writer is closed first (`WriterClosedError`).
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

  /**
   * Writes what is pending and waits for parked ends, for at most `graceMs` of
   * retrying; ends the store has not taken by then are rejected (WriterClosedError).
   */
  async close(graceMs = 5000): Promise<void> {
    this.closeDeadline = Date.now() + graceMs;
    await this.flush();
    while (this.parked.size > 0 && Date.now() < this.closeDeadline) {
      await this.retryParked();
      if (this.parked.size > 0) await sleep(Math.min(this.policyDelay(), Math.max(0, this.closeDeadline - Date.now())));
    }
    for (const w of this.parked) for (const f of w.finishes) f.reject(new WriterClosedError());
    this.parked.clear();
    if (this.parkTimer) clearTimeout(this.parkTimer);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.parkTimer = null;
  }

  private pushLog(runId: string, state: RunState, seq: number, ts: string, level: LogLine['level'], message: string, stepSeq: number | null) {
    if (seq > state.logSeq) state.logSeq = seq;
    this.pending.logs.push({ runId, seq, ts, level, message, stepSeq });
    this.bump();
  }

  private bump(): void {
    this.pendingCount++;
    if (this.pendingCount >= this.maxPending) {
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.flushIntervalMs);
    }
  }

  /** Stores a write; never throws: a run's end that cannot be stored before `close` is rejected to its waiter. */
  private async write(w: Write): Promise<void> {
    try {
      await this.storeWrite(w);
    } catch (error) {
      for (const f of w.finishes) f.reject(error);
    }
  }

  /** Tries `w` until it is stored, acting on `decideAfterFailure` after each failure. Throws only WriterClosedError. */
  private async storeWrite(w: Write): Promise<void> {
    let refusals = 0;
    for (let attempt = 1; ; attempt++) {
      let error: unknown;
      try {
        await this.attempt(w);
        if (attempt > 1) this.log('info', 'store took a write it had refused', { ...runFields(w), attempts: attempt });
        return;
      } catch (e) {
        error = e;
      }
      const storeAnswers = await this.probe().then(
        () => true,
        () => false,
      );
      if (storeAnswers) refusals++;
      const records = countRecords(w);
      const decision = decideAfterFailure(
        { attempt, refusals, storeAnswers, runs: runIdsOf(w).length, records, standIn: w.standIn ?? false, isEnd: w.finishes.length === 1 && records === 1 },
        this.options.retry,
      );
      switch (decision.action) {
        case 'retry':
          this.reportRetry(w, decision.why, attempt, error);
          await this.pause(decision.delayMs);
          continue;
        case 'split':
          this.log('debug', 'store refused a write; storing its halves apart', { ...runFields(w), records, error: errorField(error) });
          for (const part of split(w)) await this.storeWrite(part);
          return;
        case 'stand-in':
          w = this.standIn(w, error);
          refusals = 0;
          attempt = 0;
          continue;
        case 'drop':
          this.log('error', 'store refused a run event and its stand-in; the event is lost', { ...runFields(w), record: recordKind(w), error: errorField(error) });
          return;
        case 'park':
          this.log('error', 'store refused the end of a run even as StoreWriteFailed; retrying it until the store takes it', {
            ...runFields(w),
            error: errorField(error),
          });
          this.park(w);
          return;
      }
    }
  }

  /** One store transaction; on success settles its ends and tells followers. */
  private async attempt(w: Write): Promise<void> {
    const results = await this.store.writeEvents(
      w.batch,
      w.finishes.map((f) => f.finish),
    );
    w.finishes.forEach((f, i) => f.resolve(results[i] ?? null));
    this.persisted(w.batch);
  }

  private reportRetry(w: Write, why: 'store-down' | 'transient', attempt: number, error: unknown): void {
    // 1, 2, 4, 8, ... failures: an outage of minutes logs a dozen lines, not hundreds.
    if ((attempt & (attempt - 1)) !== 0) return;
    const msg = why === 'store-down' ? 'store does not take writes; retrying' : 'store refused a write; retrying';
    const error_ = errorField(error);
    const events = w.batch.logs.length + w.batch.steps.length + w.batch.assertions.length;
    if (events > 0 || w.finishes.length === 0) this.log('warn', `writing run events failed: ${msg}`, { ...runFields(w), attempt, error: error_ });
    for (const f of w.finishes) {
      this.log('warn', `writing the end of a run failed: ${msg}`, { runId: f.finish.id, phase: f.finish.completion.phase, attempt, error: error_ });
    }
  }

  /** The stand-in of a write holding one refused record (rule 4). */
  private standIn(w: Write, error: unknown): Write {
    const why = truncate(errorField(error), 300);
    const [finish] = w.finishes;
    if (finish) {
      const { completion } = finish.finish;
      this.log('error', 'the end of a run could not be stored; ending it as Error (StoreWriteFailed)', {
        runId: finish.finish.id,
        phase: completion.phase,
        reason: completion.reason,
        error: why,
      });
      const standIn: RunFinish = {
        ...finish.finish,
        completion: {
          phase: 'Error',
          reason: 'StoreWriteFailed',
          message: `the run ended ${completion.phase}${completion.reason ? ` (${completion.reason})` : ''}, but that could not be stored: ${why}`,
          summary: completion.summary,
        },
      };
      return { batch: emptyBatch(), finishes: [{ ...finish, finish: standIn }], standIn: true };
    }
    const { logs, steps, assertions } = w.batch;
    const batch = emptyBatch();
    if (logs[0]) batch.logs.push({ ...logs[0], level: 'warn', message: `[log line could not be stored: ${why}]` });
    if (steps[0]) batch.steps.push({ ...steps[0], name: '[step could not be stored]', message: why, file: null, line: null });
    if (assertions[0]) batch.assertions.push({ ...assertions[0], message: `[assertion could not be stored: ${why}]`, expected: null, actual: null, file: null, line: null });
    this.log('error', 'a run event could not be stored; storing a stand-in that says so', { ...runFields(w), record: recordKind(w), error: why });
    return { batch, finishes: [], standIn: true };
  }

  private park(w: Write): void {
    this.parked.add(w);
    this.parkTimer ??= setTimeout(() => {
      this.parkTimer = null;
      void this.retryParked().then(() => {
        if (this.parked.size > 0 && this.closeDeadline === null) this.park([...this.parked][0]!);
      });
    }, this.policyDelay());
  }

  private async retryParked(): Promise<void> {
    for (const w of [...this.parked]) {
      try {
        await this.attempt(w);
        this.parked.delete(w);
        this.log('info', 'store took the end of a run it had refused', runFields(w));
      } catch {
        // still refused: tried again at the next round
      }
    }
  }

  private policyDelay(): number {
    return this.options.retry?.maxDelayMs ?? 2000;
  }

  /** Waits before a retry; once closing, not past the deadline, and then throws. */
  private async pause(ms: number): Promise<void> {
    if (this.closeDeadline !== null) {
      const left = this.closeDeadline - Date.now();
      if (left <= 0) throw new WriterClosedError();
      ms = Math.min(ms, left);
    }
    await sleep(ms);
  }

  private persisted(batch: EventBatch): void {
    const newest = new Map<string, number>();
    for (const l of batch.logs) newest.set(l.runId, Math.max(l.seq, newest.get(l.runId) ?? 0));
    for (const s of batch.steps) if (!newest.has(s.runId)) newest.set(s.runId, this.lastLogSeq(s.runId));
    for (const a of batch.assertions) if (!newest.has(a.runId)) newest.set(a.runId, this.lastLogSeq(a.runId));
    if (newest.size > 0) this.options.onPersisted?.(newest);
  }
}

function emptyBatch(): EventBatch {
  return { logs: [], steps: [], assertions: [] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function countRecords(w: Write): number {
  return w.batch.logs.length + w.batch.steps.length + w.batch.assertions.length + w.finishes.length;
}

/** The runs a write touches, in order of first appearance. */
function runIdsOf(w: Write): string[] {
  const ids = new Set<string>();
  for (const l of w.batch.logs) ids.add(l.runId);
  for (const s of w.batch.steps) ids.add(s.runId);
  for (const a of w.batch.assertions) ids.add(a.runId);
  for (const f of w.finishes) ids.add(f.finish.id);
  return [...ids];
}

/** `runId` for a write of one run; `runIds` (the first 20) and `runs` for more. */
function runFields(w: Write): Record<string, unknown> {
  const ids = runIdsOf(w);
  return ids.length === 1 ? { runId: ids[0] } : { runs: ids.length, runIds: ids.slice(0, 20) };
}

function recordKind(w: Write): string {
  if (w.finishes.length) return 'end';
  if (w.batch.logs[0]) return `log line ${w.batch.logs[0].seq}`;
  if (w.batch.steps[0]) return `step ${w.batch.steps[0].seq}`;
  return `assertion ${w.batch.assertions[0]?.seq}`;
}

/**
 * Halves of a refused write (rule 2): by runs when it holds several; for one run,
 * its events before its end, and its events in halves — in order, so log lines keep
 * their sequence and a run's end is stored after its events.
 */
function split(w: Write): Write[] {
  const ids = runIdsOf(w);
  if (ids.length > 1) {
    const half = new Set(ids.slice(0, Math.ceil(ids.length / 2)));
    return [pick(w, (id) => half.has(id)), pick(w, (id) => !half.has(id))];
  }
  if (w.finishes.length > 0 && countRecords(w) > w.finishes.length) {
    return [{ batch: w.batch, finishes: [] }, { batch: emptyBatch(), finishes: w.finishes }];
  }
  const items: ({ logs: LogLine } | { steps: StepRecord } | { assertions: AssertionRecord })[] = [
    ...w.batch.logs.map((logs) => ({ logs })),
    ...w.batch.steps.map((steps) => ({ steps })),
    ...w.batch.assertions.map((assertions) => ({ assertions })),
  ];
  const middle = Math.ceil(items.length / 2);
  return [items.slice(0, middle), items.slice(middle)].map((part) => {
    const batch = emptyBatch();
    for (const item of part) {
      if ('logs' in item) batch.logs.push(item.logs);
      else if ('steps' in item) batch.steps.push(item.steps);
      else batch.assertions.push(item.assertions);
    }
    return { batch, finishes: [] };
  });
}

function pick(w: Write, keep: (runId: string) => boolean): Write {
  return {
    batch: {
      logs: w.batch.logs.filter((l) => keep(l.runId)),
      steps: w.batch.steps.filter((s) => keep(s.runId)),
      assertions: w.batch.assertions.filter((a) => keep(a.runId)),
    },
    finishes: w.finishes.filter((f) => keep(f.finish.id)),
  };
}

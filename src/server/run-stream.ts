/**
 * A run's live stream as Server-Sent Events: the stored log lines after a cursor,
 * then new ones as they are persisted, step changes and phase changes, then a
 * final `end` event once the run is terminal. Each look at the store reads one moment
 * of the run and sends its new log lines, then its changed steps, then `sync` (when it
 * sent any): a step that ended in a look comes with every line logged before its end.
 *
 * The store is the truth. An engine notification only means "look now"; the
 * stream also looks every `followPollMs` because another instance may be
 * executing the run and this engine would never hear about it.
 */
import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { isTerminal, type RunPhase } from '../core/run-phase.js';
import type { Run } from '../core/run.js';
import { maskSecrets } from '../core/run-view.js';
import type { ServerDeps } from './deps.js';
import type { RunChanges } from '../store/store.js';

/** Lines read from the store per query while catching up. */
const LOG_BATCH = 1000;

export function streamRun(c: Context, deps: ServerDeps, run: Run, afterSeq: number): Response {
  return streamSSE(c, async (stream) => {
    const follower = new RunFollower(deps, stream, run.id, afterSeq);
    c.req.raw.signal?.addEventListener('abort', () => stream.abort(), { once: true });
    await follower.follow();
  });
}

class RunFollower {
  private lastSeq: number;
  private lastPhase: RunPhase | null = null;
  /** The step revision already sent: only steps changed after it are read. */
  private stepRev = 0;
  private dirty = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly deps: ServerDeps,
    private readonly stream: SSEStreamingApi,
    private readonly runId: string,
    afterSeq: number,
  ) {
    this.lastSeq = afterSeq;
  }

  async follow(): Promise<void> {
    const { engine, heartbeatMs } = this.deps;
    const unsubscribe = engine.subscribe(this.runId, () => this.poke());
    const heartbeat = setInterval(() => void this.stream.write(': heartbeat\n\n'), heartbeatMs);
    this.stream.onAbort(() => this.poke());
    try {
      while (!this.stream.aborted) {
        this.dirty = false;
        const ended = await this.sendChanges();
        if (ended || this.stream.aborted) return;
        await this.waitForChange();
      }
    } finally {
      clearInterval(heartbeat);
      unsubscribe();
      this.wake?.();
    }
  }

  /** Sends what changed since the last look; true once the `end` event went out. */
  private async sendChanges(): Promise<boolean> {
    const { store } = this.deps;
    let sent = 0;
    let changes: RunChanges | null;
    // Each read is one moment of the run: its lines, the steps changed, its phase. While
    // catching up the lines come a batch at a time; the steps come with the last batch.
    do {
      changes = await store.getRunChanges(this.runId, { seq: this.lastSeq, rev: this.stepRev }, LOG_BATCH);
      if (!changes) {
        await this.stream.writeSSE({ event: 'end', data: JSON.stringify({ phase: null, message: 'the run was deleted' }) });
        return true;
      }
      for (const line of changes.logs) {
        if (this.stream.aborted) return true;
        await this.stream.writeSSE({ event: 'log', id: String(line.seq), data: JSON.stringify(line) });
        this.lastSeq = line.seq;
        sent++;
      }
    } while (changes.logs.length >= LOG_BATCH);
    for (const step of changes.steps) {
      if (this.stream.aborted) return true;
      await this.stream.writeSSE({ event: 'step', data: JSON.stringify(step) });
      sent++;
    }
    this.stepRev = changes.rev;
    const { run } = changes;
    // The look's events are all out: a client may now order them (a step's tree after its log lines).
    if (sent > 0) await this.stream.writeSSE({ event: 'sync', data: JSON.stringify({ seq: this.lastSeq }) });
    if (run.phase !== this.lastPhase) {
      this.lastPhase = run.phase;
      await this.stream.writeSSE({ event: 'phase', data: JSON.stringify(maskSecrets(run)) });
    }
    // Terminal in this moment: every event the run will ever have was in it.
    if (isTerminal(run.phase)) {
      await this.stream.writeSSE({ event: 'end', id: String(this.lastSeq), data: JSON.stringify(maskSecrets(run)) });
      return true;
    }
    return false;
  }

  private poke(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Resolves on a notification, a client disconnect, or after `followPollMs`. */
  private waitForChange(): Promise<void> {
    if (this.dirty) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.deps.followPollMs);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }
}

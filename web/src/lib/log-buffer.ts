/**
 * A run's log as the dashboard holds it: lines in `seq` order, each once. Lines
 * arrive from pages of `GET …/logs` and then from the SSE stream, possibly
 * overlapping (a reconnect resumes from the last seq it saw, a page and the stream
 * may both carry a line); `seq` is 1-based and gap-free per run, so anything at or
 * below the last seq held is a duplicate.
 *
 * SSE delivers one event per line, up to thousands a second. Lines are collected
 * in `pending` and moved into `lines` by `flush()`, which the page calls at most
 * once per animation frame: one render per frame, not one per line.
 */
import type { LogLine } from '../api/types';

export class LogBuffer {
  /** Every line held, in seq order. The array grows in place; `version` says when. */
  readonly lines: LogLine[] = [];
  /** Increases on every change of `lines`. */
  version = 0;
  private pending: LogLine[] = [];

  /** The highest seq held or pending: where a reconnect resumes (`after=`). */
  get lastSeq(): number {
    const last = this.pending.length ? this.pending[this.pending.length - 1] : this.lines[this.lines.length - 1];
    return last ? last.seq : 0;
  }

  /** Queues lines for the next flush; duplicates and out-of-order lines are dropped. Returns how many were kept. */
  push(lines: Iterable<LogLine>): number {
    let kept = 0;
    let last = this.lastSeq;
    for (const line of lines) {
      if (line.seq <= last) continue;
      this.pending.push(line);
      last = line.seq;
      kept++;
    }
    return kept;
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Moves pending lines into `lines`. Returns true when something changed. */
  flush(): boolean {
    if (!this.pending.length) return false;
    for (const line of this.pending) this.lines.push(line);
    this.pending = [];
    this.version++;
    return true;
  }

  /** Drops everything (another run). */
  clear(): void {
    this.lines.length = 0;
    this.pending = [];
    this.version++;
  }
}

/**
 * Calls `flush` once per `schedule` tick (an animation frame in the browser) after
 * `request()`, however many times `request()` is called meanwhile.
 */
export function createFrameScheduler(flush: () => void, schedule: (cb: () => void) => unknown = (cb) => requestAnimationFrame(cb)) {
  let scheduled = false;
  let cancelled = false;
  return {
    request(): void {
      if (scheduled || cancelled) return;
      scheduled = true;
      schedule(() => {
        scheduled = false;
        if (!cancelled) flush();
      });
    },
    cancel(): void {
      cancelled = true;
    },
  };
}

/** A log line as one line of a downloaded `.log` file. */
export function formatLogLine(line: LogLine): string {
  return `${line.ts} ${line.level.toUpperCase().padEnd(5)} ${line.message}`;
}

/** The whole log as text, for download. */
export function logText(lines: readonly LogLine[]): string {
  let out = '';
  for (const line of lines) out += `${formatLogLine(line)}\n`;
  return out;
}

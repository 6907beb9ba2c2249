/**
 * The one numbering of a run's events. Log lines and assertions get their number
 * where the script runs — in the local executor, or in a remote runner (`topas
 * runner`) — not where they are stored, so a batch that is retried or replayed
 * after a restart carries the same numbers and is stored once (writes are keyed by
 * run id + seq). Steps number themselves (`step.start.seq`).
 *
 * Lines that topas itself adds go through the same numberer or take a number that
 * follows from the runner's: the "waiting for App" note is numbered here before the
 * script's first line; the truncation marker of an over-long log is line
 * `MAX_LOG_LINES_PER_RUN + 1`; a stand-in for a refused record keeps the record's number.
 * So no two different lines of a run ever share a number.
 */
import type { NumberedRunEvent, RunEvent } from './run-events.js';

export class EventNumberer {
  private logSeq: number;
  private assertionSeq: number;

  /** Starts after the given numbers (0: a new run). */
  constructor(start: { logSeq?: number; assertionSeq?: number } = {}) {
    this.logSeq = start.logSeq ?? 0;
    this.assertionSeq = start.assertionSeq ?? 0;
  }

  /**
   * Numbers the event in place (it is the caller's own copy: events arrive freshly
   * decoded) and returns it; events that carry a number keep it.
   */
  number(event: RunEvent): NumberedRunEvent {
    if (event.type === 'log') event.seq ??= ++this.logSeq;
    else if (event.type === 'assertion') event.seq ??= ++this.assertionSeq;
    return event as NumberedRunEvent;
  }

  /** The newest log line number given. */
  get lastLogSeq(): number {
    return this.logSeq;
  }
}

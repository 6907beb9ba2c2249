/**
 * The remote runner's outbox: numbered events are kept until the server acknowledged
 * them (stored), sent in order, in batches, one batch in flight at a time. An event waits
 * at most `flushMs` before a batch goes; a full batch goes at once.
 */
import type { NumberedRunEvent } from '../core/run-events.js';

export interface EventSenderOptions {
  /** Sends one batch; resolves once the server stored it, rejects when it refused for good. */
  post: (events: NumberedRunEvent[]) => Promise<unknown>;
  /** Longest time an event waits before it is sent. */
  flushMs: number;
  /** Most events in one batch. */
  maxBatch: number;
}

export class EventSender {
  private readonly unacked: NumberedRunEvent[] = [];
  private sending: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Why sending stopped for good (the server refused a batch), or null. */
  failure: unknown = null;

  constructor(private readonly o: EventSenderOptions) {}

  /** Events not yet acknowledged. */
  get pending(): number {
    return this.unacked.length;
  }

  add(event: NumberedRunEvent): void {
    this.unacked.push(event);
    if (this.unacked.length >= this.o.maxBatch) void this.send();
    else this.timer ??= setTimeout(() => void this.send(), this.o.flushMs);
  }

  /**
   * Sends what is pending (joining a send in flight). `sending` is cleared by a promise
   * reaction, never synchronously: a drain that had nothing to do must not leave a
   * settled promise behind as "in flight" (every later send would return it and send
   * nothing, and a caller looping until all is sent would spin without end).
   */
  send(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.sending) {
      const drain = this.drain();
      this.sending = drain;
      void drain.finally(() => {
        if (this.sending === drain) this.sending = null;
      });
    }
    return this.sending;
  }

  /**
   * The run is over: waits for a batch in flight and returns what is still pending when
   * it fits in one batch (to go with the completion; `acknowledge` it once stored), else
   * sends it all and returns nothing. Nothing more is added after this.
   */
  async lastBatch(): Promise<NumberedRunEvent[]> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.sending) await this.sending;
    if (this.failure) return [];
    if (this.unacked.length > this.o.maxBatch) {
      await this.sendAll();
      return [];
    }
    return this.unacked.slice();
  }

  /** The server stored the first `n` pending events (sent with the completion). */
  acknowledge(n: number): void {
    this.unacked.splice(0, n);
  }

  /** Sends until nothing is pending or the server refused for good. */
  async sendAll(): Promise<void> {
    while (this.unacked.length > 0 && !this.failure) await this.send();
  }

  private async drain(): Promise<void> {
    try {
      while (this.unacked.length > 0 && !this.failure) {
        const batch = this.unacked.slice(0, this.o.maxBatch);
        await this.o.post(batch);
        this.unacked.splice(0, batch.length);
      }
    } catch (error) {
      this.failure = error;
    }
  }
}

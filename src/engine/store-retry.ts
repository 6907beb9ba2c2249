/**
 * The one place that decides what happens when the store refuses a write of run
 * events and run ends (in the manner of controller-runtime's `reconcileHandler`: one
 * switch, every retry and give-up decision in it). The event writer carries the
 * decision out; nothing else retries or gives up on a run's end.
 *
 * The rules, in order:
 * 1. The store does not take writes at all (its probe fails too): wait and try the
 *    same write again, as long as it takes. Nothing is judged while the store is down,
 *    so an outage of any length ends with every run's real outcome stored.
 * 2. The store takes writes but refused this one, and it holds several records (runs,
 *    log lines, steps, assertions, ends): split it in halves and store each, so one
 *    bad record cannot keep the others out (bisection: about log2(n) extra
 *    statements per bad record).
 * 3. One record, refused fewer than `attempts` times: try it again after a backoff
 *    (a transient refusal: a serialization failure, a deadlock, a restart).
 * 4. One record refused `attempts` times: it is unstorable. Store a stand-in instead:
 *    for a log line, step or assertion, a record with the same seq that says it could
 *    not be stored; for a run's end, `Error` with reason `StoreWriteFailed` and a
 *    message naming the real outcome.
 * 5. Even the stand-in is refused: for an event, drop it (logged); for a run's end,
 *    keep trying it on the side, without holding up other writes, until the store
 *    takes it — the run is never left Running while this process lives.
 */

/** Timings of store retries. Tests shorten them; the defaults suit a real store. */
export interface StoreRetryPolicy {
  /** Wait before the first retry; it doubles with each failure up to `maxDelayMs`. Default 50 ms. */
  baseDelayMs?: number;
  /** Longest wait between retries. Default 2000 ms. */
  maxDelayMs?: number;
  /** Refusals of one record, while the store takes other writes, before it counts as unstorable. Default 3. */
  attempts?: number;
}

export const DEFAULT_STORE_RETRY: Required<StoreRetryPolicy> = { baseDelayMs: 50, maxDelayMs: 2000, attempts: 3 };

/** What is known after a write failed. */
export interface WriteFailure {
  /** Failures of this write so far, including this one (1 = first). */
  attempt: number;
  /** Failures of this write while the store took other writes (its probe succeeded). */
  refusals: number;
  /** The probe succeeded just now: the store takes writes, only not this one. */
  storeAnswers: boolean;
  /** Runs and records (log lines, steps, assertions, ends) the write holds. */
  runs: number;
  records: number;
  /** The write already is a stand-in for a refused record. */
  standIn: boolean;
  /** The single record is a run's end (not an event). */
  isEnd: boolean;
}

export type WriteDecision =
  /** Try the same write again after `delayMs`. */
  | { action: 'retry'; delayMs: number; why: 'store-down' | 'transient' }
  /** Store the halves separately. */
  | { action: 'split' }
  /** Store a stand-in for the one refused record. */
  | { action: 'stand-in' }
  /** An event whose stand-in was refused too: give it up. */
  | { action: 'drop' }
  /** A run's end whose stand-in was refused too: keep trying it aside, every `delayMs`. */
  | { action: 'park'; delayMs: number };

/** Rules 1–5 above. Pure: the writer acts on the answer. */
export function decideAfterFailure(f: WriteFailure, policy: StoreRetryPolicy = {}): WriteDecision {
  const p = { ...DEFAULT_STORE_RETRY, ...policy };
  const delayMs = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.min(30, Math.max(0, f.attempt - 1)));
  switch (true) {
    case !f.storeAnswers:
      return { action: 'retry', delayMs, why: 'store-down' };
    case f.runs > 1 || f.records > 1:
      return { action: 'split' };
    case f.refusals < p.attempts:
      return { action: 'retry', delayMs, why: 'transient' };
    case !f.standIn:
      return { action: 'stand-in' };
    case f.isEnd:
      return { action: 'park', delayMs: p.maxDelayMs };
    default:
      return { action: 'drop' };
  }
}

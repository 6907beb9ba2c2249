/**
 * Identical API reads share one store call, and at most a few reads use the store at
 * once (admission: the rest wait, none is refused; the read answering the most callers
 * goes first, a read's claim growing while it waits, and a read waits while the same
 * read is under way).
 *
 * A read joins only a call that has not started yet, so it never gets an answer older
 * than its own arrival: whatever the caller saw acknowledged before it asked is in
 * the answer. Reads are keyed by the caller's role and the URL (path and query), so
 * an answer is shared only between callers who may read the same thing.
 */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { callerOf } from './security/context.js';

/** A read's answer, serialised once for every caller that shares it. */
export interface SharedAnswer {
  /** The JSON body. */
  body: string;
  /** A weak validator of the body: the same body, the same tag. */
  etag: string;
}

/**
 * Shared API reads (and token lookups) that may use the store at once, unless told
 * otherwise (the API's reads follow `TOPAS_READ_CONCURRENCY`, whose default is this
 * embedded and one per two CPU cores on PostgreSQL: `defaultReadConcurrency` in config.ts); the rest wait
 * their turn, none is refused. PostgreSQL serves them on the read lane's own pool
 * (`READ_POOL_SIZE` connections); PGlite on its own thread, after the engine's
 * statements (`priority-lanes.ts`). Measured on PGlite (`BENCH_ONLY=read-load`,
 * 2026-11-30): 2 at once left reads waiting while the database thread had time for
 * them (open-loop p99 4.2 s); 8 gave p99 0.5 s with runs at 0.77 of idle; 16 gave
 * p99 0.39 s but runs at 0.69 of idle. Once a run's page was one statement
 * (2026-12-01, two runs each), 8 left the runs 0.59–0.62 of idle under 50 closed-loop
 * readers (1,500 answers/s) and 4 left them 0.66–0.68, open-loop p99 61–65 ms.
 */
export const READ_CONCURRENCY = 4;

/**
 * A waiting read counts as one caller more for every this many ms it has waited, so
 * reads of single runs are not starved by the shared pages (the run list, the stats)
 * that always have callers waiting. Measured on PGlite (2026-12-01, 500 reads/s open
 * loop, a third each of the run list, single runs and the stats): with callers alone
 * single-run reads waited p50 177–275 ms, p99 403–597 ms, the shared ones p99 ~100 ms.
 */
export const AGING_MS = 20;
/**
 * Waiting adds at most this many callers to a read's claim: a shared read with more
 * callers than that goes first however long single reads have waited (under 200 busy
 * readers a new connection's `/api/stats` stays quick; single reads still get the
 * slots the shared reads leave, one each at most).
 */
export const MAX_AGE_BONUS = 10;

interface Pending {
  key: string;
  /** Callers waiting for this read (1 + those who joined it). */
  callers: number;
  /** When it was queued (`now()`). */
  queuedAt: number;
  load: () => Promise<unknown>;
  promise: Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class ReadCoalescer {
  private readonly queue: Pending[] = [];
  /** Queued (not started) reads by key: a new identical read joins one of these. */
  private readonly waiting = new Map<string, Pending>();
  private running = 0;
  /** Keys of the reads running now (one each at most). */
  private readonly runningKeys = new Set<string>();

  constructor(
    private readonly concurrency = READ_CONCURRENCY,
    private readonly agingMs = AGING_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * What `load` resolves to, shared with identical reads (same key) that arrive before
   * it starts. Callers must not change the value they get: others hold it too.
   */
  share<T>(key: string, load: () => Promise<T>): Promise<T> {
    const queued = this.waiting.get(key);
    if (queued) {
      queued.callers++;
      return queued.promise as Promise<T>;
    }
    let resolve!: (value: unknown) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const pending: Pending = { key, callers: 1, queuedAt: this.now(), load, promise, resolve, reject };
    this.queue.push(pending);
    this.waiting.set(key, pending);
    this.pump();
    return promise as Promise<T>;
  }

  /** The answer of `load` as JSON with its ETag, shared like `share`. */
  read(key: string, load: () => Promise<unknown>): Promise<SharedAnswer> {
    return this.share(key, async () => {
      const body = JSON.stringify(await load());
      return { body, etag: weakEtag(body) };
    });
  }

  /** Reads queued and not started yet. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * The next read to start, or -1: of the queued reads whose twin (same key) is not
   * running, the one with the strongest claim (the first of those on a tie): its
   * callers, plus one for every `agingMs` it has waited (at most MAX_AGE_BONUS). One
   * store call for many waiting clients goes before one for a single client, so the
   * pages everybody watches (the run list, the stats) stay quick while many different
   * runs are read, and a single run's read that has waited long enough goes before them. A read waits while its twin runs
   * (collecting the callers that come meanwhile), so each shared read takes one slot at
   * most and the others get the rest.
   */
  private next(): number {
    const now = this.now();
    let best = -1;
    let bestClaim = -Infinity;
    for (let i = 0; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      if (this.runningKeys.has(p.key)) continue;
      const claim = p.callers + Math.min(MAX_AGE_BONUS, (now - p.queuedAt) / this.agingMs);
      if (claim > bestClaim) {
        best = i;
        bestClaim = claim;
      }
    }
    return best;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const at = this.next();
      if (at < 0) return;
      const p = this.queue.splice(at, 1)[0]!;
      this.waiting.delete(p.key);
      this.runningKeys.add(p.key);
      this.running++;
      void (async () => {
        try {
          p.resolve(await p.load());
        } catch (error) {
          p.reject(error);
        } finally {
          this.running--;
          this.runningKeys.delete(p.key);
          this.pump();
        }
      })();
    }
  }
}

/** `W/"<hash of the body>"`. */
export function weakEtag(body: string): string {
  return `W/"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
}

/** Whether an `If-None-Match` header names this tag (weak comparison; `*` matches any). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === wanted);
}

/**
 * Answers a GET from a shared read: 200 with the JSON body and its `ETag`, or 304
 * when the caller's `If-None-Match` already names it.
 */
export async function sharedRead(c: Context, reads: ReadCoalescer, load: () => Promise<unknown>): Promise<Response> {
  const url = new URL(c.req.url);
  const caller = callerOf(c);
  const answer = await reads.read(`${caller.role}\n${caller.runId ?? ''}\n${url.pathname}${url.search}`, load);
  const headers = { ETag: answer.etag, 'Cache-Control': 'no-cache' };
  if (matchesIfNoneMatch(c.req.header('if-none-match'), answer.etag)) return c.body(null, 304, headers);
  return c.body(answer.body, 200, { ...headers, 'Content-Type': 'application/json' });
}

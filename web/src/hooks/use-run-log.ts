/**
 * A run's log, live. The lines already stored are read as JSON pages: a small
 * first page, so the first lines show at once, then pages of 10,000, three in
 * flight (line seqs are gap-free, so every page's cursor is known in advance).
 * A run that is not finished is then followed over Server-Sent Events from the
 * last line read, which also carries step and phase changes. A dropped stream
 * reconnects from the last line held, with backoff; the buffer drops any line it
 * already has.
 */
import { useEffect, useRef, useState } from 'react';
import { api } from '../api/endpoints';
import type { Run, StepRecord } from '../api/types';
import { LogBuffer, createFrameScheduler } from '../lib/log-buffer';

const FIRST_PAGE = 1000;
const PAGE = 10_000;
const PAGES_IN_FLIGHT = 3;

export type LogStatus = 'loading' | 'streaming' | 'reconnecting' | 'complete' | 'error';

export interface RunLogHandlers {
  onStep?: (step: StepRecord) => void;
  onPhase?: (run: Run) => void;
  onEnd?: (run: Run | null) => void;
}

export interface RunLog {
  buffer: LogBuffer;
  /** Changes whenever `buffer.lines` changes. */
  version: number;
  status: LogStatus;
  error: unknown;
}

/** `live`: follow after the stored lines (the run is not finished); undefined until the run is known. */
export function useRunLog(runId: string, live: boolean | undefined, handlers: RunLogHandlers): RunLog {
  const [buffer, setBuffer] = useState(() => new LogBuffer());
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState<LogStatus>('loading');
  const [error, setError] = useState<unknown>(null);
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;
  const liveRef = useRef(live);
  liveRef.current = live;
  // The stored lines are read while the run itself is still loading; whether to follow waits for it.
  const waiters = useRef<(() => void)[]>([]);
  useEffect(() => {
    if (live !== undefined) for (const wake of waiters.current.splice(0)) wake();
  }, [live]);

  useEffect(() => {
    const whenRunKnown = () => (liveRef.current !== undefined ? Promise.resolve() : new Promise<void>((resolve) => waiters.current.push(resolve)));
    const log = new LogBuffer();
    setBuffer(log);
    setVersion(log.version);
    setStatus('loading');
    setError(null);
    const abort = new AbortController();
    const frames = createFrameScheduler(() => {
      if (log.flush()) setVersion(log.version);
    });
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;

    const connect = () => {
      if (abort.signal.aborted) return;
      const es = new EventSource(`/api/runs/${encodeURIComponent(runId)}/logs?follow=true&after=${log.lastSeq}`);
      source = es;
      es.addEventListener('open', () => {
        attempt = 0;
        setStatus('streaming');
      });
      es.addEventListener('log', (e) => {
        log.push([JSON.parse((e as MessageEvent<string>).data)]);
        frames.request();
      });
      es.addEventListener('step', (e) => handlersRef.current.onStep?.(JSON.parse((e as MessageEvent<string>).data)));
      es.addEventListener('phase', (e) => handlersRef.current.onPhase?.(JSON.parse((e as MessageEvent<string>).data)));
      es.addEventListener('end', (e) => {
        es.close();
        if (log.flush()) setVersion(log.version);
        setStatus('complete');
        const run = JSON.parse((e as MessageEvent<string>).data) as Run | { phase: null };
        handlersRef.current.onEnd?.(run.phase ? (run as Run) : null);
      });
      es.addEventListener('error', () => {
        // EventSource would retry on its own from `after=` (not from the last line); reconnect ourselves instead.
        es.close();
        if (abort.signal.aborted) return;
        setStatus('reconnecting');
        retry = setTimeout(connect, Math.min(10_000, 500 * 2 ** attempt++));
      });
    };

    (async () => {
      try {
        const first = await api.getLogs(runId, 0, FIRST_PAGE, abort.signal);
        log.push(first.items);
        if (log.flush()) setVersion(log.version);
        if (first.items.length === FIRST_PAGE) {
          // Pages in order, a few requested ahead; applied strictly in order.
          let next = log.lastSeq;
          const inFlight: ReturnType<typeof api.getLogs>[] = [];
          const request = () => {
            const page = api.getLogs(runId, next, PAGE, abort.signal);
            page.catch(() => {}); // pages requested ahead and never read must not reject unhandled
            inFlight.push(page);
            next += PAGE;
          };
          for (let i = 0; i < PAGES_IN_FLIGHT; i++) request();
          for (;;) {
            const page = await inFlight.shift()!;
            log.push(page.items);
            if (log.flush()) setVersion(log.version);
            if (page.items.length < PAGE) break;
            request();
          }
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        setError(err);
        setStatus('error');
        return;
      }
      await whenRunKnown();
      if (abort.signal.aborted) return;
      if (liveRef.current) connect();
      else setStatus('complete');
    })();

    return () => {
      abort.abort();
      source?.close();
      clearTimeout(retry);
      frames.cancel();
    };
  }, [runId]);

  return { buffer, version, status, error };
}

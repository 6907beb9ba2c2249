/**
 * A live, keyset-paginated list of runs. The first page is re-read every
 * `intervalMs` (there is no global run event stream) and merged by id, so new
 * runs appear at the top and phases change in place; runs further down that are
 * still Queued or Running are re-read by id. Older pages are read on demand with
 * the API's cursor and are never re-read: finished runs do not change.
 */
import { useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/endpoints';
import { isNotFound } from '../api/http';
import type { RunListItem, RunDetail } from '../api/types';
import { mergeRuns, staleActiveIds } from '../lib/merge-runs';
import { filtersToApiQuery, filtersToSearch, matchesFilters, type RunFilters } from '../lib/run-filter';

export interface LiveRunsOptions {
  /** Runs per page. Default 50. */
  pageSize?: number;
  /** How often the first page is re-read, in ms. Default 2000. */
  intervalMs?: number;
  /** Active runs below the first page re-read per poll, at most. Default 20. */
  maxActiveRefresh?: number;
}

interface ListState {
  key: string;
  runs: RunListItem[];
  /** Cursor of the next older page: undefined before the first page, null after the last. */
  cursor: string | null | undefined;
}

const withoutDetails = ({ steps: _s, assertions: _a, ...run }: RunDetail): RunListItem => run;

export function useLiveRuns(filters: RunFilters, options: LiveRunsOptions = {}) {
  const pageSize = options.pageSize ?? 50;
  const intervalMs = options.intervalMs ?? 2000;
  const maxActive = options.maxActiveRefresh ?? 20;
  const key = filtersToSearch(filters).toString();
  const [state, setState] = useState<ListState>({ key, runs: [], cursor: undefined });
  const current: ListState = state.key === key ? state : { key, runs: [], cursor: undefined };
  const stateRef = useRef(current);
  stateRef.current = current;
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  const head = useQuery({
    queryKey: ['runs', 'live', key, pageSize],
    queryFn: async ({ signal }) => {
      const now = new Date();
      const query = filtersToApiQuery(filtersRef.current, now);
      query.set('limit', String(pageSize));
      const page = await api.listRuns(query, signal);
      const fresh = new Set(page.items.map((r) => r.id));
      const stale = staleActiveIds(stateRef.current.runs, fresh, maxActive);
      const reread = await Promise.all(stale.map((id) => api.getRun(id, signal).then(withoutDetails, (e) => (isNotFound(e) ? null : Promise.reject(e)))));
      const refreshed = reread.filter((r): r is RunListItem => r !== null);
      const gone = stale.filter((_, i) => reread[i] === null);
      return { page, refreshed, gone, now };
    },
    refetchInterval: intervalMs,
  });

  useEffect(() => {
    const data = head.data;
    if (!data) return;
    setState((prev) => {
      const base: ListState = prev.key === key ? prev : { key, runs: [], cursor: undefined };
      const f = filtersRef.current;
      const leaving = data.refreshed.filter((r) => !matchesFilters(r, f, data.now)).map((r) => r.id);
      const runs = mergeRuns(base.runs, [...data.page.items, ...data.refreshed], { remove: [...data.gone, ...leaving] });
      const cursor = base.cursor === undefined ? data.page.nextCursor : base.cursor;
      if (base === prev && runs === prev.runs && cursor === prev.cursor) return prev;
      return { key, runs, cursor };
    });
  }, [head.data, key]);

  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const loading = useRef(false);
  const loadMore = useCallback(async () => {
    const s = stateRef.current;
    if (!s.cursor || loading.current) return;
    loading.current = true;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const query = filtersToApiQuery(filtersRef.current, new Date());
      query.set('limit', String(pageSize));
      query.set('cursor', s.cursor);
      const page = await api.listRuns(query);
      setState((prev) => (prev.key !== s.key ? prev : { key: prev.key, runs: mergeRuns(prev.runs, page.items), cursor: page.nextCursor }));
    } catch (error) {
      setMoreError(error);
    } finally {
      loading.current = false;
      setLoadingMore(false);
    }
  }, [pageSize]);

  const loaded = current.cursor !== undefined || current.runs.length > 0;
  return {
    runs: current.runs,
    /** True until the first page of these filters arrived. */
    isLoading: !loaded && !head.error,
    /** The first page failed; with runs already shown, live updates are paused. */
    error: head.error,
    hasMore: !!current.cursor,
    loadMore,
    loadingMore,
    moreError,
    updatedAt: head.dataUpdatedAt,
    refetch: head.refetch,
  };
}

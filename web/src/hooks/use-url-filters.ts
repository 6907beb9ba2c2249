import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';
import { filtersFromSearch, filtersToSearch, type RunFilters } from '../lib/run-filter';

/** The Runs filters held in the page URL: read from it, written back to it. */
export function useUrlFilters(): [RunFilters, (next: RunFilters, replace?: boolean) => void] {
  const [params, setParams] = useSearchParams();
  // Parsed again only when the query string changes, so the filters object is stable between renders.
  const key = params.toString();
  const filters = useMemo(() => filtersFromSearch(new URLSearchParams(key)), [key]);
  const setFilters = useCallback((next: RunFilters, replace = false) => setParams(filtersToSearch(next), { replace }), [setParams]);
  return [filters, setFilters];
}

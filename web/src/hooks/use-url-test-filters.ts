import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';
import { testFiltersFromSearch, testFiltersToSearch, type TestFilters } from '../lib/test-filter';

/** The Tests filters held in the page URL: read from it, written back to it. */
export function useUrlTestFilters(): [TestFilters, (next: TestFilters, replace?: boolean) => void] {
  const [params, setParams] = useSearchParams();
  const key = params.toString();
  const filters = useMemo(() => testFiltersFromSearch(new URLSearchParams(key)), [key]);
  const setFilters = useCallback((next: TestFilters, replace = false) => setParams(testFiltersToSearch(next), { replace }), [setParams]);
  return [filters, setFilters];
}

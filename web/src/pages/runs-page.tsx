/** Runs: newest first, live, filtered by what the URL says. */
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { api } from '../api/endpoints';
import { GuardedLink } from '../components/guarded';
import { RunFiltersBar } from '../components/run-filters';
import { RunsTable } from '../components/runs-table';
import { Empty, ErrorState, Loading, describeError } from '../components/states';
import { useDocumentTitle } from '../hooks/use-document-title';
import { useLiveRuns } from '../hooks/use-live-runs';
import { useNow } from '../hooks/use-now';
import { useCategoryNames } from '../hooks/use-category-names';
import { useUrlFilters } from '../hooks/use-url-filters';
import { formatRelative } from '../lib/format';
import { countFilters } from '../lib/run-filter';

export function RunsPage() {
  useDocumentTitle('Runs');
  const [filters, setFilters] = useUrlFilters();
  const list = useLiveRuns(filters);
  const now = useNow(1000);
  const definition = useQuery({
    queryKey: ['definition', filters.definition],
    queryFn: ({ signal }) => api.getDefinition(filters.definition, signal),
    enabled: !!filters.definition,
    retry: false,
  });
  const filtered = countFilters(filters) > 0;
  const categories = useCategoryNames();

  return (
    <>
      <div className="page-header">
        <h1>Runs</h1>
        <span className="subtitle" aria-live="off">
          {list.error && list.runs.length ? (
            <span style={{ color: 'var(--danger)' }}>
              <span className="live-dot paused" aria-hidden="true" />
              Live updates paused: {describeError(list.error)}
            </span>
          ) : list.updatedAt ? (
            <span title="The list re-reads the newest runs every 2 s">
              <span className="live-dot" aria-hidden="true" />
              Live · updated {formatRelative(new Date(list.updatedAt).toISOString(), now)}
            </span>
          ) : null}
        </span>
        <div className="actions">
          <GuardedLink needs="runner" className="button primary" to="/schedule">
            Schedule a run
          </GuardedLink>
        </div>
      </div>
      <RunFiltersBar filters={filters} onChange={setFilters} definitionName={definition.data?.name} categories={categories} />
      {list.isLoading ? (
        <Loading label="Loading runs…" />
      ) : list.error && !list.runs.length ? (
        <ErrorState error={list.error} title="Could not load runs" retry={() => void list.refetch()} />
      ) : list.runs.length === 0 ? (
        filtered ? (
          <Empty title="No runs match these filters">
            <p>Change or clear the filters above.</p>
          </Empty>
        ) : (
          <Empty title="No runs yet">
            <p>
              <Link to="/schedule">Schedule a run</Link>, or from a terminal: <code>npx topas test schedule --script examples/tests/hello.lua</code>
            </p>
          </Empty>
        )
      ) : (
        <RunsTable
          runs={list.runs}
          hasMore={list.hasMore}
          loadMore={list.loadMore}
          loadingMore={list.loadingMore}
          moreError={list.moreError}
          caption={filtered ? 'Runs matching the filters, newest first' : 'Runs, newest first'}
        />
      )}
    </>
  );
}

/**
 * Tests: every test case across runs, the most recently run first, with its last
 * outcomes, pass rate, flakiness, durations, last failure and quarantine. The
 * filters live in the URL; "Load more" reads the next keyset page.
 */
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { api } from '../api/endpoints';
import type { TestSummary } from '../api/types';
import { CategoryBadge } from '../components/category-badge';
import { OutcomeStrip } from '../components/outcome-strip';
import { QuarantineBadge } from '../components/quarantine-badge';
import { RelativeTime } from '../components/relative-time';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { TestFiltersBar } from '../components/test-filters';
import { useCategoryNames } from '../hooks/use-category-names';
import { useDocumentTitle } from '../hooks/use-document-title';
import { useNow } from '../hooks/use-now';
import { useUrlTestFilters } from '../hooks/use-url-test-filters';
import { formatCount, formatDuration, formatPercent } from '../lib/format';
import { headline } from '../lib/domain';
import { countTestFilters, testFiltersToSearch } from '../lib/test-filter';

const PAGE_SIZE = 50;

export default function TestsPage() {
  useDocumentTitle('Tests');
  const [filters, setFilters] = useUrlTestFilters();
  const categories = useCategoryNames();
  const now = useNow(10_000);
  const query = testFiltersToSearch(filters);
  const definition = useQuery({
    queryKey: ['definition', filters.definition],
    queryFn: ({ signal }) => api.getDefinition(filters.definition, signal),
    enabled: !!filters.definition,
    retry: false,
  });
  const list = useInfiniteQuery({
    queryKey: ['tests', query.toString()],
    queryFn: ({ pageParam, signal }) => {
      const q = new URLSearchParams(query);
      q.set('limit', String(PAGE_SIZE));
      if (pageParam) q.set('cursor', pageParam);
      return api.listTests(q, signal);
    },
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = countTestFilters(filters) > 0;

  return (
    <>
      <div className="page-header">
        <h1>Tests</h1>
        <span className="subtitle">Every test case across runs: how often it passes, whether it is flaky, why it last failed.</span>
      </div>
      <TestFiltersBar filters={filters} onChange={setFilters} categories={categories} definitionName={definition.data?.name} />
      {list.isPending ? (
        <Loading label="Loading tests…" />
      ) : list.isError && items.length === 0 ? (
        <ErrorState error={list.error} title="Could not load tests" retry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        filtered ? (
          <Empty title="No tests match these filters">
            <p>Change or clear the filters above.</p>
          </Empty>
        ) : (
          <Empty title="No test results yet">
            <p>
              Test cases appear here when runs finish (each <code>test(…)</code> of a script, or each testcase of an imported report). <Link to="/schedule">Schedule a run</Link>.
            </p>
          </Empty>
        )
      ) : (
        <>
          <div className="card" style={{ padding: 0, overflowX: 'auto' }}>
            <table className="tests-table" data-testid="tests-table">
              <caption className="visually-hidden">{filtered ? 'Tests matching the filters, most recently run first' : 'Tests, most recently run first'}</caption>
              <thead>
                <tr>
                  <th scope="col">Test</th>
                  <th scope="col" title="The last 20 outcomes, newest on the left">
                    Last outcomes
                  </th>
                  <th scope="col" className="num">
                    Pass rate
                  </th>
                  <th scope="col">Flaky</th>
                  <th scope="col" className="num">
                    Median · p95
                  </th>
                  <th scope="col">Last failure</th>
                  <th scope="col">Last run</th>
                </tr>
              </thead>
              <tbody>
                {items.map((t) => (
                  <TestRow key={t.id} test={t} now={now} />
                ))}
              </tbody>
            </table>
          </div>
          <div className="runs-footer">
            <span>
              {formatCount(items.length)} test{items.length === 1 ? '' : 's'} loaded{list.hasNextPage ? ', more below' : ''}
            </span>
            {list.hasNextPage && (
              <button type="button" className="small" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
                {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </button>
            )}
          </div>
          {list.isFetchNextPageError && <InlineError error={list.error} />}
        </>
      )}
    </>
  );
}

function TestRow({ test: t, now }: { test: TestSummary; now: number }) {
  const failure = t.lastFailure;
  const message = failure?.message ? headline(failure.message) : null;
  return (
    <tr data-testid="test-row" data-flaky={t.flaky} data-quarantined={t.quarantine !== null}>
      <td style={{ maxWidth: 360 }}>
        <div>
          <Link to={`/tests/${t.id}`} className="test-key" title={t.key}>
            {t.name}
          </Link>{' '}
          {t.quarantine && <QuarantineBadge quarantine={t.quarantine} />}
        </div>
        <div className="test-class">{t.classname}</div>
      </td>
      <td>
        <OutcomeStrip outcomes={t.recent.slice(0, 20)} />
      </td>
      <td className="num">{formatPercent(t.passRate, 0)}</td>
      <td>
        {t.flaky ? (
          <span className="badge flaky" title={`Flakiness ${formatPercent(t.flakiness, 0)}: how often the outcome flipped between runs`} data-testid="flaky-badge">
            FLAKY {formatPercent(t.flakiness, 0)}
          </span>
        ) : (
          <span className="subtitle">—</span>
        )}
      </td>
      <td className="num">
        {formatDuration(t.medianMs)} · {formatDuration(t.p95Ms)}
      </td>
      <td style={{ maxWidth: 320 }}>
        {failure ? (
          <div className="failure-cell">
            {failure.category && <CategoryBadge category={failure.category} />}
            <Link to={`/runs/${failure.runId}`} className="failure-text" title={failure.message ?? 'failed'}>
              {message ?? 'failed'}
            </Link>
          </div>
        ) : (
          <span className="subtitle">never failed</span>
        )}
      </td>
      <td>
        <Link to={`/runs/${t.lastRunId}`}>
          <RelativeTime iso={t.lastRunAt} now={now} />
        </Link>
      </td>
    </tr>
  );
}

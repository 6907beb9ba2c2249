/**
 * One test case: how it is doing (pass rate, flakiness, durations), the evidence
 * that it is flaky (the runs where its outcome flipped, a revision that both
 * passed and failed), quarantine, its duration over time and its history across runs.
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Suspense, lazy, useId, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { isNotFound } from '../api/http';
import type { TestDetail, TestResultItem } from '../api/types';
import { CategoryBadge } from '../components/category-badge';
import { GuardedButton } from '../components/guarded';
import { OutcomeStrip } from '../components/outcome-strip';
import { PhaseBadge } from '../components/phase-badge';
import { QuarantineBadge } from '../components/quarantine-badge';
import { RelativeTime } from '../components/relative-time';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { useDocumentTitle } from '../hooks/use-document-title';
import { useNow } from '../hooks/use-now';
import { headline } from '../lib/domain';
import { formatCount, formatDuration, formatPercent, shortId } from '../lib/format';

const DurationChart = lazy(() => import('../components/duration-chart'));
import { durationChart } from '../lib/test-history';
import { shortIds } from '../../../src/core/short-ids';

const HISTORY_PAGE = 50;

export default function TestPage() {
  const { id = '' } = useParams();
  const now = useNow(10_000);
  const test = useQuery({ queryKey: ['test', id], queryFn: ({ signal }) => api.getTest(id, signal), retry: (n, e) => !isNotFound(e) && n < 2 });
  const history = useInfiniteQuery({
    queryKey: ['test', id, 'history'],
    queryFn: ({ pageParam, signal }) => api.testHistory(id, pageParam, HISTORY_PAGE, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
  });
  useDocumentTitle(test.data ? `${test.data.name} (test)` : 'Test');
  const results = useMemo(() => history.data?.pages.flatMap((p) => p.items) ?? [], [history.data]);

  if (test.isPending) return <Loading label="Loading the test…" />;
  if (test.isError)
    return isNotFound(test.error) ? (
      <Empty title="No such test">
        <p>No test has the id {id}. <Link to="/tests">All tests</Link></p>
      </Empty>
    ) : (
      <ErrorState error={test.error} title="Could not load the test" retry={() => void test.refetch()} />
    );
  const t = test.data;

  return (
    <>
      <div className="page-header">
        <h1 style={{ overflowWrap: 'anywhere' }}>{t.name}</h1>
        {t.flaky && (
          <span className="badge flaky" data-testid="flaky-badge" title="Its outcome flipped between runs">
            FLAKY
          </span>
        )}
        {t.quarantine && <QuarantineBadge quarantine={t.quarantine} />}
        <span className="subtitle" style={{ flexBasis: '100%' }}>
          <Link to="/tests">Tests</Link> › {t.classname} · <code>{t.key}</code>
        </span>
      </div>

      <section className="card" aria-label="Summary">
        <dl className="facts">
          <div>
            <dt>Last outcomes</dt>
            <dd>
              <OutcomeStrip outcomes={t.recent.slice(0, 20)} />
            </dd>
          </div>
          <div>
            <dt>Pass rate</dt>
            <dd data-testid="test-pass-rate">{formatPercent(t.passRate, 0)}</dd>
          </div>
          <div>
            <dt>Flakiness</dt>
            <dd>
              {formatPercent(t.flakiness, 0)} <span className="subtitle">of the last {t.window} outcomes flipped</span>
            </dd>
          </div>
          <div>
            <dt>Duration median · p95</dt>
            <dd>
              {formatDuration(t.medianMs)} · {formatDuration(t.p95Ms)}
            </dd>
          </div>
          <div>
            <dt>Results</dt>
            <dd>{formatCount(t.runs)}</dd>
          </div>
          <div>
            <dt>First seen</dt>
            <dd>
              <RelativeTime iso={t.firstSeenAt} now={now} />
            </dd>
          </div>
          <div>
            <dt>Last run</dt>
            <dd>
              <Link to={`/runs/${t.lastRunId}`}>
                <RelativeTime iso={t.lastRunAt} now={now} />
              </Link>
            </dd>
          </div>
          <div>
            <dt>Definition · App</dt>
            <dd>
              {t.definitionId ? <Link to={`/runs?definition=${t.definitionId}`}>its runs</Link> : '—'} · {t.appName ?? '—'}
            </dd>
          </div>
        </dl>
        {t.lastFailure && (
          <div className="run-message phase-Failed" data-testid="test-last-failure">
            <strong>Last failure</strong> <RelativeTime iso={t.lastFailure.at} now={now} /> in <Link to={`/runs/${t.lastFailure.runId}`}>run {shortId(t.lastFailure.runId)}</Link>{' '}
            {t.lastFailure.category && <CategoryBadge category={t.lastFailure.category} />}
            {t.lastFailure.message && <pre>{t.lastFailure.message}</pre>}
          </div>
        )}
      </section>

      <div className="grid grid-2">
        <FlakyEvidence test={t} />
        <Quarantine test={t} />
      </div>

      <section className="card" aria-labelledby="duration-heading">
        <h2 id="duration-heading">Duration</h2>
        <DurationChartSlot results={results} />
      </section>

      <section className="card" aria-labelledby="history-heading" style={{ padding: 0 }}>
        <h2 id="history-heading" style={{ padding: '12px 16px 0' }}>
          History
        </h2>
        {history.isPending ? (
          <Loading label="Loading the history…" />
        ) : history.isError && results.length === 0 ? (
          <ErrorState error={history.error} title="Could not load the history" retry={() => void history.refetch()} />
        ) : results.length === 0 ? (
          <Empty title="No results recorded" />
        ) : (
          <HistoryTable results={results} now={now} />
        )}
      </section>
      <div className="runs-footer">
        <span>
          {formatCount(results.length)} result{results.length === 1 ? '' : 's'} loaded{history.hasNextPage ? ', more below' : ''}
        </span>
        {history.hasNextPage && (
          <button type="button" className="small" onClick={() => void history.fetchNextPage()} disabled={history.isFetchingNextPage}>
            {history.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
      {history.isFetchNextPageError && <InlineError error={history.error} />}
    </>
  );
}

function FlakyEvidence({ test: t }: { test: TestDetail }) {
  const e = t.flakyEvidence;
  // Runs of the same minute share their first 8 characters: show each by its shortest distinct prefix.
  const ids = useMemo(() => shortIds(e.runIds), [e.runIds]);
  return (
    <section className="card" aria-labelledby="flaky-heading" data-testid="flaky-evidence">
      <h2 id="flaky-heading">Flaky?</h2>
      {/* The evidence names runs newest first, as the history below lists them. */}
      <p>
        {t.flaky ? <strong>Yes. </strong> : 'No. '}
        Its outcome flipped between passed and failed <strong>{formatCount(e.flips)}</strong> time{e.flips === 1 ? '' : 's'} in its last {t.window} outcomes (two flips
        make a test flaky, and so does passing and failing for the same revision).
      </p>
      {e.runIds.length > 0 && (
        <p>
          Flipped in{' '}
          {e.runIds.map((runId, i) => (
            <span key={runId}>
              {i > 0 && ', '}
              <Link to={`/runs/${runId}`} title={runId}>
                run {ids.get(runId)}
              </Link>
            </span>
          ))}
          .
        </p>
      )}
      {e.revision && (
        <p data-testid="flaky-revision">
          Passed and failed for the same revision <code>{e.revision.revision}</code>
          {e.revision.passedRunId && e.revision.failedRunId && (
            <>
              : <Link to={`/runs/${e.revision.passedRunId}`}>passed</Link>, <Link to={`/runs/${e.revision.failedRunId}`}>failed</Link>
            </>
          )}
          .
        </p>
      )}
    </section>
  );
}

function Quarantine({ test: t }: { test: TestDetail }) {
  const queryClient = useQueryClient();
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const reasonId = useId();
  const onDone = (fresh: TestDetail | Awaited<ReturnType<typeof api.quarantine>>) => {
    queryClient.setQueryData<TestDetail>(['test', t.id], (old) => (old ? { ...old, ...fresh } : old));
    void queryClient.invalidateQueries({ queryKey: ['test', t.id] });
    void queryClient.invalidateQueries({ queryKey: ['tests'] });
    setAsking(false);
    setReason('');
  };
  const quarantine = useMutation({ mutationFn: (why: string) => api.quarantine(t.id, why), onSuccess: onDone });
  const release = useMutation({ mutationFn: () => api.unquarantine(t.id), onSuccess: onDone });
  return (
    <section className="card" aria-labelledby="quarantine-heading" data-testid="quarantine-card">
      <h2 id="quarantine-heading">Quarantine</h2>
      {t.quarantine ? (
        <>
          <p>
            Quarantined <RelativeTime iso={t.quarantine.at} now={Date.now()} />
            {t.quarantine.by ? ` by ${t.quarantine.by}` : ''}: <em>{t.quarantine.reason}</em>
          </p>
          <p className="subtitle">It still runs and is recorded, but its failures do not fail runs.</p>
          <GuardedButton needs="editor" type="button" onClick={() => release.mutate()} disabled={release.isPending}>
            {release.isPending ? 'Releasing…' : 'Un-quarantine'}
          </GuardedButton>
          <InlineError error={release.error} />
        </>
      ) : asking ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            quarantine.mutate(reason.trim());
          }}
        >
          <div className="field">
            <label htmlFor={reasonId}>Why quarantine it?</label>
            <textarea id={reasonId} rows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="flaky upstream, tracked in #123" autoFocus />
          </div>
          <div style={{ display: 'flex', gap: 8 }}>
            <button type="submit" className="primary" disabled={!reason.trim() || quarantine.isPending}>
              {quarantine.isPending ? 'Quarantining…' : 'Quarantine'}
            </button>
            <button type="button" onClick={() => setAsking(false)}>
              Cancel
            </button>
          </div>
          <InlineError error={quarantine.error} />
        </form>
      ) : (
        <>
          <p className="subtitle">A quarantined test still runs and is recorded, but its failures do not fail the run (nor the CLI's exit code).</p>
          <GuardedButton needs="editor" type="button" onClick={() => setAsking(true)}>
            Quarantine…
          </GuardedButton>
        </>
      )}
    </section>
  );
}

/** The chart loads on its own (uPlot), and only when there is something to draw. */
function DurationChartSlot({ results }: { results: TestResultItem[] }) {
  const chart = useMemo(() => durationChart(results), [results]);
  if (chart.points === 0) return <p className="subtitle">No timed results yet.</p>;
  return (
    <Suspense fallback={<Loading label="Loading the chart…" />}>
      <DurationChart chart={chart} />
    </Suspense>
  );
}

function HistoryTable({ results, now }: { results: TestResultItem[]; now: number }) {
  return (
    <div style={{ overflowX: 'auto' }}>
      <table data-testid="test-history">
        <caption className="visually-hidden">The test's results, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Outcome</th>
            <th scope="col">Run</th>
            <th scope="col">When</th>
            <th scope="col" className="num">
              Duration
            </th>
            <th scope="col">Message</th>
            <th scope="col">Category</th>
          </tr>
        </thead>
        <tbody>
          {results.map((r) => (
            <tr key={`${r.runId}`} data-testid="history-row" data-outcome={r.outcome}>
              <td>
                <span className={`phase phase-${r.outcome === 'Skipped' ? 'Cancelled' : r.outcome}`}>
                  <span className="phase-dot" aria-hidden="true" />
                  {r.outcome}
                </span>
                {r.quarantined && (
                  <>
                    {' '}
                    <span className="badge quarantined" title="Quarantined: this failure did not fail the run">
                      QUARANTINED
                    </span>
                  </>
                )}
                {r.flaky && (
                  <>
                    {' '}
                    <span className="badge flaky" title="Passed on a rerun in its own report">
                      RERUN
                    </span>
                  </>
                )}
              </td>
              <td>
                <Link to={`/runs/${r.runId}`}>{r.runName}</Link> <PhaseBadge phase={r.runPhase} />
                {r.revision && <span className="subtitle"> @ {r.revision}</span>}
              </td>
              <td>
                <RelativeTime iso={r.createdAt} now={now} />
              </td>
              <td className="num">{formatDuration(r.durationMs)}</td>
              <td style={{ maxWidth: 380 }}>
                {r.message ? (
                  <span className="failure-text" title={r.detail ?? [r.message, r.file ? `${r.file}${r.line ? `:${r.line}` : ''}` : ''].filter(Boolean).join('\n')}>
                    {headline(r.message)}
                  </span>
                ) : (
                  <span className="subtitle">—</span>
                )}
              </td>
              <td>{r.category ? <CategoryBadge category={r.category} rule={r.categoryRule} /> : <span className="subtitle">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}


/**
 * Overview: how the tests are doing over time — pass rate, runs per bucket by
 * phase, duration p50/p95 — the tests that fail most and the slowest ones, and
 * the queue right now. Every number comes from the insights and stats endpoints.
 */
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import uPlot from 'uplot';
import { api } from '../api/endpoints';
import { isNotFound } from '../api/http';
import type { CategoryBreakdown, ParallelismRecommendation, ResourceProfileInsight, Trends } from '../api/types';
import { categoryColor } from '../lib/category-colors';
import { stackByCategory } from '../lib/category-series';
import { RelativeTime } from '../components/relative-time';
import { Empty, ErrorState, Loading, describeError } from '../components/states';
import { UplotChart, cssVar } from '../components/uplot-chart';
import { useDocumentTitle } from '../hooks/use-document-title';
import { useNow } from '../hooks/use-now';
import { formatCount, formatDuration, formatPercent } from '../lib/format';
import { OVERVIEW_RANGES, durationSeries, hasRuns, isOverviewRange, passRateSeries, rangeWindow, stackedByPhase, type OverviewRange } from '../lib/trend-series';

export default function OverviewPage() {
  useDocumentTitle('Overview');
  const [params, setParams] = useSearchParams();
  const rangeParam = params.get('range');
  const range: OverviewRange = isOverviewRange(rangeParam) ? rangeParam : '7d';
  const now = useNow(60_000);
  const window = useMemo(() => rangeWindow(range, new Date(now)), [range, now]);

  const stats = useQuery({ queryKey: ['stats'], queryFn: ({ signal }) => api.stats(signal), refetchInterval: 3000 });
  const trends = useQuery({ queryKey: ['insights', 'trends', window], queryFn: ({ signal }) => api.trends(window, signal), refetchInterval: 30_000 });
  const top = useQuery({ queryKey: ['insights', 'top', window.from, window.to], queryFn: ({ signal }) => api.top({ from: window.from, to: window.to, limit: 10 }, signal), refetchInterval: 30_000 });
  const categories = useQuery({ queryKey: ['insights', 'categories', window], queryFn: ({ signal }) => api.categoryBreakdown(window, signal), refetchInterval: 30_000 });
  // An older server has no profile endpoint (404): then there is no card, not an error.
  const profile = useQuery({ queryKey: ['insights', 'profile'], queryFn: ({ signal }) => api.resourceProfile(signal), refetchInterval: 60_000, retry: false });

  return (
    <>
      <div className="page-header">
        <h1>Overview</h1>
        <div className="actions">
          <label htmlFor="overview-range" className="subtitle" style={{ alignSelf: 'center' }}>
            Period
          </label>
          <select id="overview-range" value={range} onChange={(e) => setParams({ range: e.target.value })}>
            {Object.entries(OVERVIEW_RANGES).map(([key, r]) => (
              <option key={key} value={key}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
      </div>

      <section className="grid grid-4" aria-label="Now" style={{ marginBottom: 16 }}>
        {stats.isError ? (
          <div className="card" style={{ gridColumn: '1 / -1' }}>
            <ErrorState error={stats.error} title="Could not load the queue numbers" />
          </div>
        ) : (
          <>
            <Stat label="Queued now" value={stats.data ? formatCount(stats.data.queueDepth) : '…'} testId="stat-queue" />
            <Stat label="Running now" value={stats.data ? `${formatCount(stats.data.activeRunners)} / ${formatCount(stats.data.concurrency)}` : '…'} testId="stat-running" />
            <Stat label="Finished runs in the period" value={trends.data ? formatCount(trends.data.points.reduce((n, p) => n + p.total, 0)) : '…'} />
            <Stat label="Pass rate in the period" value={trends.data ? formatPercent(overallPassRate(trends.data)) : '…'} />
          </>
        )}
      </section>

      {trends.isPending ? (
        <Loading label="Loading trends…" />
      ) : trends.isError ? (
        <ErrorState error={trends.error} title="Could not load trends" retry={() => void trends.refetch()} />
      ) : !hasRuns(trends.data) ? (
        <div className="card">
          <Empty title="No finished runs in this period">
            <p>
              Charts fill in as runs finish. <Link to="/schedule">Schedule a run</Link> or pick a longer period.
            </p>
          </Empty>
        </div>
      ) : (
        <TrendCharts trends={trends.data} />
      )}

      <div className="grid grid-2">
        <section className="card" aria-labelledby="categories-heading" data-testid="category-chart-card">
          <h2 id="categories-heading">Failures by category</h2>
          {categories.isPending ? (
            <Loading />
          ) : categories.isError ? (
            isNotFound(categories.error) ? (
              <p className="subtitle">This server does not break failures down by category.</p>
            ) : (
              <ErrorState error={categories.error} retry={() => void categories.refetch()} />
            )
          ) : (
            <CategoryChart breakdown={categories.data} bucket={window.bucket} from={window.from} />
          )}
        </section>
        {/* Shown once answered: an older server without the endpoint (404) gets no card, not an empty or broken one. */}
        {profile.data || (profile.isError && !isNotFound(profile.error)) ? <ProfileCard profile={profile.data} error={profile.error} /> : null}
      </div>

      <div className="grid grid-2">
        <section className="card" aria-labelledby="failing-heading">
          <h2 id="failing-heading">Most failing tests</h2>
          {top.isPending ? (
            <Loading />
          ) : top.isError ? (
            <ErrorState error={top.error} retry={() => void top.refetch()} />
          ) : top.data.mostFailing.length === 0 ? (
            <p className="subtitle">Nothing failed in this period.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Test</th>
                  <th scope="col" className="num">
                    Failed
                  </th>
                  <th scope="col" className="num">
                    Fail rate
                  </th>
                  <th scope="col">Last failure</th>
                </tr>
              </thead>
              <tbody>
                {top.data.mostFailing.map((t) => (
                  <tr key={`${t.definitionId ?? ''}:${t.name}`}>
                    <td>
                      <Link to={t.definitionId ? `/runs?definition=${t.definitionId}` : `/runs?q=${encodeURIComponent(t.name)}`}>{t.name}</Link>
                    </td>
                    <td className="num">
                      {formatCount(t.failed)} / {formatCount(t.runs)}
                    </td>
                    <td className="num">{formatPercent(t.failRate)}</td>
                    <td>{t.lastFailedRunId ? <Link to={`/runs/${t.lastFailedRunId}`}><RelativeTime iso={t.lastFailedAt} now={now} /></Link> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="card" aria-labelledby="slowest-heading">
          <h2 id="slowest-heading">Slowest tests</h2>
          {top.isPending ? (
            <Loading />
          ) : top.isError ? (
            <ErrorState error={top.error} retry={() => void top.refetch()} />
          ) : top.data.slowest.length === 0 ? (
            <p className="subtitle">No finished runs in this period.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Test</th>
                  <th scope="col" className="num">
                    p50
                  </th>
                  <th scope="col" className="num">
                    p95
                  </th>
                  <th scope="col" className="num">
                    Slowest
                  </th>
                </tr>
              </thead>
              <tbody>
                {top.data.slowest.map((t) => (
                  <tr key={`${t.definitionId ?? ''}:${t.name}`}>
                    <td>
                      <Link to={t.definitionId ? `/runs?definition=${t.definitionId}` : `/runs?q=${encodeURIComponent(t.name)}`}>{t.name}</Link>{' '}
                      <span className="subtitle">
                        ({formatCount(t.runs)} run{t.runs === 1 ? '' : 's'})
                      </span>
                    </td>
                    <td className="num">{formatDuration(t.p50Ms)}</td>
                    <td className="num">{formatDuration(t.p95Ms)}</td>
                    <td className="num">{t.slowestRunId ? <Link to={`/runs/${t.slowestRunId}`}>{formatDuration(t.maxMs)}</Link> : formatDuration(t.maxMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="card stat" style={{ marginBottom: 0 }} data-testid={testId}>
      <span className="label">{label}</span>
      <span className="value">{value}</span>
    </div>
  );
}

function overallPassRate(trends: Trends): number | null {
  // As the API defines a bucket's pass rate: Passed out of the runs that ran to an end (not Cancelled).
  let passed = 0;
  let ended = 0;
  for (const p of trends.points) {
    passed += p.byPhase.Passed;
    ended += p.total - p.byPhase.Cancelled;
  }
  return ended ? passed / ended : null;
}

function axisTime(bucket: 'hour' | 'day'): uPlot.Axis['values'] {
  return (_u, splits) =>
    splits.map((s) => {
      const d = new Date(s * 1000);
      return bucket === 'hour' ? `${String(d.getHours()).padStart(2, '0')}:00` : `${d.getMonth() + 1}/${d.getDate()}`;
    });
}

/** The x scale of a trend: every bucket whole, bars included (half a bucket of room at each end). */
function xScale(trends: Trends): uPlot.Scale {
  const half = (trends.bucket === 'hour' ? 3600 : 86_400) / 2;
  const from = Date.parse(trends.from) / 1000;
  const last = trends.points.length ? Date.parse(trends.points[trends.points.length - 1]!.start) / 1000 : from;
  return { time: true, range: [from - half, last + half] };
}

function baseAxes(bucket: 'hour' | 'day', yValues?: uPlot.Axis['values']): uPlot.Axis[] {
  const stroke = cssVar('--muted');
  const grid = { stroke: cssVar('--border'), width: 1 };
  return [
    { stroke, grid, ticks: grid, values: axisTime(bucket) },
    { stroke, grid, ticks: grid, values: yValues, size: 60 },
  ];
}

function TrendCharts({ trends }: { trends: Trends }) {
  const passRate = useMemo(() => passRateSeries(trends) as uPlot.AlignedData, [trends]);
  const stacked = useMemo(() => stackedByPhase(trends), [trends]);
  const durations = useMemo(() => durationSeries(trends) as uPlot.AlignedData, [trends]);
  const bars = useMemo(() => stacked.data as uPlot.AlignedData, [stacked]);
  const barWidth = trends.bucket === 'hour' ? 0.7 : 0.8;
  return (
    <div className="grid grid-3">
      <section className="card" aria-labelledby="pass-rate-heading">
        <h2 id="pass-rate-heading">Pass rate</h2>
        <UplotChart
          data={passRate}
          label={`Pass rate per ${trends.bucket}`}
          build={() => ({
            scales: { x: xScale(trends), y: { range: [0, 100] } },
            axes: baseAxes(trends.bucket, (_u, splits) => splits.map((v) => `${v}%`)),
            series: [{}, { label: 'Pass rate', stroke: cssVar('--phase-Passed'), width: 2, fill: `${cssVar('--phase-Passed')}22`, spanGaps: false, value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)}%`) }],
          })}
        />
      </section>
      <section className="card" aria-labelledby="per-bucket-heading">
        <h2 id="per-bucket-heading">Runs per {trends.bucket} by phase</h2>
        <UplotChart
          data={bars}
          label={`Runs per ${trends.bucket}, stacked by phase`}
          build={() => ({
            scales: { x: xScale(trends), y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
            axes: baseAxes(trends.bucket),
            series: [
              {},
              ...stacked.phases.map((phase) => ({
                label: phase,
                fill: cssVar(`--phase-${phase}`),
                stroke: cssVar(`--phase-${phase}`),
                width: 0,
                paths: barsPath(barWidth),
                points: { show: false },
                value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) => (idx === null ? '—' : String(stacked.counts[phase][idx] ?? 0)),
              })),
            ],
          })}
        />
      </section>
      <section className="card" aria-labelledby="duration-heading">
        <h2 id="duration-heading">Duration</h2>
        <UplotChart
          data={durations}
          label={`Run duration p50 and p95 per ${trends.bucket}`}
          build={() => ({
            scales: { x: xScale(trends), y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
            axes: baseAxes(trends.bucket, (_u, splits) => splits.map((v) => formatDuration(v))),
            series: [
              {},
              { label: 'p50', stroke: cssVar('--phase-Running'), width: 2, value: (_u, v) => formatDuration(v) },
              { label: 'p95', stroke: cssVar('--phase-TimedOut'), width: 2, dash: [6, 4], value: (_u, v) => formatDuration(v) },
            ],
          })}
        />
      </section>
    </div>
  );
}

/** Failed test cases per bucket, stacked by category, one colour per category, with a legend of the period's totals. */
function CategoryChart({ breakdown, bucket, from }: { breakdown: CategoryBreakdown; bucket: 'hour' | 'day'; from: string }) {
  const stack = useMemo(() => stackByCategory(breakdown), [breakdown]);
  const data = useMemo(() => stack.data as uPlot.AlignedData, [stack]);
  if (stack.totals.length === 0) return <p className="subtitle">No test failed in this period.</p>;
  const half = (bucket === 'hour' ? 3600 : 86_400) / 2;
  const xs = stack.data[0];
  const range: uPlot.Scale['range'] = [Date.parse(from) / 1000 - half, (xs.length ? xs[xs.length - 1]! : Date.parse(from) / 1000) + half];
  return (
    <>
      <UplotChart
        data={data}
        label={`Failed test cases per ${bucket}, stacked by category: ${stack.totals.map((t) => `${t.category} ${t.total}`).join(', ')}`}
        build={() => ({
          legend: { show: false },
          scales: { x: { time: true, range }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: baseAxes(bucket),
          series: [
            {},
            ...stack.categories.map((category) => ({
              label: category,
              fill: categoryColor(category),
              stroke: categoryColor(category),
              width: 0,
              paths: barsPath(bucket === 'hour' ? 0.7 : 0.8),
              points: { show: false },
            })),
          ],
        })}
      />
      <ul className="legend" aria-label="Failures by category in the period" data-testid="category-legend">
        {stack.totals.map((t) => (
          <li key={t.category} style={{ listStyle: 'none' }}>
            <span className="swatch" style={{ background: categoryColor(t.category) }} aria-hidden="true" />
            <Link to={`/runs?category=${encodeURIComponent(t.category)}`}>{t.category}</Link> {formatCount(t.total)}
          </li>
        ))}
      </ul>
    </>
  );
}

const LIMITS: Record<ParallelismRecommendation['limitedBy'], string> = { cpu: 'CPU', memory: 'memory', concurrency: 'the concurrency limit' };

/** How many runs fit at once, from the p95 resource profile of recent runs (say why). */
function ProfileCard({ profile: body, error }: { profile: ResourceProfileInsight | undefined; error: unknown }) {
  const profile = body?.recommendation;
  return (
    <section className="card" aria-labelledby="profile-heading" data-testid="profile-card">
      <h2 id="profile-heading">Parallelism</h2>
      {error || !profile ? (
        <p className="subtitle">Could not load the resource profile: {describeError(error)}</p>
      ) : (
        <>
          <p className="stat" style={{ margin: '4px 0 8px' }}>
            <span className="value" data-testid="profile-parallelism">
              {formatCount(profile.parallelism)} run{profile.parallelism === 1 ? '' : 's'} at once
            </span>
            <span className="label"> limited by {LIMITS[profile.limitedBy]}</span>
          </p>
          <p className="subtitle" style={{ whiteSpace: 'pre-wrap' }}>
            {profile.explanation}
          </p>
        </>
      )}
    </section>
  );
}

/** Bars for a stacked series, `width` of the bucket wide. */
const barsPath = (width: number): uPlot.Series.PathBuilder => uPlot.paths.bars!({ size: [width] });

/**
 * Run details: what ran, how it ended and why — phase and timing, the failure,
 * the steps timeline with assertions, the live log, the script and its env —
 * plus re-run, cancel and compare with the previous run.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { isNotFound } from '../api/http';
import type { RunDetail } from '../api/types';
import { CategoryBadge } from '../components/category-badge';
import { CrdBadge } from '../components/crd-badge';
import { ImportBadge } from '../components/import-badge';
import { GuardedButton } from '../components/guarded';
import { Labels } from '../components/labels';
import { LogViewer } from '../components/log-viewer';
import { LazyLuaEditor as LuaEditor } from '../components/lazy-lua-editor';
import { PhaseBadge } from '../components/phase-badge';
import { RelativeTime } from '../components/relative-time';
import { RunSource } from '../components/run-source';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { StepTimeline } from '../components/step-timeline';
import { useDocumentTitle } from '../hooks/use-document-title';
import { useNow } from '../hooks/use-now';
import { useRunLog } from '../hooks/use-run-log';
import { detailPlaces, headline, isTerminal } from '../lib/domain';
import { formatDateTime, formatDuration, shortId } from '../lib/format';
import { buildStepTree, upsertStep } from '../lib/step-tree';

/** The value the API shows instead of a secret. */
const MASKED = '***';

export default function RunPage() {
  const { id = '' } = useParams();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const key = ['run', id];
  const runQuery = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => api.getRun(id, signal),
    // The stream keeps it current; this is the backstop if the stream is down.
    refetchInterval: (q) => (q.state.data && !isTerminal(q.state.data.phase) ? 5000 : false),
  });
  const run = runQuery.data;
  useDocumentTitle(run ? `${run.name} (${run.phase})` : 'Run');

  // Assertions are not on the stream: re-read the run at most once a second while steps change.
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refetchSoon = () => {
    if (refetchTimer.current) return;
    refetchTimer.current = setTimeout(() => {
      refetchTimer.current = null;
      void queryClient.invalidateQueries({ queryKey: key });
    }, 1000);
  };

  const log = useRunLog(id, run ? !isTerminal(run.phase) : undefined, {
    onStep: (step) => {
      queryClient.setQueryData<RunDetail>(key, (old) => (old ? { ...old, steps: upsertStep(old.steps, step) } : old));
      refetchSoon();
    },
    onPhase: (fresh) => queryClient.setQueryData<RunDetail>(key, (old) => (old ? { ...old, ...fresh, steps: old.steps, assertions: old.assertions } : old)),
    onEnd: () => {
      void queryClient.invalidateQueries({ queryKey: key });
      void queryClient.invalidateQueries({ queryKey: ['runs'] });
    },
  });

  const rerun = useMutation({
    mutationFn: () => api.rerun(id),
    onSuccess: (next) => {
      void queryClient.invalidateQueries({ queryKey: ['runs'] });
      navigate(`/runs/${next.id}`);
    },
  });
  const cancel = useMutation({
    mutationFn: () => api.cancelRun(id),
    onSuccess: (fresh) => {
      queryClient.setQueryData<RunDetail>(key, (old) => (old ? { ...old, ...fresh, steps: old.steps, assertions: old.assertions } : old));
      void queryClient.invalidateQueries({ queryKey: key });
    },
  });

  if (runQuery.isPending) return <Loading label="Loading the run…" />;
  if (runQuery.isError) {
    if (isNotFound(runQuery.error))
      return (
        <Empty title="No such run">
          <p>
            There is no run <code>{id}</code>. <Link to="/runs">See all runs</Link>.
          </p>
        </Empty>
      );
    return <ErrorState error={runQuery.error} title="Could not load the run" retry={() => void runQuery.refetch()} />;
  }
  // Keyed by run: another run (after Re-run) starts with fresh view state (search, follow, file).
  return <RunDetailsView key={run!.id} run={run!} log={log} rerun={rerun} cancel={cancel} />;
}

function RunDetailsView({
  run,
  log,
  rerun,
  cancel,
}: {
  run: RunDetail;
  log: ReturnType<typeof useRunLog>;
  rerun: { mutate: () => void; isPending: boolean; error: unknown };
  cancel: { mutate: () => void; isPending: boolean; error: unknown };
}) {
  const now = useNow(1000);
  const finished = isTerminal(run.phase);
  const tree = useMemo(() => buildStepTree(run.steps, run.assertions, now), [run.steps, run.assertions, finished ? 0 : now]);
  // a failure's details (an expect diff) show once: with its assertion or step, else under the run's message
  const places = useMemo(() => detailPlaces({ message: run.message, steps: run.steps, assertions: run.assertions }), [run.message, run.steps, run.assertions]);
  const source = run.source;
  const script = source.script ?? null;
  const fileName = 'fileName' in source ? source.fileName : undefined;
  const failureLines = useMemo(
    () => [...run.assertions.filter((a) => !a.passed), ...run.steps.filter((s) => s.status === 'failed')].filter((r) => r.line !== null && (!fileName || !r.file || r.file === fileName)).map((r) => r.line!),
    [run.assertions, run.steps, fileName],
  );
  const [files, setFiles] = useState<string | null>(null);
  const extraFiles = 'files' in source && source.files ? Object.keys(source.files) : [];
  const shownFile = files && 'files' in source && source.files ? source.files[files] : null;
  const env = Object.entries(run.env);
  const elapsed = run.durationMs ?? (run.startedAt ? now - Date.parse(run.startedAt) : null);
  const quarantined = run.summary.quarantinedFailures ?? 0;

  return (
    <>
      <div className="page-header">
        <h1>{run.name}</h1>
        <PhaseBadge phase={run.phase} large />
        {quarantined > 0 && (
          <span className="subtitle" data-testid="run-quarantined">
            — {quarantined} quarantined failure{quarantined === 1 ? '' : 's'}
          </span>
        )}
        {run.category && <CategoryBadge category={run.category} rule={run.categoryRule} />}
        {run.origin === 'crd' && <CrdBadge />}
        {run.origin === 'import' && <ImportBadge />}
        <div className="actions">
          <Link className="button" to={`/compare?head=${run.id}&base=previous`} data-testid="compare-previous">
            Compare with previous
          </Link>
          {!finished && (
            <GuardedButton needs="runner" type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
              {cancel.isPending ? 'Cancelling…' : 'Cancel'}
            </GuardedButton>
          )}
          <GuardedButton needs="runner" type="button" className="primary" onClick={() => rerun.mutate()} disabled={rerun.isPending}>
            {rerun.isPending ? 'Starting…' : 'Re-run'}
          </GuardedButton>
        </div>
      </div>
      <InlineError error={rerun.error} />
      <InlineError error={cancel.error} />

      <section className="card" aria-label="Summary">
        <dl className="facts">
          <div>
            <dt>Phase</dt>
            <dd data-testid="run-phase">{run.phase}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(elapsed)}{!finished && run.startedAt ? ' so far' : ''}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              {formatDateTime(run.createdAt)} (<RelativeTime iso={run.createdAt} now={now} />)
            </dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{formatDateTime(run.startedAt)}</dd>
          </div>
          <div>
            <dt>Finished</dt>
            <dd>{formatDateTime(run.finishedAt)}</dd>
          </div>
          <div>
            <dt>Origin</dt>
            <dd>{run.origin}</dd>
          </div>
          <div>
            <dt>App</dt>
            <dd>{run.appName ?? '—'}</dd>
          </div>
          <div>
            <dt>Timeout</dt>
            <dd>{formatDuration(run.timeoutSeconds * 1000)}</dd>
          </div>
          <div>
            <dt>Steps</dt>
            <dd>
              {run.summary.stepsPassed} passed, {run.summary.stepsFailed} failed, {run.summary.stepsSkipped} skipped
            </dd>
          </div>
          <div>
            <dt>Assertions</dt>
            <dd>
              {run.summary.assertionsPassed} passed, {run.summary.assertionsFailed} failed
            </dd>
          </div>
          <div>
            <dt>Definition</dt>
            <dd>
              {source.type === 'definition' ? (
                <>
                  <Link to={`/definitions/${encodeURIComponent(source.definitionId)}`}>open</Link> ·{' '}
                  <Link to={`/runs?definition=${encodeURIComponent(source.definitionId)}`}>history</Link>
                </>
              ) : (
                '— (inline script)'
              )}
            </dd>
          </div>
          <div>
            <dt>Labels</dt>
            <dd>
              <Labels labels={run.labels} />
            </dd>
          </div>
          <div>
            <dt>Run id</dt>
            <dd>
              <code title={run.id}>{run.id}</code>
            </dd>
          </div>
          <div>
            <dt>Executor</dt>
            <dd>{run.executor ?? '—'}</dd>
          </div>
          {run.category && (
            <div>
              <dt>Failure category</dt>
              <dd data-testid="run-category">
                <CategoryBadge category={run.category} rule={run.categoryRule} /> {run.categoryRule ? <span className="subtitle">rule {run.categoryRule}</span> : <span className="subtitle">no rule matched</span>}
              </dd>
            </div>
          )}
        </dl>
        {run.message && (
          <div className={`run-message phase-${run.phase}`} role={run.phase === 'Passed' ? undefined : 'note'} data-testid="run-message">
            <strong>{run.reason ?? run.phase}</strong>
            <pre>{places.run ? run.message : headline(run.message)}</pre>
          </div>
        )}
      </section>

      {quarantined > 0 && <QuarantinedFailures runId={run.id} count={quarantined} />}

      <RunSource k8sRef={run.k8sRef} source={run.source} />

      <section className="card" aria-labelledby="steps-heading">
        <h2 id="steps-heading">Steps and assertions</h2>
        <StepTimeline tree={tree} places={places} />
      </section>

      <section className="card" aria-labelledby="log-heading">
        <h2 id="log-heading">Log</h2>
        {log.error ? <InlineError error={log.error} /> : null}
        <LogViewer
          log={log}
          live={!finished}
          downloadName={`${run.name}-${shortId(run.id)}`}
          emptyText={run.logsExpiredAt ? `The log lines of this run were deleted on ${run.logsExpiredAt.slice(0, 10)} by log retention (TOPAS_LOG_RETENTION_DAYS). Its steps, assertions and results are kept.` : undefined}
        />
      </section>

      <section className="card" aria-labelledby="script-heading">
        <h2 id="script-heading">
          Script {fileName && <code className="subtitle">{fileName}</code>}
        </h2>
        {extraFiles.length > 0 && (
          <div className="field" style={{ maxWidth: 360 }}>
            <label htmlFor="run-file">File</label>
            <select id="run-file" value={files ?? ''} onChange={(e) => setFiles(e.target.value || null)}>
              <option value="">{fileName ?? 'the script'}</option>
              {extraFiles.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          </div>
        )}
        {script !== null || shownFile !== null ? (
          <LuaEditor value={shownFile ?? script ?? ''} readOnly label={`Script of ${run.name}`} failureLines={shownFile === null ? failureLines : []} />
        ) : source.type === 'git' ? (
          <p className="subtitle">
            The script, <code>{source.path}</code>, is read from the repository when the run starts (see Source).
          </p>
        ) : (
          <p className="subtitle">The script is not available.</p>
        )}
      </section>

      <section className="card" aria-labelledby="env-heading">
        <h2 id="env-heading">Environment</h2>
        {env.length === 0 ? (
          <p className="subtitle">No environment variables.</p>
        ) : (
          <table className="kv-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {env.map(([name, value]) => (
                <tr key={name}>
                  <td>{name}</td>
                  <td>{value === MASKED ? <span className="secret" title="Secret values are not shown">••••• (secret)</span> : value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

/** The failures of quarantined tests: recorded, shown apart, and not what decided the run's phase. */
function QuarantinedFailures({ runId, count }: { runId: string; count: number }) {
  const results = useQuery({ queryKey: ['run', runId, 'results'], queryFn: ({ signal }) => api.results(runId, signal), retry: false });
  const items = results.data?.results.filter((r) => r.quarantined && (r.outcome === 'Failed' || r.outcome === 'Error')) ?? [];
  return (
    <section className="card quarantined-failures" aria-labelledby="quarantined-heading" data-testid="quarantined-failures">
      <h2 id="quarantined-heading">
        {count} quarantined failure{count === 1 ? '' : 's'}
      </h2>
      <p className="subtitle">Tests in quarantine still run and are recorded, but their failures do not fail the run.</p>
      {results.isPending ? (
        <Loading />
      ) : results.isError ? (
        <InlineError error={results.error} />
      ) : (
        <ul>
          {items.map((r) => (
            <li key={r.key} data-testid="quarantined-failure">
              <Link to={`/tests?text=${encodeURIComponent(r.key)}`}>{r.key}</Link>
              {r.category && (
                <>
                  {' '}
                  <CategoryBadge category={r.category} rule={r.categoryRule} />
                </>
              )}
              {r.message && <div className="step-message">{headline(r.message)}</div>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

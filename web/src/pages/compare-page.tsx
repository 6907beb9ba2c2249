/**
 * Compare two runs (or a run and the previous run of the same test): what newly
 * fails, what still fails, what got fixed, which steps appeared or disappeared,
 * and how the duration changed. `?head=<run id>&base=<run id | previous>`.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { isNotFound } from '../api/http';
import type { CompareResult, RunRef } from '../api/types';
import { PhaseBadge } from '../components/phase-badge';
import { Empty, ErrorState, Loading } from '../components/states';
import { useDocumentTitle } from '../hooks/use-document-title';
import { compareHeadline, durationRatio, groupComparison, pathLabel, type CompareItem, type CompareSection } from '../lib/compare-groups';
import { formatDateTime, formatDuration, formatDurationChange, formatPercent, withLocation } from '../lib/format';
import { shortIds } from '../../../src/core/short-ids';
import { ExpectedActual } from '../components/expected-actual';

const EMPTY_TEXT: Record<string, string> = {
  newlyFailing: 'Nothing that passed before fails now.',
  stillFailing: 'Nothing failed in both runs.',
  fixed: 'Nothing that failed before passes now.',
  added: 'No new steps or assertions.',
  removed: 'No step or assertion went missing.',
};

export default function ComparePage() {
  useDocumentTitle('Compare');
  const [params, setParams] = useSearchParams();
  const head = params.get('head')?.trim() ?? '';
  const base = params.get('base')?.trim() || 'previous';
  const [headInput, setHeadInput] = useState(head);
  const [baseInput, setBaseInput] = useState(base);
  useEffect(() => setHeadInput(head), [head]);
  useEffect(() => setBaseInput(base), [base]);

  const comparison = useQuery({
    queryKey: ['compare', head, base],
    queryFn: ({ signal }) => api.compare(head, base, signal),
    enabled: !!head,
    retry: false,
  });

  return (
    <>
      <div className="page-header">
        <h1>Compare runs</h1>
      </div>
      <form
        className="card"
        aria-label="Runs to compare"
        onSubmit={(e) => {
          e.preventDefault();
          setParams({ head: headInput.trim(), base: baseInput.trim() || 'previous' });
        }}
      >
        <div className="form-row" style={{ alignItems: 'start' }}>
          <div className="field">
            <label htmlFor="compare-base">Base run</label>
            <input id="compare-base" value={baseInput} onChange={(e) => setBaseInput(e.target.value)} placeholder="run id, or previous" aria-describedby="compare-base-hint" />
            <span className="hint" id="compare-base-hint">
              A run id, or <code>previous</code>: the run of the same test before the head run.
            </span>
          </div>
          <div className="field">
            <label htmlFor="compare-head">Head run</label>
            <input id="compare-head" value={headInput} onChange={(e) => setHeadInput(e.target.value)} placeholder="run id" required />
            <span className="hint">The newer run, whose changes you want to see.</span>
          </div>
          <div className="field" style={{ flexDirection: 'row', gap: 8, paddingTop: 25 }}>
            <button type="submit" className="primary">
              Compare
            </button>
            <button
              type="button"
              disabled={!head || base === 'previous'}
              onClick={() => setParams({ head: base, base: head })}
              title="Swap base and head"
            >
              Swap
            </button>
          </div>
        </div>
        {head && <OtherRuns head={head} base={base} onPick={(id) => setParams({ head, base: id })} />}
      </form>
      {!head ? (
        <Empty title="Pick two runs">
          <p>
            Open a run and choose <em>Compare with previous</em>, or paste two run ids above. Runs are listed on the <Link to="/runs">Runs</Link> page.
          </p>
        </Empty>
      ) : comparison.isPending ? (
        <Loading label="Comparing…" />
      ) : comparison.isError ? (
        isNotFound(comparison.error) ? (
          <Empty title={base === 'previous' ? 'Nothing to compare with' : 'Run not found'}>
            <p>{comparison.error instanceof Error ? comparison.error.message : ''}</p>
            {base === 'previous' && <p>This run has no earlier run of the same test. Pick a base run by id instead.</p>}
          </Empty>
        ) : (
          <ErrorState error={comparison.error} title="Could not compare" retry={() => void comparison.refetch()} />
        )
      ) : (
        <CompareView result={comparison.data} />
      )}
    </>
  );
}

/** Other runs of the head's test (same definition, or same name), to pick as the base in one click. */
function OtherRuns({ head, base, onPick }: { head: string; base: string; onPick: (id: string) => void }) {
  const headRun = useQuery({ queryKey: ['run', head], queryFn: ({ signal }) => api.getRun(head, signal), retry: false });
  const run = headRun.data;
  const query = new URLSearchParams({ limit: '11' });
  if (run?.source.type === 'definition') query.set('definition', run.source.definitionId);
  else if (run) query.set('q', run.name);
  const others = useQuery({ queryKey: ['runs', 'same-test', query.toString()], queryFn: ({ signal }) => api.listRuns(query, signal), enabled: !!run });
  const items = (others.data?.items ?? []).filter((r) => r.id !== head && (run?.source.type === 'definition' || r.name === run?.name)).slice(0, 10);
  if (!items.length) return null;
  return (
    <div className="field" style={{ marginBottom: 0 }}>
      <span className="hint">Other runs of this test, newest first — pick one as the base:</span>
      <div className="chips">
        {items.map((r) => (
          <button key={r.id} type="button" className="small" aria-pressed={base === r.id} onClick={() => onPick(r.id)} title={`${r.id}, created ${formatDateTime(r.createdAt)}`}>
            <PhaseBadge phase={r.phase} /> {formatDateTime(r.createdAt)}
          </button>
        ))}
      </div>
    </div>
  );
}

function CompareView({ result }: { result: CompareResult }) {
  const sections = useMemo(() => groupComparison(result), [result]);
  const ratio = durationRatio(result);
  const change = result.durationChangeMs;
  // Two runs of one test are often minutes apart: their ids' first 8 characters match.
  const ids = shortIds([result.base.id, result.head.id]);
  return (
    <>
      <section className="card" aria-label="The two runs">
        <div className="compare-refs">
          <RefCard label="Base" run={result.base} shortId={ids.get(result.base.id)!} />
          <span className="arrow" aria-hidden="true">
            →
          </span>
          <RefCard label="Head" run={result.head} shortId={ids.get(result.head.id)!} />
        </div>
        <p style={{ marginTop: 12 }}>
          Duration{' '}
          <strong className={change === null || change === 0 ? undefined : change > 0 ? 'change-up' : 'change-down'} data-testid="duration-change">
            {formatDurationChange(change)}
          </strong>
          {ratio !== null && <span className="subtitle"> ({ratio > 0 ? '+' : ''}{formatPercent(ratio)})</span>} · <span data-testid="compare-headline">{compareHeadline(result)}</span>
        </p>
      </section>
      {sections.map((section) => (
        <SectionCard key={section.key} section={section} />
      ))}
    </>
  );
}

function RefCard({ label, run, shortId }: { label: string; run: RunRef; shortId: string }) {
  return (
    <div>
      <div className="subtitle">{label}</div>
      <div style={{ display: 'flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
        <Link to={`/runs/${run.id}`}>
          <strong>{run.name}</strong> <code title={run.id}>{shortId}</code>
        </Link>
        <PhaseBadge phase={run.phase} />
      </div>
      <div className="subtitle">
        {formatDateTime(run.createdAt)} · {formatDuration(run.durationMs)} · {run.summary.stepsFailed} failed step{run.summary.stepsFailed === 1 ? '' : 's'},{' '}
        {run.summary.assertionsFailed} failed assertion{run.summary.assertionsFailed === 1 ? '' : 's'}
      </div>
    </div>
  );
}

function SectionCard({ section }: { section: CompareSection }) {
  const headingId = `compare-${section.key}`;
  return (
    <section className={`card compare-section ${section.key}`} aria-labelledby={headingId} data-testid={`compare-${section.key}`}>
      <h2 id={headingId}>
        {section.title} <span className="count">({section.count})</span>
      </h2>
      {section.items.length === 0 ? (
        <p className="subtitle">{EMPTY_TEXT[section.key]}</p>
      ) : (
        <ul style={{ listStyle: 'none', margin: 0, padding: 0 }}>
          {section.items.map((item) => (
            <CompareRow key={item.key} item={item} />
          ))}
        </ul>
      )}
    </section>
  );
}

function CompareRow({ item }: { item: CompareItem }) {
  const step = item.step;
  return (
    <li className="compare-item" data-testid="compare-item">
      <div>
        <strong>{pathLabel(item.path)}</strong>
        {step && (
          <span className="transition">
            {step.baseStatus ?? 'absent'} → {step.headStatus ?? 'absent'}
            {step.baseDurationMs !== null && step.headDurationMs !== null && ` · ${formatDuration(step.baseDurationMs)} → ${formatDuration(step.headDurationMs)}`}
          </span>
        )}
      </div>
      {step?.message && (
        <div className="step-message">{withLocation(step.message, step.location)}</div>
      )}
      {item.assertions.length > 0 && (
        <ul className="assertions">
          {item.assertions.map((a, i) => (
            <li key={i} className={`assertion${a.headPassed === false ? ' failed' : ''}`}>
              <span className={`status-icon status-${a.headPassed === false ? 'failed' : a.headPassed ? 'passed' : 'skipped'}`} aria-hidden="true">
                {a.headPassed === false ? '✗' : a.headPassed ? '✓' : '–'}
              </span>{' '}
              {a.message}
              {a.location && <span className="where">{a.location}</span>}
              <ExpectedActual expected={a.expected} actual={a.actual} />
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

/**
 * Runs as a table that stays fast however many are loaded: rows have one fixed
 * height and only those in view are rendered. Scrolling near the end loads the
 * next page (a "Load more" button does the same from the keyboard).
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import type { RunListItem } from '../api/types';
import { useNow } from '../hooks/use-now';
import { formatCount, formatDuration } from '../lib/format';
import { headline } from '../lib/domain';
import { CategoryBadge } from './category-badge';
import { CrdBadge } from './crd-badge';
import { ImportBadge } from './import-badge';
import { Labels } from './labels';
import { PhaseBadge } from './phase-badge';
import { RelativeTime } from './relative-time';
import { describeError } from './states';

const ROW_HEIGHT = 44;

export interface RunsTableProps {
  runs: RunListItem[];
  hasMore: boolean;
  loadMore: () => void;
  loadingMore: boolean;
  moreError?: unknown;
  /** A shorter table (definition history). */
  short?: boolean;
  caption: string;
}

export function RunsTable({ runs, hasMore, loadMore, loadingMore, moreError, short, caption }: RunsTableProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const navigate = useNavigate();
  const now = useNow(5000);
  const virtualizer = useVirtualizer({ count: runs.length, getScrollElement: () => scrollRef.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const last = items.length ? items[items.length - 1]!.index : -1;

  useEffect(() => {
    if (hasMore && !loadingMore && !moreError && last >= runs.length - 15) loadMore();
  }, [last, runs.length, hasMore, loadingMore, moreError, loadMore]);

  // For the browser benchmark: when the first rows are on screen.
  const marked = useRef(false);
  useEffect(() => {
    if (!marked.current && runs.length > 0) {
      marked.current = true;
      performance.mark('topas:runs-rows');
    }
  }, [runs.length]);

  const padTop = items.length ? items[0]!.start : 0;
  const padBottom = items.length ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;

  return (
    <>
      <div className={`runs-scroll${short ? ' short' : ''}`} ref={scrollRef} tabIndex={-1}>
        <table className="runs-table" data-testid="runs-table">
          <caption className="visually-hidden">{caption}</caption>
          <colgroup>
            <col style={{ width: 112 }} />
            <col />
            <col style={{ width: '30%' }} />
            <col style={{ width: 76 }} />
            <col style={{ width: 100 }} />
            <col style={{ width: 104 }} />
            <col style={{ width: 84 }} />
            <col style={{ width: 150 }} />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Phase</th>
              <th scope="col">Name</th>
              <th scope="col">Failure</th>
              <th scope="col">Origin</th>
              <th scope="col">App</th>
              <th scope="col">Created</th>
              <th scope="col" className="num">
                Duration
              </th>
              <th scope="col">Steps · assertions</th>
            </tr>
          </thead>
          <tbody>
            {padTop > 0 && (
              <tr className="spacer" aria-hidden="true">
                <td colSpan={8} style={{ height: padTop }} />
              </tr>
            )}
            {items.map((item) => {
              const run = runs[item.index]!;
              return (
                <tr key={run.id} className="run-row" data-testid="run-row" data-phase={run.phase} onClick={(e) => {
                  if ((e.target as HTMLElement).closest('a, button, [tabindex]')) return;
                  navigate(`/runs/${run.id}`);
                }}>
                  <td>
                    <PhaseBadge phase={run.phase} />
                  </td>
                  <td>
                    <div className="name-cell">
                      <Link to={`/runs/${run.id}`} title={run.name}>
                        {run.name}
                      </Link>
                      {run.origin === 'crd' && <CrdBadge />}
                      {run.origin === 'import' && <ImportBadge />}
                      {Object.keys(run.labels).length > 0 && <Labels labels={run.labels} max={2} />}
                    </div>
                  </td>
                  <td>
                    <FailureCell run={run} />
                  </td>
                  <td>{run.origin}</td>
                  <td title={run.appName ?? undefined}>{run.appName ?? '—'}</td>
                  <td>
                    <RelativeTime iso={run.createdAt} now={now} />
                  </td>
                  <td className="num">{run.phase === 'Running' && run.startedAt ? formatDuration(now - Date.parse(run.startedAt)) : formatDuration(run.durationMs)}</td>
                  <td className="summary-counts">
                    <SummaryCounts run={run} />
                  </td>
                </tr>
              );
            })}
            {padBottom > 0 && (
              <tr className="spacer" aria-hidden="true">
                <td colSpan={8} style={{ height: padBottom }} />
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div className="runs-footer">
        <span>
          {formatCount(runs.length)} run{runs.length === 1 ? '' : 's'} loaded{hasMore ? ', more below' : ''}
        </span>
        {hasMore && (
          <button type="button" className="small" onClick={loadMore} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        )}
        {moreError ? (
          <span className="inline-error" role="alert">
            {describeError(moreError)}
          </span>
        ) : null}
      </div>
    </>
  );
}

/** Why a run did not pass, at a glance: its category and the reason with the first line of the message (all of it as the title). */
export function FailureCell({ run }: { run: RunListItem }) {
  const quarantined = run.summary.quarantinedFailures ?? 0;
  if (run.phase === 'Passed' && quarantined > 0) {
    return (
      <span className="failure-text" data-testid="run-quarantined" title="These failures are of quarantined tests: recorded, but they do not fail the run">
        {quarantined} quarantined failure{quarantined === 1 ? '' : 's'}
      </span>
    );
  }
  if (run.phase !== 'Failed' && run.phase !== 'Error' && run.phase !== 'TimedOut') return null;
  const first = run.message ? headline(run.message) : null;
  const text = [run.reason, first].filter(Boolean).join(': ');
  const title = [run.reason, run.message].filter(Boolean).join(': ');
  return (
    <span className="failure-cell" data-testid="run-failure">
      {run.category && <CategoryBadge category={run.category} rule={run.categoryRule} />}
      {text && (
        <span className="failure-text" title={title}>
          {text}
        </span>
      )}
    </span>
  );
}

function SummaryCounts({ run }: { run: RunListItem }) {
  const s = run.summary;
  const steps = s.stepsPassed + s.stepsFailed + s.stepsSkipped;
  const assertions = s.assertionsPassed + s.assertionsFailed;
  return (
    <span title={`${s.stepsPassed} steps passed, ${s.stepsFailed} failed, ${s.stepsSkipped} skipped; ${s.assertionsPassed} assertions passed, ${s.assertionsFailed} failed`}>
      {steps} step{steps === 1 ? '' : 's'}
      {s.stepsFailed > 0 && <span className="bad"> ({s.stepsFailed} ✗)</span>} · {assertions}
      {s.assertionsFailed > 0 && <span className="bad"> ({s.assertionsFailed} ✗)</span>}
    </span>
  );
}

/**
 * A run's log: line numbers, search with highlighted matches (Enter / Shift+Enter
 * step through them), only-matching view, follow/unfollow while the run writes,
 * download. Rows have one fixed height and only those in view are in the DOM,
 * so 100,000 lines scroll as smoothly as 100.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { LogLine } from '../api/types';
import type { RunLog } from '../hooks/use-run-log';
import { formatClock, formatCount } from '../lib/format';
import { logText } from '../lib/log-buffer';
import { findMatches, followAfterScroll, gutterChars, highlightParts, isAtEnd, stepMatch, visibleLines } from '../lib/log-window';

/** Pixel height of one log row; the CSS uses the same. */
export const LOG_ROW_HEIGHT = 20;

export interface LogViewerProps {
  log: RunLog;
  /** The run is still writing: start by following the end. */
  live: boolean;
  /** File name for the download, without extension. */
  downloadName: string;
  /** What to say when the finished run has no lines (default: it wrote none), e.g. that log retention deleted them. */
  emptyText?: string;
}

export function LogViewer({ log, live, downloadName, emptyText }: LogViewerProps) {
  const { buffer, version, status } = log;
  const lines = buffer.lines;
  const [query, setQuery] = useState('');
  const q = useDeferredValue(query.trim());
  const [onlyMatches, setOnlyMatches] = useState(false);
  const [current, setCurrent] = useState(-1);
  const [following, setFollowing] = useState(live);
  const scrollRef = useRef<HTMLDivElement>(null);
  const byViewer = useRef(false);

  // Matches grow with the log: scan only the lines added since the last look.
  const scan = useRef<{ q: string; lines: LogLine[] | null; scanned: number; matches: number[] }>({ q: '', lines: null, scanned: 0, matches: [] });
  const matches = useMemo(() => {
    const s = scan.current;
    if (s.q !== q || s.lines !== lines || lines.length < s.scanned) scan.current = { q, lines, scanned: 0, matches: [] };
    const state = scan.current;
    if (q && state.scanned < lines.length) {
      state.matches = findMatches(lines, q, state.scanned, state.matches.slice());
      state.scanned = lines.length;
    }
    return state.matches;
  }, [q, lines, version]);

  useEffect(() => setCurrent(-1), [q]);

  const filtered = onlyMatches && q ? matches : null;
  const count = filtered ? filtered.length : lines.length;
  const lineAt = (row: number) => lines[filtered ? filtered[row]! : row]!;

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => LOG_ROW_HEIGHT,
    overscan: 25,
  });

  const scrollToEnd = () => {
    const el = scrollRef.current;
    if (!el) return;
    const target = el.scrollHeight - el.clientHeight;
    if (Math.abs(el.scrollTop - target) > 1) {
      byViewer.current = true;
      el.scrollTop = target;
    }
  };

  // Keep up with new lines while following.
  useLayoutEffect(() => {
    if (following) scrollToEnd();
  }, [following, count, version]);

  const onScroll = () => {
    const el = scrollRef.current!;
    const atEnd = isAtEnd(el.scrollTop, el.clientHeight, el.scrollHeight, LOG_ROW_HEIGHT);
    const viewer = byViewer.current;
    byViewer.current = false;
    setFollowing((f) => followAfterScroll(f, { atEnd, byViewer: viewer }));
  };

  const goToMatch = (direction: 1 | -1) => {
    const next = stepMatch(current, matches.length, direction);
    setCurrent(next);
    if (next < 0) return;
    setFollowing(false);
    byViewer.current = true;
    virtualizer.scrollToIndex(filtered ? next : matches[next]!, { align: 'center' });
  };

  const jumpToStart = () => {
    setFollowing(false);
    byViewer.current = true;
    virtualizer.scrollToOffset(0);
  };

  const download = () => {
    const url = URL.createObjectURL(new Blob([logText(lines)], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${downloadName}.log`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  // Marks for the browser benchmark: first rows on screen, and the whole log loaded.
  const marked = useRef({ rows: false, complete: false });
  useEffect(() => {
    if (!marked.current.rows && lines.length > 0) {
      marked.current.rows = true;
      performance.mark('topas:log-rows');
    }
    if (!marked.current.complete && status === 'complete') {
      marked.current.complete = true;
      performance.mark('topas:log-complete');
    }
  }, [version, status, lines.length]);

  const currentLineIndex = current >= 0 ? matches[current] : undefined;
  const items = virtualizer.getVirtualItems();
  const scrollTop = virtualizer.scrollOffset ?? 0;
  const viewport = virtualizer.scrollRect?.height ?? 0;
  const shown = visibleLines(scrollTop, viewport, LOG_ROW_HEIGHT, count);
  const gutter = `${gutterChars(lines.length ? lines[lines.length - 1]!.seq : 0) + 1}ch`;
  const streaming = status === 'streaming' || status === 'reconnecting' || (status === 'loading' && live);

  return (
    <div className="log-viewer">
      <div className="log-toolbar" role="toolbar" aria-label="Log tools">
        <label className="visually-hidden" htmlFor="log-search">
          Search the log
        </label>
        <input
          id="log-search"
          type="search"
          placeholder="Search the log"
          title="Enter: next match, Shift+Enter: previous, Escape: clear"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              goToMatch(e.shiftKey ? -1 : 1);
            } else if (e.key === 'Escape') setQuery('');
          }}
        />
        <button type="button" className="small" onClick={() => goToMatch(-1)} disabled={!matches.length} aria-label="Previous match">
          ↑
        </button>
        <button type="button" className="small" onClick={() => goToMatch(1)} disabled={!matches.length} aria-label="Next match">
          ↓
        </button>
        <span className="log-status" aria-live="polite" data-testid="log-matches">
          {q ? (matches.length ? `${current >= 0 ? `${formatCount(current + 1)} of ` : ''}${formatCount(matches.length)} match${matches.length === 1 ? '' : 'es'}` : 'no matches') : ''}
        </span>
        <label style={{ fontWeight: 400, display: 'inline-flex', gap: 4, alignItems: 'center' }}>
          <input type="checkbox" checked={onlyMatches} onChange={(e) => setOnlyMatches(e.target.checked)} disabled={!q} />
          Only matching lines
        </label>
        <span className="spacer" />
        <button type="button" className="small" onClick={jumpToStart} disabled={!count}>
          Top
        </button>
        {streaming ? (
          <button type="button" className="small" aria-pressed={following} onClick={() => setFollowing((f) => !f)} data-testid="follow-toggle">
            {following ? 'Following' : 'Follow'}
          </button>
        ) : (
          <button type="button" className="small" onClick={() => (following ? scrollToEnd() : setFollowing(true))} disabled={!count} data-testid="log-end">
            End
          </button>
        )}
        <button type="button" className="small" onClick={download} disabled={!lines.length}>
          Download
        </button>
      </div>
      <div
        ref={scrollRef}
        className="log-scroll"
        role="log"
        aria-live="off"
        aria-label={`Log, ${formatCount(lines.length)} lines`}
        tabIndex={0}
        onScroll={onScroll}
        style={{ height: `min(60vh, ${Math.max(160, count * LOG_ROW_HEIGHT + 2)}px)` }}
        data-testid="log-scroll"
      >
        {count === 0 ? (
          <div className="log-empty" role="status">
            {status === 'loading' ? 'Loading the log…' : status === 'error' ? 'The log could not be read.' : q && filtered ? 'No line matches.' : streaming ? 'Waiting for the first line…' : (emptyText ?? 'This run wrote no log lines.')}
          </div>
        ) : (
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative', minWidth: '100%' }}>
            {items.map((item) => {
              const line = lineAt(item.index);
              const index = filtered ? filtered[item.index]! : item.index;
              return <LogRow key={line.seq} line={line} top={item.start} query={q} current={index === currentLineIndex} gutter={gutter} />;
            })}
          </div>
        )}
      </div>
      <div className="log-toolbar" style={{ borderTop: '1px solid var(--border)', borderBottom: 0 }}>
        <span className="log-status" data-testid="log-status">
          {filtered
            ? `${formatCount(count)} matching line${count === 1 ? '' : 's'} of ${formatCount(lines.length)}`
            : count
              ? `Lines ${formatCount(shown.first)}–${formatCount(shown.last)} of ${formatCount(count)}`
              : ''}
          {status === 'streaming' && ' · live'}
          {status === 'reconnecting' && ' · reconnecting…'}
          {status === 'loading' && ' · loading…'}
          {status === 'error' && ' · could not read the log'}
        </span>
      </div>
    </div>
  );
}

const LogRow = memo(function LogRow({ line, top, query, current, gutter }: { line: LogLine; top: number; query: string; current: boolean; gutter: string }) {
  return (
    <div className={`log-row level-${line.level}${current ? ' current' : ''}`} style={{ transform: `translateY(${top}px)` }} data-seq={line.seq}>
      <span className="log-ln" style={{ width: gutter }}>
        {line.seq}
      </span>
      <span className="log-ts">{formatClock(line.ts)}</span>
      <span className="log-lvl">{line.level.toUpperCase()}</span>
      <span className="log-msg">
        {query ? highlightParts(line.message, query).map((part, i) => (part.match ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>)) : line.message}
      </span>
    </div>
  );
});

/**
 * The maths of the log viewer. Lines are rows of one fixed height, so positions
 * are multiplications (the virtualizer renders only the rows in view, even with
 * millions of lines); following the end while the log grows; search.
 */

/** The 1-based range of lines fully or partly visible ("lines 1,201–1,240 of 100,000"). */
export function visibleLines(scrollTop: number, viewportHeight: number, rowHeight: number, count: number): { first: number; last: number } {
  if (count === 0 || rowHeight <= 0) return { first: 0, last: 0 };
  const top = Math.max(0, scrollTop);
  const first = Math.min(count, Math.floor(top / rowHeight) + 1);
  const last = Math.min(count, Math.max(first, Math.ceil((top + viewportHeight) / rowHeight)));
  return { first, last };
}

/** The scrollTop that shows the last row at the bottom. */
export function scrollTopForEnd(viewportHeight: number, rowHeight: number, count: number): number {
  return Math.max(0, count * rowHeight - viewportHeight);
}

/** The scrollTop that puts row `index` (0-based) in the middle of the view. */
export function scrollTopForRow(index: number, viewportHeight: number, rowHeight: number, count: number): number {
  const centred = index * rowHeight - (viewportHeight - rowHeight) / 2;
  return Math.min(Math.max(0, centred), scrollTopForEnd(viewportHeight, rowHeight, count));
}

/** Whether the view shows the end of the log (within half a row), i.e. it should keep following. */
export function isAtEnd(scrollTop: number, viewportHeight: number, scrollHeight: number, rowHeight: number): boolean {
  return scrollHeight - (scrollTop + viewportHeight) <= rowHeight / 2;
}

/**
 * Whether to keep following the end after a scroll event. A scroll the viewer made
 * itself (to keep up with new lines, or to jump to a match) changes nothing; a
 * scroll by the user follows exactly when it ends at the end of the log, so
 * scrolling up stops following and scrolling back down resumes it.
 */
export function followAfterScroll(following: boolean, scroll: { atEnd: boolean; byViewer: boolean }): boolean {
  return scroll.byViewer ? following : scroll.atEnd;
}

/**
 * Indexes of the lines whose message contains `query` (case-insensitive), scanning
 * from `from` and appending to `into`, so a growing log is searched incrementally.
 */
export function findMatches(lines: ArrayLike<{ message: string }>, query: string, from = 0, into: number[] = []): number[] {
  const needle = query.toLowerCase();
  if (!needle) return into;
  for (let i = from; i < lines.length; i++) if (lines[i]!.message.toLowerCase().includes(needle)) into.push(i);
  return into;
}

/** The next (or previous) match position, wrapping around; -1 when there are no matches. */
export function stepMatch(current: number, total: number, direction: 1 | -1): number {
  if (total === 0) return -1;
  if (current < 0) return direction === 1 ? 0 : total - 1;
  return (current + direction + total) % total;
}

/** Splits `text` into parts with the matches of `query` marked, for highlighting. */
export function highlightParts(text: string, query: string): { text: string; match: boolean }[] {
  if (!query) return [{ text, match: false }];
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  const parts: { text: string; match: boolean }[] = [];
  let at = 0;
  for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, i + needle.length)) {
    if (i > at) parts.push({ text: text.slice(at, i), match: false });
    parts.push({ text: text.slice(i, i + needle.length), match: true });
    at = i + needle.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), match: false });
  return parts;
}

/** Characters the line-number gutter needs for `count` lines (at least 3). */
export function gutterChars(count: number): number {
  return Math.max(3, String(Math.max(0, count)).length);
}

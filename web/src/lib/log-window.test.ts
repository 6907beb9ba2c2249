import { describe, expect, it } from 'vitest';
import { findMatches, followAfterScroll, gutterChars, highlightParts, isAtEnd, scrollTopForEnd, scrollTopForRow, stepMatch, visibleLines } from './log-window';

const ROW = 20;

describe('log window maths', () => {
  it('reports the visible lines of a 100,000-line log at any scroll position', () => {
    expect(visibleLines(0, 400, ROW, 100_000)).toEqual({ first: 1, last: 20 });
    expect(visibleLines(10, 400, ROW, 100_000)).toEqual({ first: 1, last: 21 });
    expect(visibleLines(scrollTopForEnd(400, ROW, 100_000), 400, ROW, 100_000)).toEqual({ first: 99_981, last: 100_000 });
    expect(visibleLines(0, 400, ROW, 5)).toEqual({ first: 1, last: 5 });
    expect(visibleLines(0, 400, ROW, 0)).toEqual({ first: 0, last: 0 });
  });

  it('scrolls to the end and centres a row, clamped to the content', () => {
    expect(scrollTopForEnd(400, ROW, 100_000)).toBe(2_000_000 - 400);
    expect(scrollTopForEnd(400, ROW, 10)).toBe(0);
    expect(scrollTopForRow(50_000, 400, ROW, 100_000)).toBe(50_000 * ROW - 190);
    expect(scrollTopForRow(0, 400, ROW, 100_000)).toBe(0);
    expect(scrollTopForRow(99_999, 400, ROW, 100_000)).toBe(scrollTopForEnd(400, ROW, 100_000));
  });

  it('knows when the view is at the end, within half a row', () => {
    expect(isAtEnd(1600, 400, 2000, ROW)).toBe(true);
    expect(isAtEnd(1591, 400, 2000, ROW)).toBe(true);
    expect(isAtEnd(1580, 400, 2000, ROW)).toBe(false);
    expect(isAtEnd(0, 400, 300, ROW)).toBe(true);
  });

  it('stops following when the user scrolls up, resumes at the end, ignores its own scrolls', () => {
    expect(followAfterScroll(true, { atEnd: false, byViewer: false })).toBe(false);
    expect(followAfterScroll(false, { atEnd: true, byViewer: false })).toBe(true);
    expect(followAfterScroll(true, { atEnd: false, byViewer: true })).toBe(true);
    expect(followAfterScroll(false, { atEnd: true, byViewer: true })).toBe(false);
  });
});

describe('log search', () => {
  const texts = ['GET /health 200', 'error: boom', 'retrying', 'ERROR again', ''].map((message) => ({ message }));
  it('finds matches case-insensitively, incrementally', () => {
    expect(findMatches(texts, 'error')).toEqual([1, 3]);
    expect(findMatches(texts, '')).toEqual([]);
    expect(findMatches(texts, 'r', 2, [0])).toEqual([0, 2, 3]);
  });
  it('steps through matches, wrapping around', () => {
    expect(stepMatch(-1, 3, 1)).toBe(0);
    expect(stepMatch(-1, 3, -1)).toBe(2);
    expect(stepMatch(2, 3, 1)).toBe(0);
    expect(stepMatch(0, 3, -1)).toBe(2);
    expect(stepMatch(0, 0, 1)).toBe(-1);
  });
  it('splits a line into highlighted parts', () => {
    expect(highlightParts('Error: error!', 'error')).toEqual([
      { text: 'Error', match: true },
      { text: ': ', match: false },
      { text: 'error', match: true },
      { text: '!', match: false },
    ]);
    expect(highlightParts('abc', '')).toEqual([{ text: 'abc', match: false }]);
  });
  it('sizes the line-number gutter', () => {
    expect(gutterChars(0)).toBe(3);
    expect(gutterChars(100_000)).toBe(6);
  });
});

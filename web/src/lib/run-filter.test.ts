import { describe, expect, it } from 'vitest';
import { makeRun } from '../testing/fixtures';
import { EMPTY_FILTERS, countFilters, filtersFromSearch, filtersToApiQuery, filtersToSearch, matchesFilters, resolveSince, toggle, type RunFilters } from './run-filter';

const now = new Date('2025-02-01T00:00:00.000Z');

describe('filters ↔ page URL', () => {
  it('round-trips every filter through the URL', () => {
    const filters: RunFilters = {
      phase: ['Failed', 'Error'],
      origin: ['cli', 'crd'],
      app: 'shop',
      labels: ['team=core', 'env=prod'],
      q: 'check out',
      since: '24h',
      until: '2025-01-31T12:00:00.000Z',
      definition: 'def-1',
      category: ['Regression', 'Config Gap'],
    };
    const search = filtersToSearch(filters);
    expect(search.toString()).toBe(
      'phase=Failed%2CError&origin=cli%2Ccrd&app=shop&label=team%3Dcore&label=env%3Dprod&q=check+out&since=24h&until=2025-01-31T12%3A00%3A00.000Z&definition=def-1&category=Regression&category=Config+Gap',
    );
    expect(filtersFromSearch(new URLSearchParams(search.toString()))).toEqual(filters);
  });

  it('writes nothing for empty filters and reads an empty URL as no filters', () => {
    expect(filtersToSearch(EMPTY_FILTERS).toString()).toBe('');
    expect(filtersFromSearch(new URLSearchParams(''))).toEqual(EMPTY_FILTERS);
  });

  it('accepts repeated and comma-separated values, in canonical order, without duplicates', () => {
    const f = filtersFromSearch(new URLSearchParams('phase=Error&phase=Failed,Passed,Failed&origin=crd,api'));
    expect(f.phase).toEqual(['Passed', 'Failed', 'Error']);
    expect(f.origin).toEqual(['api', 'crd']);
  });

  it('drops what it cannot understand instead of sending it to the API', () => {
    const f = filtersFromSearch(new URLSearchParams('phase=Succeeded,Failed&origin=cron&label=novalue&label==x&since=yesterday&until=soon'));
    expect(f).toEqual({ ...EMPTY_FILTERS, phase: ['Failed'] });
  });

  it('keeps an absolute since as given', () => {
    expect(filtersFromSearch(new URLSearchParams('since=2025-01-01T00:00:00Z')).since).toBe('2025-01-01T00:00:00Z');
  });
});

describe('the category filter', () => {
  it('repeats `category` in the URL and the API query, keeps commas in a name, and matches runs of any of them', () => {
    const f = filtersFromSearch(new URLSearchParams('category=Regression&category=Gap%2C+config&category=Regression&category=+'));
    expect(f.category).toEqual(['Regression', 'Gap, config']);
    expect(filtersToApiQuery(f, now).getAll('category')).toEqual(['Regression', 'Gap, config']);
    expect(countFilters(f)).toBe(1);
    expect(matchesFilters(makeRun({ phase: 'Failed', category: 'Regression' }), f, now)).toBe(true);
    expect(matchesFilters(makeRun({ phase: 'Failed', category: 'Platform Issue' }), f, now)).toBe(false);
    expect(matchesFilters(makeRun({ phase: 'Passed', category: null }), f, now)).toBe(false);
  });
});

describe('filters → API query', () => {
  it('resolves a relative range against now and normalises times', () => {
    const q = filtersToApiQuery({ ...EMPTY_FILTERS, phase: ['Failed'], since: '24h', until: '2025-01-31T13:00:00+01:00', labels: ['team=core'] }, now);
    expect(Object.fromEntries(q)).toEqual({ phase: 'Failed', since: '2025-01-31T00:00:00.000Z', until: '2025-01-31T12:00:00.000Z', label: 'team=core' });
  });

  it('resolves ranges', () => {
    expect(resolveSince('1h', now)).toBe('2025-01-31T23:00:00.000Z');
    expect(resolveSince('7d', now)).toBe('2025-01-25T00:00:00.000Z');
    expect(resolveSince('', now)).toBe('');
  });
});

describe('matchesFilters (client-side, for runs refreshed by id)', () => {
  const run = makeRun({ phase: 'Failed', origin: 'crd', appName: 'shop', labels: { team: 'core' }, name: 'Checkout-smoke', createdAt: '2025-01-31T12:00:00.000Z' });
  it('matches like the API does', () => {
    expect(matchesFilters(run, EMPTY_FILTERS, now)).toBe(true);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, phase: ['Failed'], origin: ['crd'], app: 'shop', labels: ['team=core'], q: 'checkout', since: '24h' }, now)).toBe(true);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, phase: ['Passed'] }, now)).toBe(false);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, labels: ['team=web'] }, now)).toBe(false);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, since: '1h' }, now)).toBe(false);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, until: '2025-01-31T12:00:00.000Z' }, now)).toBe(false);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, definition: 'd1' }, now)).toBe(false);
  });
});

describe('helpers', () => {
  it('counts set filters and toggles values in canonical order', () => {
    expect(countFilters({ ...EMPTY_FILTERS, phase: ['Failed', 'Error'], labels: ['a=b', 'c=d'] })).toBe(3);
    expect(toggle(['Failed'], 'Passed', ['Passed', 'Failed'])).toEqual(['Passed', 'Failed']);
    expect(toggle(['Passed', 'Failed'], 'Passed', ['Passed', 'Failed'])).toEqual(['Failed']);
  });
});

// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeFetch, renderAt } from '../testing/render';
import { makeTestSummary } from '../testing/test-results-fixtures';
import TestsPage from './tests-page';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const location = () => decodeURIComponent(screen.getByTestId('location').textContent!);

describe('the Tests page', () => {
  it('shows each test with its outcome strip, pass rate, flakiness, durations and last failure', async () => {
    const api = fakeFetch({ '/api/tests': { items: [makeTestSummary(), makeTestSummary({ id: 'b', name: 'login', key: 'login.lua::login', flaky: false, flakiness: 0, lastFailure: null, recent: ['Passed'], passRate: 1 })], nextCursor: null } });
    vi.stubGlobal('fetch', api.fetch);
    renderAt('/tests', '/tests', <TestsPage />);
    const rows = await screen.findAllByTestId('test-row');
    expect(rows).toHaveLength(2);
    const flaky = rows[0]!;
    expect(within(flaky).getByRole('link', { name: 'checkout / pay' }).getAttribute('href')).toBe('/tests/5f0c2e9b11a0b1c2');
    const strip = within(flaky).getByTestId('outcome-strip');
    // Newest first, said in words for screen readers; each square carries its outcome as a title.
    expect(strip.getAttribute('aria-label')).toBe('Last 6 outcomes, newest first: failed, passed, failed, passed, skipped, passed');
    expect([...strip.children].map((c) => c.getAttribute('title'))).toEqual(['Failed (newest)', 'Passed', 'Failed', 'Passed', 'Skipped', 'Passed']);
    expect(flaky.textContent).toContain('60%');
    expect(within(flaky).getByTestId('flaky-badge').textContent).toBe('FLAKY 75%');
    expect(flaky.textContent).toContain('120 ms · 480 ms');
    // The last failure: category and the message's first line, all of it as the title.
    expect(within(flaky).getByTestId('category-badge').textContent).toBe('Config Gap');
    const message = within(flaky).getByText('payment declined');
    expect(message.getAttribute('title')).toBe('payment declined\nexpected: 200\nactual: 402');
    expect(rows[1]!.textContent).toContain('never failed');
    expect(within(rows[1]!).queryByTestId('flaky-badge')).toBeNull();
  });

  it('reads its filters from the URL, asks the API with them, and writes changes back', async () => {
    const api = fakeFetch({ '/api/tests': { items: [makeTestSummary({ quarantine: { at: '2025-01-31T12:00:00.000Z', by: 'alice', reason: 'upstream is flaky' } })], nextCursor: null } });
    vi.stubGlobal('fetch', api.fetch);
    renderAt('/tests?flaky=true&category=Config%20Gap&origin=import', '/tests', <TestsPage />);
    await screen.findAllByTestId('test-row');
    expect(api.calls.find((c) => c.startsWith('/api/tests'))).toBe('/api/tests?origin=import&category=Config+Gap&flaky=true&limit=50');
    expect(screen.getByRole('button', { name: 'Flaky' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('quarantine-badge').getAttribute('title')).toContain('by alice');
    fireEvent.click(screen.getByRole('button', { name: 'Quarantined' }));
    await waitFor(() => expect(location()).toBe('/tests?origin=import&category=Config+Gap&flaky=true&quarantined=true'));
    await waitFor(() => expect(api.calls).toContain('/api/tests?origin=import&category=Config+Gap&flaky=true&quarantined=true&limit=50'));
  });

  it('loads the next keyset page on "Load more"', async () => {
    const api = fakeFetch({
      '/api/tests': (url: URL) =>
        url.searchParams.get('cursor') === 'next' ? { items: [makeTestSummary({ id: 'second', name: 'second page' })], nextCursor: null } : { items: [makeTestSummary()], nextCursor: 'next' },
    });
    vi.stubGlobal('fetch', api.fetch);
    renderAt('/tests', '/tests', <TestsPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Load more' }));
    await screen.findByRole('link', { name: 'second page' });
    expect(screen.getAllByTestId('test-row')).toHaveLength(2);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });
});

// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Identity, Role } from '../api/types';
import { SessionContext } from '../hooks/use-session';
import { apiError, fakeFetch, renderAt } from '../testing/render';
import { FAILED_RUN, PASSED_RUN, TEST_ID, makeResult, makeTestDetail, makeTestSummary } from '../testing/test-results-fixtures';
import TestPage from './test-page';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const as = (role: Role): Identity => ({ name: `a-${role}`, role, tokenId: 't1', via: 'cookie' });

function renderTest(role: Role, routes: Record<string, unknown> = {}) {
  const api = fakeFetch({
    [`GET /api/tests/${TEST_ID}`]: makeTestDetail(),
    // Untimed results: jsdom draws no canvas (the duration chart is in the browser tests).
    [`/api/tests/${TEST_ID}/history`]: (url: URL) =>
      url.searchParams.get('cursor') === 'older'
        ? { items: [makeResult({ runId: 'older-run', runName: 'older', outcome: 'Passed', runPhase: 'Passed', message: null, category: null, durationMs: null })], nextCursor: null }
        : { items: [makeResult({ durationMs: null }), makeResult({ runId: PASSED_RUN, outcome: 'Passed', runPhase: 'Passed', message: null, category: null, categoryRule: null, durationMs: null, quarantined: false })], nextCursor: 'older' },
    ...routes,
  });
  vi.stubGlobal('fetch', api.fetch);
  renderAt(
    `/tests/${TEST_ID}`,
    '/tests/:id',
    <SessionContext.Provider value={as(role)}>
      <TestPage />
    </SessionContext.Provider>,
  );
  return api;
}

describe('a test’s page', () => {
  it('shows the flaky evidence: how many flips, the runs where it flipped, the revision that both passed and failed', async () => {
    renderTest('viewer');
    const evidence = await screen.findByTestId('flaky-evidence');
    expect(evidence.textContent).toContain('flipped between passed and failed 3 times in its last 30 outcomes');
    expect(within(evidence).getAllByRole('link').map((a) => a.getAttribute('href'))).toEqual([`/runs/${FAILED_RUN}`, `/runs/${PASSED_RUN}`, `/runs/${PASSED_RUN}`, `/runs/${FAILED_RUN}`]);
    expect(within(evidence).getByTestId('flaky-revision').textContent).toContain('abc123');
    expect(screen.getByTestId('test-last-failure').textContent).toContain('payment declined');
  });

  it('lists its history newest first with outcome, run, message and category, and loads more', async () => {
    renderTest('viewer');
    const rows = await screen.findAllByTestId('history-row');
    expect(rows.map((r) => r.getAttribute('data-outcome'))).toEqual(['Failed', 'Passed']);
    expect(within(rows[0]!).getByRole('link', { name: 'checkout-smoke' }).getAttribute('href')).toBe(`/runs/${FAILED_RUN}`);
    expect(within(rows[0]!).getByText('payment declined').getAttribute('title')).toBe('payment declined\ncheckout.lua:12');
    expect(within(rows[0]!).getByTestId('category-badge').getAttribute('title')).toBe('Category Config Gap (rule config-gap)');
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByRole('link', { name: 'older' });
    expect(screen.getAllByTestId('history-row')).toHaveLength(3);
  });

  it('quarantines with a reason (editor), then offers un-quarantine', async () => {
    // The server's state: what the PUT stores, the next GET reads.
    let stored = makeTestDetail();
    const api = renderTest('editor', {
      [`GET /api/tests/${TEST_ID}`]: () => stored,
      [`PUT /api/tests/${TEST_ID}/quarantine`]: (_url: URL, req: { body: unknown }) => {
        stored = { ...stored, quarantine: { at: '2025-01-31T13:00:00.000Z', by: 'a-editor', reason: (req.body as { reason: string }).reason } };
        return makeTestSummary({ quarantine: stored.quarantine });
      },
      [`DELETE /api/tests/${TEST_ID}/quarantine`]: () => {
        stored = { ...stored, quarantine: null };
        return makeTestSummary();
      },
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Quarantine…' }));
    const submit = screen.getByRole('button', { name: 'Quarantine' }) as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Why quarantine it?'), { target: { value: '  upstream sandbox flaps ' } });
    fireEvent.click(submit);
    await screen.findByRole('button', { name: 'Un-quarantine' });
    expect(api.requests.find((r) => r.method === 'PUT')).toEqual({ method: 'PUT', path: `/api/tests/${TEST_ID}/quarantine`, body: { reason: 'upstream sandbox flaps' } });
    expect(screen.getByTestId('quarantine-card').textContent).toContain('by a-editor: upstream sandbox flaps');
    expect(screen.getByTestId('quarantine-badge')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Un-quarantine' }));
    await screen.findByRole('button', { name: 'Quarantine…' });
    expect(api.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/api/tests/${TEST_ID}/quarantine`]);
    expect(screen.queryByTestId('quarantine-badge')).toBeNull();
  });

  it('shows the server’s refusal next to the form', async () => {
    renderTest('editor', { [`PUT /api/tests/${TEST_ID}/quarantine`]: apiError(400, 'ValidationError', 'reason: must be at most 500 characters') });
    fireEvent.click(await screen.findByRole('button', { name: 'Quarantine…' }));
    fireEvent.change(screen.getByLabelText('Why quarantine it?'), { target: { value: 'x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Quarantine' }));
    expect((await screen.findByRole('alert')).textContent).toContain('reason: must be at most 500 characters');
  });

  it('disables quarantine for a viewer, saying which role it needs', async () => {
    renderTest('viewer');
    const button = (await screen.findByRole('button', { name: 'Quarantine…' })) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(screen.getByRole('tooltip').textContent).toBe('needs the editor role; you are a viewer');
  });

  it('says so when there is no such test', async () => {
    renderTest('viewer', { [`GET /api/tests/${TEST_ID}`]: apiError(404, 'NotFound', `test ${TEST_ID} does not exist`) });
    await waitFor(() => expect(screen.getByText('No such test')).toBeTruthy());
  });
});

// @vitest-environment jsdom
import { cleanup, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CompareResult } from '../api/types';
import { fakeFetch, renderAt } from '../testing/render';
import ComparePage from './compare-page';

const summary = { stepsPassed: 1, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 1, assertionsFailed: 0 };
const result: CompareResult = {
  base: { id: 'aaaaaaaa-0000-7000-8000-000000000000', name: 'checkout', phase: 'Passed', createdAt: '2025-01-31T12:00:00.000Z', durationMs: 1000, summary },
  head: { id: 'bbbbbbbb-0000-7000-8000-000000000000', name: 'checkout', phase: 'Failed', createdAt: '2025-01-31T13:00:00.000Z', durationMs: 1500, summary },
  durationChangeMs: 500,
  steps: {
    newlyFailing: [{ path: ['checkout', 'pay'], base: { status: 'passed', durationMs: 10, message: null, location: null }, head: { status: 'failed', durationMs: 12, message: 'payment declined', location: { file: 'checkout.lua', line: 3 } } }],
    fixed: [],
    stillFailing: [],
    stillPassing: 1,
    added: [],
    removed: [],
  },
  assertions: { newlyFailing: [], fixed: [], stillFailing: [], added: [], removed: [] },
};

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('the Compare page', () => {
  it('asks the API to compare the head with the previous run and shows what newly fails', async () => {
    const api = fakeFetch({ '/api/runs/bbbbbbbb-0000-7000-8000-000000000000/compare': result });
    vi.stubGlobal('fetch', api.fetch);
    renderAt('/compare?head=bbbbbbbb-0000-7000-8000-000000000000', '/compare', <ComparePage />);
    const newly = await screen.findByTestId('compare-newlyFailing');
    expect(api.calls).toContain('/api/runs/bbbbbbbb-0000-7000-8000-000000000000/compare?with=previous');
    expect(newly.textContent).toContain('checkout › pay');
    expect(newly.textContent).toContain('passed → failed');
    expect(newly.textContent).toContain('payment declined (checkout.lua:3)');
    expect(screen.getByTestId('duration-change').textContent).toBe('+500 ms');
    expect(screen.getByTestId('compare-headline').textContent).toBe('1 newly failing · 1 step still passing');
    expect(screen.getByTestId('compare-fixed').textContent).toContain('Nothing that failed before passes now.');
  });

  it('tells two runs of the same minute apart by their shortest distinct id prefixes', async () => {
    // UUIDv7 ids made within 65 s share their first 8 characters.
    const sameMinute: CompareResult = {
      ...result,
      base: { ...result.base, id: '01a229c5-c270-7000-884d-c6b48213a1fa' },
      head: { ...result.head, id: '01a229c5-d9f1-7000-9a0e-0b1c2d3e4f50' },
    };
    vi.stubGlobal('fetch', fakeFetch({ '/api/runs/01a229c5-d9f1-7000-9a0e-0b1c2d3e4f50/compare': sameMinute }).fetch);
    renderAt('/compare?head=01a229c5-d9f1-7000-9a0e-0b1c2d3e4f50', '/compare', <ComparePage />);
    const refs = await screen.findByRole('region', { name: 'The two runs' });
    const shown = [...refs.querySelectorAll('code')].map((c) => c.textContent);
    expect(shown).toEqual(['01a229c5-c', '01a229c5-d']);
  });

  it('says there is nothing to compare with when the run has no previous run', async () => {
    vi.stubGlobal('fetch', fakeFetch({}).fetch);
    renderAt('/compare?head=bbbbbbbb-0000-7000-8000-000000000000&base=previous', '/compare', <ComparePage />);
    await waitFor(() => expect(screen.getByText('Nothing to compare with')).toBeTruthy());
  });

  it('invites picking runs when none is given', () => {
    vi.stubGlobal('fetch', fakeFetch({}).fetch);
    renderAt('/compare', '/compare', <ComparePage />);
    expect(screen.getByText('Pick two runs')).toBeTruthy();
  });
});

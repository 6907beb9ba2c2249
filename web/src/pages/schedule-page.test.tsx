// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Identity } from '../api/types';
import { SessionContext } from '../hooks/use-session';
import { fakeFetch, renderAt } from '../testing/render';
import SchedulePage from './schedule-page';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const runner: Identity = { name: 'ci', role: 'runner', tokenId: 't1', via: 'cookie' };

describe('the Schedule page', () => {
  it('starts a run from a git repository: URL, path and revision as source.git', async () => {
    const api = fakeFetch({
      '/api/definitions': { items: [], nextCursor: null },
      '/api/apps': { items: [] },
      'POST /api/runs': { id: '01a2000f-8c1e-7b3a-9f4e-3d2c1b0a9f8e', name: 'smoke', phase: 'Queued' },
    });
    vi.stubGlobal('fetch', api.fetch);
    renderAt(
      '/schedule',
      '/schedule',
      <SessionContext.Provider value={runner}>
        <SchedulePage />
      </SessionContext.Provider>,
    );
    fireEvent.click(screen.getByLabelText('A git repository'));
    fireEvent.click(screen.getByRole('button', { name: /start/i }));
    expect((await screen.findByRole('alert')).textContent).toContain('Repository: give its https:// URL');
    fireEvent.change(screen.getByLabelText('Repository'), { target: { value: 'https://git.example.com/acme/tests.git' } });
    fireEvent.change(screen.getByLabelText('Path'), { target: { value: 'tests/smoke.lua' } });
    fireEvent.change(screen.getByLabelText('Revision'), { target: { value: 'v1.2.0' } });
    fireEvent.click(screen.getByRole('button', { name: /start/i }));
    await waitFor(() => expect(api.requests.find((r) => r.method === 'POST')).toBeDefined());
    expect(api.requests.find((r) => r.method === 'POST')!.body).toEqual({
      origin: 'ui',
      source: { git: { url: 'https://git.example.com/acme/tests.git', path: 'tests/smoke.lua', revision: 'v1.2.0' } },
    });
  });
});

// @vitest-environment jsdom
import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DefinitionListItem, Identity } from '../api/types';
import { SessionContext } from '../hooks/use-session';
import { fakeFetch, renderAt } from '../testing/render';
import DefinitionsPage from './definitions-page';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const base = { description: '', script: '', files: {}, env: {}, labels: {}, timeoutSeconds: 600, appName: null, createdAt: '2025-01-31T12:00:00.000Z', updatedAt: '2025-01-31T12:00:00.000Z' };
const RUN = '01935c1e-7b7a-7cc0-8a1d-00000000f001';

describe('the Definitions list', () => {
  it('shows each definition’s last result: phase (linking the run), when, and the category of a failure', async () => {
    const items: DefinitionListItem[] = [
      { ...base, id: 'd1', name: 'checkout', lastRun: { id: RUN, phase: 'Failed', finishedAt: new Date(Date.now() - 120_000).toISOString(), category: 'Platform Issue' } },
      { ...base, id: 'd2', name: 'login', lastRun: null },
    ];
    vi.stubGlobal('fetch', fakeFetch({ '/api/definitions': { items, nextCursor: null } }).fetch);
    const viewer: Identity = { name: 'v', role: 'viewer', tokenId: 't', via: 'cookie' };
    renderAt(
      '/definitions',
      '/definitions',
      <SessionContext.Provider value={viewer}>
        <DefinitionsPage />
      </SessionContext.Provider>,
    );
    const cells = await screen.findAllByTestId('definition-last-run');
    expect(within(cells[0]!).getByRole('link', { name: 'Last run: Failed' }).getAttribute('href')).toBe(`/runs/${RUN}`);
    expect(cells[0]!.textContent).toContain('2 min ago');
    expect(within(cells[0]!).getByTestId('category-badge').textContent).toBe('Platform Issue');
    expect(cells[1]!.textContent).toBe('never run');
  });
});

// @vitest-environment jsdom
import { cleanup, screen } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiError, fakeFetch, renderAt } from '../testing/render';

// uPlot reads matchMedia when it loads; jsdom has none. (No chart is drawn here: the periods are empty.)
let OverviewPage: typeof import('./overview-page').default;
beforeAll(async () => {
  window.matchMedia ??= ((query: string) => ({ matches: false, media: query, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} })) as never;
  OverviewPage = (await import('./overview-page')).default;
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const empty = {
  '/api/stats': { queueDepth: 0, activeRunners: 0, concurrency: 4, runsByPhase: {} },
  '/api/insights/trends': { from: '2025-01-25T00:00:00.000Z', to: '2025-02-01T00:00:00.000Z', bucket: 'day', points: [] },
  '/api/insights/top': { mostFailing: [], slowest: [] },
  '/api/insights/categories': { points: [], categories: [] },
};

describe('the Overview’s failures by category and parallelism', () => {
  it('shows the parallelism recommendation and why', async () => {
    vi.stubGlobal('fetch', fakeFetch({ ...empty, '/api/insights/profile': {
          from: '2025-01-25T00:00:00.000Z',
          to: '2025-02-01T00:00:00.000Z',
          items: [],
          basis: { runs: 40, cpuCoresP95: 0.2, peakMemoryBytesP95: 600 * 2 ** 20 },
          budget: { cpuCores: 2, memoryBytes: 2 * 2 ** 30, source: 'configured' },
          recommendation: { parallelism: 3, limitedBy: 'memory', explanation: 'p95 run: 0.2 CPU, 600 MiB; budget 2 CPU, 2 GiB: 3 at once, limited by memory.', fits: { cpu: 10, memory: 3 }, concurrency: 4 },
        }, }).fetch);
    renderAt('/overview', '/overview', <OverviewPage />);
    expect((await screen.findByTestId('profile-parallelism')).textContent).toBe('3 runs at once');
    expect(screen.getByTestId('profile-card').textContent).toContain('limited by memory');
    expect(screen.getByTestId('profile-card').textContent).toContain('budget 2 CPU, 2 GiB');
    await screen.findByText('No test failed in this period.');
  });

  it('shows no parallelism card (and nothing broken) when the server has no profile endpoint', async () => {
    const api = fakeFetch({ ...empty, '/api/insights/profile': apiError(404, 'NotFound', 'no route'), '/api/insights/categories': apiError(404, 'NotFound', 'no route') });
    vi.stubGlobal('fetch', api.fetch);
    renderAt('/overview', '/overview', <OverviewPage />);
    await screen.findByText('This server does not break failures down by category.');
    await screen.findByText('Nothing failed in this period.');
    expect(api.calls).toContain('/api/insights/profile');
    expect(screen.queryByTestId('profile-card')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

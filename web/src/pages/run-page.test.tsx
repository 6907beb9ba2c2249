// @vitest-environment jsdom
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Identity } from '../api/types';
import { SessionContext } from '../hooks/use-session';
import { fakeFetch, renderAt } from '../testing/render';
import { makeRun, makeStep } from '../testing/fixtures';
import RunPage from './run-page';

const viewer: Identity = { name: 'dashboard', role: 'viewer', tokenId: 't1', via: 'cookie' };

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('the Run page of a run whose logs expired', () => {
  it('says log retention deleted the lines (not that the run wrote none), and still shows its steps', async () => {
    const run = makeRun({ logsExpiredAt: '2026-11-23T10:00:00.000Z' });
    const notice = 'The log lines of this run were deleted on 2026-11-23 by log retention (log lines are kept 7 days after a run finishes: TOPAS_LOG_RETENTION_DAYS). Its steps, assertions and results are kept.';
    vi.stubGlobal(
      'fetch',
      fakeFetch({
        [`/api/runs/${run.id}`]: { ...run, steps: [makeStep({ seq: 1, runId: run.id, name: 'pay' })], assertions: [] },
        [`/api/runs/${run.id}/logs`]: { items: [], nextSeq: 0, logsExpiredAt: run.logsExpiredAt, notice },
      }).fetch,
    );
    renderAt(
      `/runs/${run.id}`,
      '/runs/:id',
      <SessionContext.Provider value={viewer}>
        <RunPage />
      </SessionContext.Provider>,
    );
    expect(await screen.findByText(/deleted on 2026-11-23 by log retention \(TOPAS_LOG_RETENTION_DAYS\)\. Its steps, assertions and results are kept\./)).toBeTruthy();
    expect(screen.queryByText('This run wrote no log lines.')).toBeNull();
    expect(screen.getAllByText('pay').length).toBeGreaterThan(0);
  });
});

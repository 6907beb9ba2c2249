// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Definition, Identity, Role } from '../api/types';
import { makeRun } from '../testing/fixtures';
import { apiError, fakeFetch } from '../testing/render';
import { renderApp } from '../testing/render-app';

/** Pages other than Runs load on first visit: give them time on a busy machine. */
const PAGE_LOAD = { timeout: 15_000 };

const RUN_ID = '01935c1e-7b7a-7cc0-8a1d-5f4f0c2e9b11';
const DEF_ID = '01935c1e-0000-7000-8000-0000000000de';
const definition = {
  id: DEF_ID,
  name: 'checkout',
  description: 'the checkout flow',
  script: 'test("t", function() end)',
  files: {},
  // As the API shows it: the secret masked. A run that keeps it and changes BASE_URL could send it elsewhere.
  env: { BASE_URL: 'http://127.0.0.1:8080', API_TOKEN: '***' },
  labels: {},
  timeoutSeconds: 600,
  appName: null,
  createdAt: '2025-01-31T12:00:00.000Z',
  updatedAt: '2025-01-31T12:00:00.000Z',
} as unknown as Definition;

/** A topas API signed in as `role`; writes answer what `writes` says (default: the created run). */
function signedInAs(role: Role, writes: Record<string, unknown> = {}) {
  const identity: Identity = { name: `a-${role}`, role, tokenId: 'tok_1', via: 'cookie' };
  const running = makeRun({ id: RUN_ID, phase: 'Running', finishedAt: null, durationMs: null });
  const created = makeRun({ id: '01935c1e-0000-7000-8000-000000000002', phase: 'Queued' });
  const api = fakeFetch({
    '/healthz': { status: 'ok' },
    'GET /api/session': identity,
    '/api/stats': { queueDepth: 0, activeRunners: 1, concurrency: 4, runsByPhase: {} },
    'GET /api/runs': { items: [running], nextCursor: null },
    [`GET /api/runs/${RUN_ID}`]: { ...running, steps: [], assertions: [] },
    [`/api/runs/${RUN_ID}/logs`]: { items: [], nextSeq: 0 },
    [`GET /api/runs/${created.id}`]: { ...created, steps: [], assertions: [] },
    [`/api/runs/${created.id}/logs`]: { items: [], nextSeq: 0 },
    'GET /api/definitions': { items: [definition], nextCursor: null },
    [`GET /api/definitions/${DEF_ID}`]: definition,
    '/api/apps': { items: [] },
    'POST /api/runs': created,
    [`POST /api/runs/${RUN_ID}/rerun`]: created,
    [`POST /api/runs/${RUN_ID}/cancel`]: { ...running, phase: 'Cancelled' },
    [`POST /api/definitions/${DEF_ID}/runs`]: created,
    ...writes,
  });
  vi.stubGlobal('fetch', api.fetch);
  // A running run is followed over SSE; this page only needs the stream to exist.
  vi.stubGlobal(
    'EventSource',
    class {
      addEventListener() {}
      close() {}
    },
  );
  return api;
}

/** The tooltip that explains why `element` is disabled (its aria-describedby). */
function tooltipOf(element: HTMLElement): string | null {
  const id = element.getAttribute('aria-describedby');
  return id ? (document.getElementById(id)?.textContent ?? null) : null;
}

function expectDisabledWith(element: HTMLElement, reason: string) {
  expect(element.hasAttribute('disabled') || element.getAttribute('aria-disabled') === 'true').toBe(true);
  expect(tooltipOf(element)).toBe(reason);
}

beforeAll(() => {
  // jsdom lays nothing out; the script editor measures text ranges: give it empty boxes.
  Range.prototype.getClientRects ??= () => ({ length: 0, item: () => null, [Symbol.iterator]: [][Symbol.iterator] }) as unknown as DOMRectList;
  Range.prototype.getBoundingClientRect ??= () => new DOMRect();
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('what a viewer sees', () => {
  const VIEWER = 'needs the runner role; you are a viewer';

  it('cannot schedule: Start run and Schedule a run are disabled, with the role they need', async () => {
    const api = signedInAs('viewer');
    renderApp('/runs');
    expectDisabledWith(await screen.findByRole('link', { name: 'Schedule a run' }), VIEWER);
    fireEvent.click(screen.getByRole('link', { name: 'Schedule a run' }));
    expect(screen.getByTestId('location').textContent).toBe('/runs');

    fireEvent.click(screen.getByRole('link', { name: 'Schedule' }));
    const start = await screen.findByRole('button', { name: 'Start run' }, PAGE_LOAD);
    expectDisabledWith(start, VIEWER);
    expect(screen.getByRole('tooltip').textContent).toBe(VIEWER);
    fireEvent.submit(screen.getByRole('form', { name: 'New run' }));
    expect(api.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('cannot cancel or rerun a run', async () => {
    signedInAs('viewer');
    renderApp(`/runs/${RUN_ID}`);
    expectDisabledWith(await screen.findByRole('button', { name: 'Re-run' }, PAGE_LOAD), VIEWER);
    expectDisabledWith(screen.getByRole('button', { name: 'Cancel' }), VIEWER);
  });

  it('reads a definition but cannot change, delete, create or run it', async () => {
    signedInAs('viewer');
    renderApp('/definitions');
    expectDisabledWith(await screen.findByRole('link', { name: 'New definition' }, PAGE_LOAD), 'needs the editor role; you are a viewer');

    fireEvent.click(await screen.findByRole('link', { name: 'checkout' }));
    expectDisabledWith(await screen.findByRole('button', { name: 'Delete' }, PAGE_LOAD), 'needs the editor role; you are a viewer');
    expectDisabledWith(screen.getByRole('button', { name: 'Save' }), 'needs the editor role; you are a viewer');
    expectDisabledWith(screen.getByRole('button', { name: 'Run now' }), VIEWER);
    expect(screen.getByLabelText('Name').matches(':disabled')).toBe(true);
    expect(screen.getByTestId('read-only-note').textContent).toBe('Read only: changing definitions needs the editor role; you are a viewer.');
  });
});

describe('what a runner sees', () => {
  it('schedules a run', async () => {
    const api = signedInAs('runner');
    renderApp('/schedule');
    const start = await screen.findByRole('button', { name: 'Start run' }, PAGE_LOAD);
    expect(start.hasAttribute('disabled')).toBe(false);
    expect(screen.queryByRole('tooltip')).toBeNull();
    fireEvent.click(start);
    await waitFor(() => expect(api.requests.some((r) => r.method === 'POST' && r.path === '/api/runs')).toBe(true));
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/runs/01935c1e-0000-7000-8000-000000000002'), PAGE_LOAD);
  });

  it('schedules a stored definition as it is, but not with another environment or App', async () => {
    signedInAs('runner');
    renderApp(`/schedule?definition=${DEF_ID}`);
    await screen.findByRole('option', { name: 'checkout' }, PAGE_LOAD);
    expect(screen.getByRole('button', { name: 'Start run' }).hasAttribute('disabled')).toBe(false);
    fireEvent.change(screen.getByLabelText('Environment'), { target: { value: 'BASE_URL=http://elsewhere.example' } });
    expectDisabledWith(screen.getByRole('button', { name: 'Start run' }), 'needs the editor role; you are a runner');
    fireEvent.change(screen.getByLabelText('Environment'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('App'), { target: { value: 'other-app' } });
    expectDisabledWith(screen.getByRole('button', { name: 'Start run' }), 'needs the editor role; you are a runner');
  });

  it('runs a definition as it is, but cannot edit it, nor run it with overrides', async () => {
    const api = signedInAs('runner');
    renderApp(`/definitions/${DEF_ID}`);
    expectDisabledWith(await screen.findByRole('button', { name: 'Save' }, PAGE_LOAD), 'needs the editor role; you are a runner');
    expectDisabledWith(screen.getByRole('button', { name: 'Delete' }), 'needs the editor role; you are a runner');
    expect(screen.getByLabelText('Description').matches(':disabled')).toBe(true);

    const runNow = screen.getByRole('button', { name: 'Run now' });
    expect(runNow.hasAttribute('disabled')).toBe(false);
    fireEvent.change(screen.getByLabelText('Environment overrides'), { target: { value: 'BASE_URL=http://elsewhere.example' } });
    expectDisabledWith(screen.getByRole('button', { name: 'Run now' }), 'needs the editor role; you are a runner');

    fireEvent.change(screen.getByLabelText('Environment overrides'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run now' }));
    await waitFor(() => expect(api.requests).toContainEqual({ method: 'POST', path: `/api/definitions/${DEF_ID}/runs`, body: { origin: 'ui' } }));
  });

  it('sees the server refusal (403) next to the action, and the page stays', async () => {
    signedInAs('runner', { [`POST /api/runs/${RUN_ID}/rerun`]: apiError(403, 'Forbidden', 'rerunning with changes needs the editor role; you are a runner') });
    renderApp(`/runs/${RUN_ID}`);
    fireEvent.click(await screen.findByRole('button', { name: 'Re-run' }, PAGE_LOAD));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('rerunning with changes needs the editor role; you are a runner (HTTP 403, Forbidden)');
    expect(screen.getByRole('button', { name: 'Re-run' })).toBeTruthy();
    expect(screen.getByTestId('location').textContent).toBe(`/runs/${RUN_ID}`);
  });
});

describe('what an editor sees', () => {
  it('can change a definition and run it with overrides', async () => {
    signedInAs('editor');
    renderApp(`/definitions/${DEF_ID}`);
    const del = await screen.findByRole('button', { name: 'Delete' }, PAGE_LOAD);
    expect(del.hasAttribute('disabled')).toBe(false);
    expect(screen.getByLabelText('Description').matches(':disabled')).toBe(false);
    fireEvent.change(screen.getByLabelText('Environment overrides'), { target: { value: 'BASE_URL=http://elsewhere.example' } });
    expect(screen.getByRole('button', { name: 'Run now' }).hasAttribute('disabled')).toBe(false);
    expect(screen.queryByRole('tooltip')).toBeNull();
  });
});

// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Identity } from '../api/types';
import { makeRun } from '../testing/fixtures';
import { apiError, fakeFetch, reply } from '../testing/render';
import { renderApp } from '../testing/render-app';

const ADMIN: Identity = { name: 'admin', role: 'admin', tokenId: 'tok_admin', via: 'cookie' };
const unauthorized = () => apiError(401, 'Unauthorized', 'log in: no valid session or token');

/**
 * A topas API that knows one token (`good`) and, after it is exchanged, a session;
 * everything but the health check answers 401 without it, as the server does.
 */
function fakeServer(options: { identity?: Identity } = {}) {
  const server = { session: null as Identity | null };
  const run = makeRun({ id: '01935c1e-7b7a-7cc0-8a1d-5f4f0c2e9b11', name: 'checkout-smoke', phase: 'Passed' });
  const authed = (body: unknown) => () => (server.session ? body : unauthorized());
  const api = fakeFetch({
    '/healthz': { status: 'ok' },
    'GET /api/session': () => server.session ?? unauthorized(),
    'POST /api/session': (_url: URL, request: { body: unknown }) =>
      (request.body as { token?: string }).token === 'good' ? (server.session = options.identity ?? ADMIN) : apiError(401, 'Unauthorized', 'that token is not valid'),
    'DELETE /api/session': () => {
      server.session = null;
      return reply(204);
    },
    '/api/stats': authed({ queueDepth: 0, activeRunners: 0, concurrency: 4, runsByPhase: {} }),
    '/api/runs': authed({ items: [run], nextCursor: null }),
    [`GET /api/runs/${run.id}`]: authed({ ...run, steps: [], assertions: [] }),
    [`/api/runs/${run.id}/logs`]: authed({ items: [], nextSeq: 0 }),
    [`POST /api/runs/${run.id}/rerun`]: authed(makeRun({ id: '01935c1e-0000-7000-8000-000000000002' })),
  });
  vi.stubGlobal('fetch', api.fetch);
  return { server, api, run };
}

/** Pages other than Runs load on first visit: give them time on a busy machine. */
const PAGE_LOAD = { timeout: 15_000 };
const location = () => screen.getByTestId('location').textContent;

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('the login page', () => {
  it('is shown without a session, at the URL asked for, and the page asked for follows a good token', async () => {
    const { api } = fakeServer();
    renderApp('/runs?phase=Passed');
    await screen.findByRole('heading', { name: 'Log in to topas' });
    expect(location()).toBe('/runs?phase=Passed');
    expect(screen.getByText('npx topas token create --role viewer --name me')).toBeTruthy();
    expect(screen.queryByRole('navigation', { name: 'Main' })).toBeNull();

    fireEvent.change(screen.getByLabelText('Token'), { target: { value: '  good\n' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));

    await screen.findByRole('heading', { name: 'Runs' });
    await waitFor(() => expect(api.calls.some((c) => c.startsWith('/api/runs?') && c.includes('phase=Passed'))).toBe(true));
    expect(location()).toBe('/runs?phase=Passed');
    expect(api.requests).toContainEqual({ method: 'POST', path: '/api/session', body: { token: 'good' } });
  });

  it('says a token was not accepted and stays', async () => {
    fakeServer();
    renderApp('/runs');
    fireEvent.change(await screen.findByLabelText('Token'), { target: { value: 'mistyped' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('That token was not accepted: it is mistyped, revoked or expired.');
    expect(screen.getByRole('heading', { name: 'Log in to topas' })).toBeTruthy();
  });

  it('takes the token out of a pasted login URL', async () => {
    const { api } = fakeServer();
    renderApp('/runs');
    fireEvent.change(await screen.findByLabelText('Token'), { target: { value: 'http://127.0.0.1:4000/?token=good' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByRole('heading', { name: 'Runs' });
    expect(api.requests).toContainEqual({ method: 'POST', path: '/api/session', body: { token: 'good' } });
  });

  it('drops a login code the server did not take from the address, and says the link was used or expired', async () => {
    fakeServer();
    renderApp('/runs?phase=Failed&token=used-code');
    expect((await screen.findByTestId('login-notice')).textContent).toContain('That login link was used or expired');
    await waitFor(() => expect(location()).toBe('/runs?phase=Failed'));
  });
});

describe('a session', () => {
  it('shows who is signed in and with which role in the header', async () => {
    const { server } = fakeServer();
    server.session = { name: 'dana', role: 'runner', tokenId: 'tok_1', via: 'cookie' };
    renderApp('/runs');
    const who = await screen.findByTestId('session-identity');
    expect(within(who).getByText('dana')).toBeTruthy();
    expect(within(who).getByTestId('session-role').textContent).toBe('runner');
    expect(within(who).getByRole('button', { name: 'Log out' })).toBeTruthy();
  });

  it('returns to the login page when a request answers 401 (token revoked), keeping the URL, and comes back after logging in', async () => {
    const { server, run } = fakeServer();
    server.session = ADMIN;
    renderApp(`/runs/${run.id}`);
    const rerun = await screen.findByRole('button', { name: 'Re-run' }, PAGE_LOAD);
    server.session = null; // the token was revoked
    fireEvent.click(rerun);
    expect((await screen.findByTestId('login-notice')).textContent).toContain('Your session ended');
    expect(location()).toBe(`/runs/${run.id}`);

    fireEvent.change(screen.getByLabelText('Token'), { target: { value: 'good' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('heading', { name: 'checkout-smoke' }, PAGE_LOAD)).toBeTruthy();
    expect(location()).toBe(`/runs/${run.id}`);
  });

  it('logs out: the session is deleted and the login page follows', async () => {
    const { server, api } = fakeServer();
    server.session = ADMIN;
    renderApp('/runs');
    fireEvent.click(await screen.findByRole('button', { name: 'Log out' }));
    await screen.findByRole('heading', { name: 'Log in to topas' });
    expect(api.requests.some((r) => r.method === 'DELETE' && r.path === '/api/session')).toBe(true);
    expect(screen.queryByTestId('login-notice')).toBeNull();
  });
});

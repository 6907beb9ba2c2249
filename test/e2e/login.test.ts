/**
 * Logging in to the dashboard in a real browser (Chromium via playwright-core)
 * against a real `topas up` with authentication on (the default): the login page
 * without a session, a token pasted there, the identity in the header, a viewer's
 * disabled actions with their tooltip, the one-time login URL, and logging out.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type TopasProcess } from '../topas-process.js';
import { browserSkipReason, newPage, startDashboard, type DashboardUnderTest } from './browser.js';

const skip = browserSkipReason();
if (skip) console.warn(`[e2e] skipping the login browser tests: ${skip}`);

describe.skipIf(skip !== null)(`logging in to the dashboard in a real browser${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let topas: TopasProcess;
  let browser: Browser;

  /** A new token with `role`, as `topas token create` makes it (POST /api/tokens with the admin token). */
  async function createToken(role: string, name: string): Promise<string> {
    const res = await api<{ token: string }>(`${topas.url}/api/tokens`, { body: { role, name } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.token;
  }

  let dashboard: DashboardUnderTest | undefined;

  beforeAll(async () => {
    dashboard = await startDashboard();
    ({ topas, browser } = dashboard);
    if (!topas.token || !topas.loginUrl) throw new Error(`topas up printed no login URL (is authentication off?):\n${topas.output()}`);
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
  });

  it('shows the login page without a session, and the page asked for with the identity in the header after a token', async () => {
    const { page, context, errors } = await newPage(browser);
    try {
      await page.goto(`${topas.url}/runs?phase=Failed`);
      await page.getByRole('heading', { name: 'Log in to topas' }).waitFor();
      expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
      await page.getByRole('textbox', { name: 'Token' }).fill(topas.token!);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/runs?phase=Failed');
      expect(await page.getByTestId('session-role').textContent()).toBe('admin');
      // The session is a cookie the page's scripts cannot read.
      const [cookie] = (await context.cookies()).filter((c) => c.name === 'topas_session');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      expect(await page.evaluate(() => document.cookie)).not.toContain('topas_session');
      // A reload keeps the session.
      await page.reload();
      await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('says a token that is not valid was not accepted', async () => {
    const { page, context } = await newPage(browser);
    try {
      await page.goto(`${topas.url}/runs`);
      await page.getByRole('textbox', { name: 'Token' }).fill('not-a-token');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByText('That token was not accepted').waitFor();
      expect(await page.getByRole('heading', { name: 'Log in to topas' }).count()).toBe(1);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows a viewer who it is, and Schedule disabled with the role it needs; Log out returns to the login page', async () => {
    const viewer = await createToken('viewer', 'e2e-viewer');
    const { page, context, errors } = await newPage(browser);
    try {
      await page.goto(`${topas.url}/schedule`);
      await page.getByRole('textbox', { name: 'Token' }).fill(viewer);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Schedule a run' }).waitFor();
      const who = page.getByTestId('session-identity');
      expect(await who.textContent()).toContain('e2e-viewer');
      expect(await page.getByTestId('session-role').textContent()).toBe('viewer');

      const start = page.getByRole('button', { name: 'Start run' });
      expect(await start.isDisabled()).toBe(true);
      await page.locator('.tooltip-host', { has: start }).hover();
      const tooltip = page.getByRole('tooltip', { name: 'needs the runner role; you are a viewer' });
      await tooltip.waitFor({ state: 'visible' });
      // Keyboard users get the same sentence: the disabled button's wrapper takes focus.
      await page.mouse.move(0, 0);
      await page.locator('.tooltip-host', { has: start }).focus();
      await tooltip.waitFor({ state: 'visible' });

      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('heading', { name: 'Log in to topas' }).waitFor();
      expect((await context.cookies()).filter((c) => c.name === 'topas_session' && c.value)).toEqual([]);
      // The session is gone on the server too: a reload asks again.
      await page.reload();
      await page.getByRole('heading', { name: 'Log in to topas' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('returns to the login page, at the same address, when the session’s token is revoked', async () => {
    const runner = await createToken('runner', 'e2e-revoked');
    const { page, context } = await newPage(browser);
    try {
      await page.goto(`${topas.url}/overview?range=24h`);
      await page.getByRole('textbox', { name: 'Token' }).fill(runner);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByTestId('session-identity').filter({ hasText: 'e2e-revoked' }).waitFor();
      expect((await api(`${topas.url}/api/tokens/e2e-revoked`, { method: 'DELETE' })).status).toBe(204);
      // The page's next request (the header re-reads the queue every 3 s) answers 401.
      await page.getByText('Your session ended').waitFor({ timeout: 15_000 });
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/overview?range=24h');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('logs in with the login URL once; opened again, it says the link was used and leaves the address bar', async () => {
    const loginUrl = topas.loginUrl!;
    const { page, context } = await newPage(browser);
    try {
      await page.goto(loginUrl);
      await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
      expect(page.url()).not.toContain('token=');
      await context.clearCookies();
      await page.goto(loginUrl);
      await page.getByText('That login link was used or expired').waitFor();
      expect(page.url()).not.toContain('token=');
    } finally {
      await context.close();
    }
  }, 60_000);
});

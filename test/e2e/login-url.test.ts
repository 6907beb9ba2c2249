/**
 * The one-time login URL `topas up` prints, in a real browser: opening it logs the
 * browser in (an HttpOnly session cookie the page's scripts cannot read), the address
 * bar loses the code, and the same URL does nothing a second time.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopasProcess } from '../topas-process.js';
import { browserSkipReason, newPage, startDashboard, type DashboardUnderTest } from './browser.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)(`the login URL in a real browser${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let topas: TopasProcess;
  let browser: Browser;

  let dashboard: DashboardUnderTest | undefined;

  beforeAll(async () => {
    dashboard = await startDashboard();
    ({ topas, browser } = dashboard);
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
  });

  it('logs the browser in once, with a cookie scripts cannot read, and drops the code from the address', async () => {
    expect(topas.loginUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const first = await newPage(browser);
    try {
      await first.page.goto(topas.loginUrl!);
      expect(first.page.url()).toBe(`${topas.url}/`);
      const me = await first.page.evaluate(async () => {
        const res = await fetch('/api/session');
        return { status: res.status, body: await res.json(), cookie: document.cookie };
      });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ name: 'admin', role: 'admin', via: 'cookie' });
      expect(me.cookie).not.toContain('topas_session');
      const cookies = await first.context.cookies();
      expect(cookies.find((c) => c.name === 'topas_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    } finally {
      await first.context.close();
    }

    const second = await newPage(browser);
    try {
      const res = await second.page.goto(topas.loginUrl!);
      expect(res!.status()).toBeLessThan(500); // the dashboard loads (its login page), nothing breaks
      expect(await second.context.cookies()).toEqual([]);
      expect(await second.page.evaluate(async () => (await fetch('/api/session')).status)).toBe(401);
    } finally {
      await second.context.close();
    }
  }, 60_000);
});

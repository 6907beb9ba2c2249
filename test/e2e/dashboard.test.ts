/**
 * The dashboard in a real browser (Chromium via playwright-core) against a real
 * `topas up` on 127.0.0.1 with a temporary data folder. Screenshots of each page
 * (light theme, 1280×800) go to docs/screenshots/ when a file is missing or with
 * TOPAS_SCREENSHOTS=1, so ordinary test runs do not rewrite the committed images.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, until, type TopasProcess } from '../topas-process.js';
import { browserSkipReason, newPage, screenshot, startDashboard, type DashboardUnderTest } from './browser.js';

const FAILING_LUA = fileURLToPath(new URL('../../examples/tests/failing.lua', import.meta.url));

const skip = browserSkipReason();
if (skip) console.warn(`[e2e] skipping the dashboard browser tests: ${skip}`);

const TERMINAL = ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'];

describe.skipIf(skip !== null)(`the dashboard in a real browser${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let topas: TopasProcess;
  let browser: Browser;

  /** The browser logs in with the admin token of the topas under test. */
  const asAdmin = () => ({ url: topas.url, token: topas.token! });

  async function waitForRun(id: string): Promise<any> {
    return until(`run ${id} finished`, async () => {
      const { body } = await api(`${topas.url}/api/runs/${id}`);
      return TERMINAL.includes(body.phase) && body;
    });
  }

  async function startRun(body: Record<string, unknown>): Promise<any> {
    const res = await api(`${topas.url}/api/runs`, { body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return waitForRun(res.body.id);
  }

  let dashboard: DashboardUnderTest | undefined;

  beforeAll(async () => {
    dashboard = await startDashboard(['--concurrency', '8']);
    ({ topas, browser } = dashboard);
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
  });

  it('schedules a run from the UI and follows its live log until it Passed', async () => {
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/schedule`);
      await page.getByRole('heading', { name: 'Schedule a run' }).waitFor();
      await screenshot(page, 'schedule');
      const script = 'test("live", function()\n  for i = 1, 15 do\n    log.info("tick " .. i)\n    sleep(150)\n  end\n  assert(true, "ticked")\nend)\n';
      await page.locator('.cm-content').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(script);
      await page.getByLabel('Name', { exact: true }).fill('e2e-live');
      await page.getByLabel('Labels').fill('suite=e2e');
      await page.getByRole('button', { name: 'Start run' }).click();

      await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
      const id = page.url().split('/').pop()!;
      // The first lines arrive while the run is still Running: the log is live, not loaded at the end.
      await page.locator('.log-row', { hasText: 'tick 1' }).first().waitFor({ timeout: 10_000 });
      expect(await page.getByTestId('run-phase').textContent()).toBe('Running');
      // …and it keeps following to the last line and the final phase, without a reload.
      await page.getByTestId('run-phase').filter({ hasText: 'Passed' }).waitFor({ timeout: 15_000 });
      await page.locator('.log-row', { hasText: 'tick 15' }).waitFor();
      expect(await page.locator('[data-testid=step][data-status=passed]').count()).toBeGreaterThan(0);
      // Search the log: tick 1 and tick 10..15 match; only those lines on request.
      await page.getByLabel('Search the log').fill('tick 1');
      await page.getByTestId('log-matches').filter({ hasText: '7 matches' }).waitFor();
      await page.getByLabel('Search the log').press('Enter');
      await page.getByTestId('log-matches').filter({ hasText: '1 of 7 matches' }).waitFor();
      await page.getByLabel('Only matching lines').check();
      await until('only matching rows', async () => (await page.locator('.log-row').count()) === 7);
      await page.locator('#log-heading').scrollIntoViewIfNeeded();
      await screenshot(page, 'run-log');
      const stored = await api(`${topas.url}/api/runs/${id}`);
      expect(stored.body).toMatchObject({ phase: 'Passed', origin: 'ui', name: 'e2e-live', labels: { suite: 'e2e' } });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows a failing run’s failed assertion with its message and line', async () => {
    const run = await startRun({ script: await readFile(FAILING_LUA, 'utf8'), fileName: 'failing.lua', name: 'checkout-failing', labels: { suite: 'e2e' } });
    expect(run.phase).toBe('Failed');
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/runs/${run.id}`);
      const failed = page.getByTestId('failed-assertion').first();
      await failed.waitFor();
      expect(await failed.textContent()).toContain('expected a total of 30, got 25');
      expect(await failed.textContent()).toContain('failing.lua:12');
      expect(await page.getByTestId('run-phase').textContent()).toBe('Failed');
      // The failed step is expanded, the passing test is not hidden.
      expect(await page.locator('[data-testid=step][data-status=failed]').count()).toBeGreaterThan(0);
      // The script (its editor loads after the rest of the page) marks the failed line.
      await page.locator('.cm-line.failure-line').first().waitFor();
      expect(await page.locator('.cm-line.failure-line').count()).toBe(1);
      expect(await page.locator('.cm-line.failure-line').textContent()).toContain('assert(total == 30');
      await screenshot(page, 'run-failed');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('reloads a filtered Runs URL to the same view', async () => {
    await Promise.all([
      startRun({ script: 'assert(false, "boom")', name: 'filter-fail-a', labels: { suite: 'filters' } }),
      startRun({ script: 'assert(false, "boom")', name: 'filter-fail-b', labels: { suite: 'filters' } }),
      startRun({ script: 'assert(true)', name: 'filter-pass', labels: { suite: 'filters' } }),
      startRun({ script: 'assert(false, "boom")', name: 'filter-other-team', labels: { suite: 'other' } }),
    ]);
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/runs?phase=Failed&label=suite%3Dfilters&q=filter`);
      const rows = page.getByTestId('run-row');
      const expectView = async (phases: string[], names: string[]) => {
        await until('the filtered rows', async () => (await rows.count()) === names.length);
        expect((await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-phase')))).every((p) => phases.includes(p!))).toBe(true);
        expect((await rows.locator('td:nth-child(2) a').allTextContents()).sort()).toEqual(names);
        for (const phase of ['Queued', 'Running', 'Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled']) {
          expect(await page.getByRole('button', { name: phase, exact: true }).getAttribute('aria-pressed'), phase).toBe(String(phases.includes(phase)));
        }
        expect(await page.getByLabel('Name contains').inputValue()).toBe('filter');
        expect(await page.locator('.filter-summary').textContent()).toContain('label suite=filters');
      };
      await expectView(['Failed'], ['filter-fail-a', 'filter-fail-b']);
      await page.reload();
      await expectView(['Failed'], ['filter-fail-a', 'filter-fail-b']);

      // A change made in the page goes to the URL and survives a reload too.
      await page.getByRole('button', { name: 'Passed', exact: true }).click();
      await page.waitForURL(/phase=Passed%2CFailed/);
      await expectView(['Passed', 'Failed'], ['filter-fail-a', 'filter-fail-b', 'filter-pass']);
      await page.reload();
      await expectView(['Passed', 'Failed'], ['filter-fail-a', 'filter-fail-b', 'filter-pass']);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('compares a run with the previous one and shows the newly failing step', async () => {
    const script = [
      'test("checkout", function()',
      '  step("pay", function()',
      '    assert(env.MODE ~= "broken", "payment accepted")',
      '  end)',
      '  step("receipt", function()',
      '    assert(true, "receipt printed")',
      '  end)',
      'end)',
    ].join('\n');
    const def = await api(`${topas.url}/api/definitions`, { body: { name: 'e2e-checkout', script, description: 'Pays and prints a receipt', labels: { team: 'payments' } } });
    expect(def.status).toBe(201);
    const runDefinition = async (mode: string) => {
      const res = await api(`${topas.url}/api/definitions/${def.body.id}/runs`, { body: { env: { MODE: mode } } });
      expect(res.status).toBe(201);
      return waitForRun(res.body.id);
    };
    expect((await runDefinition('ok')).phase).toBe('Passed');
    const broken = await runDefinition('broken');
    expect(broken.phase).toBe('Failed');

    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/runs/${broken.id}`);
      await page.getByTestId('compare-previous').click();
      await page.waitForURL(/\/compare\?head=.*base=previous/);
      const newly = page.getByTestId('compare-newlyFailing');
      await newly.getByTestId('compare-item').first().waitFor();
      expect(await newly.textContent()).toContain('checkout › pay');
      expect(await newly.textContent()).toContain('payment accepted');
      expect(await newly.textContent()).toContain('passed → failed');
      expect(await page.getByTestId('compare-fixed').textContent()).toContain('Nothing that failed before passes now.');
      expect(await page.getByTestId('compare-headline').textContent()).toMatch(/newly failing/);
      await screenshot(page, 'compare');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('creates a definition in the Lua editor and runs it with an env override', async () => {
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/definitions`);
      await page.getByRole('link', { name: 'New definition' }).click();
      await page.getByLabel('Name', { exact: true }).fill('e2e-greeting');
      await page.getByLabel('Description').fill('Greets whoever GREETING names');
      await page.locator('.cm-content').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText('test("greets", function()\n  log.info("hello " .. (env.WHO or "nobody"))\n  assert(env.WHO ~= nil, "WHO is set")\nend)\n');
      // Highlighted as Lua: keywords and strings get their own classes.
      expect(await page.locator('.cm-content span').count()).toBeGreaterThan(3);
      await page.getByRole('button', { name: 'Create' }).click();
      await page.waitForURL(/\/definitions\/[0-9a-f-]{36}$/);
      await page.getByText('Saved', { exact: true }).waitFor();
      await page.getByLabel('Environment overrides').fill('WHO=e2e');
      await page.getByRole('button', { name: 'Run now' }).click();
      await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
      await page.getByTestId('run-phase').filter({ hasText: 'Passed' }).waitFor({ timeout: 15_000 });
      await page.locator('.log-row', { hasText: 'hello e2e' }).waitFor();
      const id = page.url().split('/').pop()!;
      expect((await api(`${topas.url}/api/runs/${id}`)).body).toMatchObject({ origin: 'ui', env: { WHO: 'e2e' }, source: { type: 'definition' } });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('renders every page without errors (and takes the screenshots)', async () => {
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/`);
      await page.waitForURL(/\/runs$/);
      await page.getByTestId('run-row').first().waitFor();
      await screenshot(page, 'runs');

      await page.getByRole('link', { name: 'Overview' }).click();
      await page.getByRole('heading', { name: 'Pass rate' }).waitFor();
      await page.locator('.chart canvas').first().waitFor();
      expect(await page.getByTestId('stat-queue').textContent()).toMatch(/Queued now\d+/);
      await page.getByRole('heading', { name: 'Most failing tests' }).waitFor();
      await page.locator('section', { hasText: 'Most failing tests' }).locator('tbody tr').first().waitFor();
      await screenshot(page, 'overview');

      await page.getByRole('link', { name: 'Definitions' }).click();
      await page.getByTestId('definition-row').first().waitFor();
      await screenshot(page, 'definitions');
      await page.getByRole('link', { name: 'e2e-checkout' }).click();
      await page.getByRole('heading', { name: 'History' }).waitFor();
      await page.getByTestId('run-row').first().waitFor();
      expect(await page.locator('.cm-content').textContent()).toContain('payment accepted');
      expect(await page.locator('.cm-lineNumbers').count()).toBe(1);
      await screenshot(page, 'definition');

      // An App of two replicas of a tiny HTTP server, run by topas as local processes.
      const server = "require('http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[1]), '127.0.0.1')";
      const app = await api(`${topas.url}/api/apps/web-demo`, {
        method: 'PUT',
        body: {
          spec: {
            services: [{ name: 'hello', version: 'v1', replicas: 2, port: 8080, image: 'example/hello:v1', local: { command: [process.execPath, '-e', server, '${port}'], readinessProbe: { httpGet: { path: '/' } } } }],
          },
        },
      });
      expect(app.status, JSON.stringify(app.body)).toBeLessThan(300);
      await until('the App ready', async () => (await api(`${topas.url}/api/apps/web-demo`)).body.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'), 30_000);
      await page.getByRole('link', { name: 'Apps' }).click();
      const card = page.getByTestId('app-card');
      await card.waitFor();
      await card.locator('td', { hasText: '2 / 2' }).waitFor();
      expect(await card.textContent()).toContain('Ready: True');
      await screenshot(page, 'apps');
      expect((await api(`${topas.url}/api/apps/web-demo`, { method: 'DELETE' })).status).toBe(204);

      // A running run, for the live look of the details page.
      const live = await api(`${topas.url}/api/runs`, { body: { name: 'e2e-long', script: 'for i = 1, 200 do log.info("working " .. i) sleep(50) end', labels: { suite: 'e2e' } } });
      await page.goto(`${topas.url}/runs/${live.body.id}`);
      await page.locator('.log-row', { hasText: 'working 5' }).waitFor({ timeout: 10_000 });
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.getByTestId('run-phase').filter({ hasText: 'Cancelled' }).waitFor({ timeout: 10_000 });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  // Last: it stops the server.
  it('says so across the page when the API cannot be reached', async () => {
    const { page, context } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/runs`);
      await page.getByTestId('run-row').first().waitFor();
      topas.child.kill('SIGTERM');
      await topas.exited;
      const banner = page.getByTestId('api-banner');
      await banner.waitFor({ timeout: 15_000 });
      expect(await banner.textContent()).toContain('Cannot reach the topas API');
      // What was loaded stays on screen.
      expect(await page.getByTestId('run-row').count()).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  }, 60_000);
});

/**
 * Triage in a real browser (Chromium) against a real `topas up`: the Tests page and
 * a test's page after alternating runs (flaky), quarantine through the UI turning
 * the next failing run Passed, the Runs failure column and category filter, the
 * Categories page (save, preview, re-apply), the Overview's category chart and
 * parallelism card, and an imported report's IMPORT badge.
 * Screenshots (light theme, 1280×800): tests.png, test.png, categories.png.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, until, type TopasProcess } from '../topas-process.js';
import { browserSkipReason, newPage, screenshot, startDashboard, type DashboardUnderTest } from './browser.js';

const skip = browserSkipReason();
if (skip) console.warn(`[e2e] skipping the results browser tests: ${skip}`);

const TERMINAL = ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'];

/** One test that fails when MODE=fail (with a message a rule knows), one that always passes. */
const SCRIPT = [
  'test("checkout pays", function()',
  '  sleep(env.MODE == "fail" and 40 or 15)',
  '  assert(env.MODE ~= "fail", "payment declined: card expired")',
  'end)',
  'test("cart keeps items", function()',
  '  assert(true, "kept")',
  'end)',
].join('\n');

const RULES_YAML = ['rules:', '  - name: card-expired', '    category: Config Gap', '    match:', '      message:', '        - card expired', ''].join('\n');

describe.skipIf(skip !== null)(`triage in a real browser${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let topas: TopasProcess;
  let browser: Browser;
  let dashboard: DashboardUnderTest | undefined;
  let definitionId: string;
  const asAdmin = () => ({ url: topas.url, token: topas.token! });

  async function runDefinition(mode: string): Promise<any> {
    const res = await api(`${topas.url}/api/definitions/${definitionId}/runs`, { body: { env: { MODE: mode }, labels: { revision: `r-${mode}` } } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return until(`run ${res.body.id} finished`, async () => {
      const { body } = await api(`${topas.url}/api/runs/${res.body.id}`);
      return TERMINAL.includes(body.phase) && body;
    });
  }

  beforeAll(async () => {
    dashboard = await startDashboard(['--concurrency', '4']);
    ({ topas, browser } = dashboard);
    const def = await api(`${topas.url}/api/definitions`, { body: { name: 'e2e-shop', script: SCRIPT, description: 'Pays and keeps a cart' } });
    expect(def.status).toBe(201);
    definitionId = def.body.id;
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
  });

  it('saves category rules in the Categories page, and failures get that category', async () => {
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/categories`);
      await page.getByRole('heading', { name: 'Failure categories' }).waitFor();
      expect(await page.getByTestId('categories-version').textContent()).toContain('shipped defaults');
      await page.getByRole('textbox', { name: /^Rules as YAML/ }).fill(RULES_YAML);
      await page.getByTestId('category-rule').filter({ hasText: 'card-expired' }).waitFor();
      expect(await page.getByTestId('category-rule').count()).toBe(1);
      await page.getByRole('button', { name: 'Save rules' }).click();
      await page.getByTestId('categories-version').filter({ hasText: 'Version' }).waitFor();
      const stored = await api(`${topas.url}/api/categories`);
      expect(stored.body).toMatchObject({ defaults: false, rules: [{ name: 'card-expired', category: 'Config Gap' }] });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('lists a test that alternates pass/fail as flaky on the Tests page, with its strip and last failure', async () => {
    for (const mode of ['ok', 'fail', 'ok', 'fail', 'ok', 'fail']) await runDefinition(mode);
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/runs`);
      await page.getByRole('link', { name: 'Tests', exact: true }).click();
      await page.waitForURL(/\/tests$/);
      const row = page.getByTestId('test-row').filter({ hasText: 'checkout pays' });
      await row.waitFor();
      expect(await row.getAttribute('data-flaky')).toBe('true');
      expect(await row.getByTestId('flaky-badge').textContent()).toMatch(/^FLAKY \d+%$/);
      expect(await row.getByTestId('outcome-strip').getAttribute('aria-label')).toBe('Last 6 outcomes, newest first: failed, passed, failed, passed, failed, passed');
      expect(await row.textContent()).toContain('payment declined: card expired');
      expect(await row.getByTestId('category-badge').textContent()).toBe('Config Gap');
      const steady = page.getByTestId('test-row').filter({ hasText: 'cart keeps items' });
      expect(await steady.getAttribute('data-flaky')).toBe('false');
      expect(await steady.textContent()).toContain('never failed');
      // The flaky filter, in the URL.
      await page.getByRole('button', { name: 'Flaky', exact: true }).click();
      await page.waitForURL(/flaky=true/);
      await until('only the flaky test', async () => (await page.getByTestId('test-row').count()) === 1);
      await page.reload();
      await until('only the flaky test after a reload', async () => (await page.getByTestId('test-row').count()) === 1);
      await page.getByRole('button', { name: 'Flaky', exact: true }).click();
      await until('both tests again', async () => (await page.getByTestId('test-row').count()) === 2);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('shows a test’s history, duration chart and flaky evidence; quarantine through the UI makes the next failing run Passed', async () => {
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/tests?text=checkout`);
      await page.getByRole('link', { name: 'checkout pays' }).click();
      await page.waitForURL(/\/tests\/[0-9a-f]+$/);
      await page.getByRole('heading', { name: 'checkout pays' }).waitFor();
      await until('six results', async () => (await page.getByTestId('history-row').count()) === 6);
      expect(await page.getByTestId('history-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-outcome')))).toEqual(['Failed', 'Passed', 'Failed', 'Passed', 'Failed', 'Passed']);
      expect(await page.getByTestId('history-row').first().textContent()).toContain('payment declined: card expired');
      await page.locator('section', { hasText: 'Duration' }).locator('.chart canvas').first().waitFor();
      const evidence = await page.getByTestId('flaky-evidence').textContent();
      expect(evidence).toMatch(/Yes\. Its outcome flipped between passed and failed 5 times/);
      await screenshot(page, 'test');

      // Quarantine it, with a reason, from the page.
      await page.getByRole('button', { name: 'Quarantine…' }).click();
      await page.getByLabel('Why quarantine it?').fill('card sandbox expires cards at random; tracked in SHOP-12');
      await page.getByRole('button', { name: 'Quarantine', exact: true }).click();
      await page.getByRole('button', { name: 'Un-quarantine' }).waitFor();
      await page.getByTestId('quarantine-badge').first().waitFor();

      // The next failing run passes, with its quarantined failure shown apart.
      const run = await runDefinition('fail');
      expect(run.phase).toBe('Passed');
      expect(run.summary.quarantinedFailures).toBe(1);
      await page.goto(`${topas.url}/runs/${run.id}`);
      await page.getByTestId('run-phase').filter({ hasText: 'Passed' }).waitFor();
      expect(await page.getByTestId('run-quarantined').textContent()).toContain('1 quarantined failure');
      const apart = page.getByTestId('quarantined-failure');
      await apart.first().waitFor();
      expect(await apart.count()).toBe(1);
      expect(await apart.textContent()).toContain('checkout pays');
      expect(await apart.textContent()).toContain('payment declined: card expired');

      // …and in the list, the run says why it is Passed with a failure in it.
      await page.goto(`${topas.url}/runs?definition=${definitionId}`);
      const passedRow = page.getByTestId('run-row').first();
      await passedRow.waitFor();
      expect(await passedRow.getByTestId('run-quarantined').textContent()).toBe('1 quarantined failure');

      // The Tests page marks it quarantined.
      await page.goto(`${topas.url}/tests`);
      const row = page.getByTestId('test-row').filter({ hasText: 'checkout pays' });
      await row.getByTestId('quarantine-badge').waitFor();
      expect(await row.getByTestId('quarantine-badge').getAttribute('title')).toContain('card sandbox expires cards at random');
      await screenshot(page, 'tests');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('shows why runs failed in the Runs list and filters them by category from the URL', async () => {
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/runs?category=Config%20Gap`);
      const rows = page.getByTestId('run-row');
      await until('the three Config Gap runs', async () => (await rows.count()) === 3);
      expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-phase')))).toEqual(['Failed', 'Failed', 'Failed']);
      const failure = rows.first().getByTestId('run-failure');
      expect(await failure.getByTestId('category-badge').textContent()).toBe('Config Gap');
      expect(await failure.textContent()).toContain('payment declined: card expired');
      expect(await failure.locator('.failure-text').getAttribute('title')).toContain('payment declined: card expired');
      expect(await page.getByRole('button', { name: 'Config Gap', exact: true }).getAttribute('aria-pressed')).toBe('true');
      // Another category: none of these runs.
      await page.getByRole('button', { name: 'Config Gap', exact: true }).click();
      await page.getByRole('button', { name: 'Regression', exact: true }).click();
      await page.waitForURL(/category=Regression$/);
      await page.getByText('No runs match these filters').waitFor();
      await page.reload();
      await page.getByText('No runs match these filters').waitFor();

      // The Definitions list shows the last result.
      await page.goto(`${topas.url}/definitions`);
      const last = page.getByTestId('definition-last-run').first();
      await last.waitFor();
      expect(await last.getByRole('link').getAttribute('aria-label')).toBe('Last run: Passed');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('previews a rule change against recent failures, re-applies the rules to history, and charts failures by category', async () => {
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/categories`);
      await page.getByTestId('category-rule').first().waitFor();
      const yaml = page.getByRole('textbox', { name: /^Rules as YAML/ });
      await yaml.fill(RULES_YAML.replace('Config Gap', 'Platform Issue'));
      await page.getByLabel('Against the last … failures').fill('20');
      await page.getByRole('button', { name: 'Preview' }).click();
      const summary = page.getByTestId('preview-summary');
      await summary.waitFor();
      // The four failures (the quarantined one too) would move from Config Gap to Platform Issue.
      expect(await summary.textContent()).toBe('4 of 4 failures would change category.');
      const row = page.getByTestId('preview-row').first();
      expect(await row.getByTestId('category-badge').allTextContents()).toEqual(['Config Gap', 'Platform Issue']);
      // The rules, the draft and the preview in one view (below the sticky header).
      await page.evaluate(() => window.scrollTo(0, document.getElementById('rules-heading')!.closest('section')!.getBoundingClientRect().top + window.scrollY - 64));
      await screenshot(page, 'categories');
      // Not saved: the draft is discarded, and the saved rules re-applied to the last day.
      await page.getByRole('button', { name: 'Discard changes' }).click();
      await page.getByLabel('Failures since').fill(new Date(Date.now() - 86_400_000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16));
      await page.getByRole('button', { name: 'Re-apply the saved rules' }).click();
      await page.locator('[data-testid=apply-job][data-state=done]').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('apply-job').textContent()).toMatch(/^Done: \d+ failures? looked at, 0 changed category\.$/);

      await page.getByRole('link', { name: 'Overview' }).click();
      const card = page.getByTestId('category-chart-card');
      await card.locator('canvas').first().waitFor();
      expect(await card.getByTestId('category-legend').textContent()).toContain('Config Gap');
      expect(await card.locator('.chart').getAttribute('aria-label')).toMatch(/Config Gap 4/);
      // The parallelism recommendation, from the runs' resource profile.
      expect(await page.getByTestId('profile-parallelism').textContent()).toMatch(/^\d+ runs? at once$/);
      expect(await page.getByTestId('profile-card').textContent()).toMatch(/limited by (CPU|memory|the concurrency limit)/);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('marks an imported report with the IMPORT badge and offers the import origin filter', async () => {
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<testsuite name="cart" tests="2" failures="1">',
      '  <testcase classname="com.example.CartTest" name="adds" time="0.01"/>',
      '  <testcase classname="com.example.CartTest" name="removes" time="0.02"><failure message="expected 0 items, got 1">stack</failure></testcase>',
      '</testsuite>',
    ].join('\n');
    const res = await fetch(`${topas.url}/api/reports?name=e2e-imported`, { method: 'POST', headers: { authorization: `Bearer ${topas.token}`, 'content-type': 'application/xml' }, body: xml });
    expect(res.status, await res.clone().text()).toBe(201);
    const { page, context, errors } = await newPage(browser, asAdmin());
    try {
      await page.goto(`${topas.url}/runs?origin=import`);
      const row = page.getByTestId('run-row');
      await until('the imported run', async () => (await row.count()) === 1);
      expect(await row.getByTestId('import-badge').textContent()).toBe('IMPORT');
      expect(await page.getByRole('button', { name: 'import', exact: true }).getAttribute('aria-pressed')).toBe('true');
      expect(await row.getByTestId('run-failure').textContent()).toContain('expected 0 items, got 1');
      await page.goto(`${topas.url}/tests?origin=import`);
      await page.getByTestId('test-row').filter({ hasText: 'removes' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});

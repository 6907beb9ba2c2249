/**
 * The real browser for the dashboard's end-to-end tests: Debian's Chromium driven
 * by playwright-core. Without /usr/bin/chromium the suites are skipped and say why
 * (`apt-get install -y chromium` installs it; `.ci/run` does).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTopasProcess, type TopasProcess } from '../topas-process.js';

export const CHROMIUM_PATH = process.env.TOPAS_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Why the browser tests cannot run here, or null when they can. */
export function browserSkipReason(): string | null {
  if (!existsSync(CHROMIUM_PATH)) return `no Chromium at ${CHROMIUM_PATH} (install it with: apt-get install -y chromium)`;
  return null;
}

/** Where the README's screenshots live. */
export const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/**
 * Saves the page as docs/screenshots/<name>.png when that file is missing or with
 * TOPAS_SCREENSHOTS=1, so ordinary test runs do not rewrite the committed images.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const file = join(SCREENSHOTS, `${name}.png`);
  if (existsSync(file) && process.env.TOPAS_SCREENSHOTS !== '1') return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: file });
}

/** The built dashboard the server serves; the tests need it (npm test builds it). */
export const WEB_INDEX = fileURLToPath(new URL('../../dist-web/index.html', import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Who the browser logs in as: the server's URL and a token (e.g. `TopasProcess.url` and `.token`). */
export interface BrowserLogin {
  url: string;
  token: string;
}

/**
 * Logs the browser context in: `POST /api/session` with the token through the
 * context's own request client, which shares its cookie jar, so every page of the
 * context carries the `topas_session` cookie. (To test the login URL itself, open a
 * `?token=<one-time code>` URL instead: `TopasProcess.loginUrl`.)
 */
export async function logIn(context: BrowserContext, login: BrowserLogin): Promise<void> {
  const res = await context.request.post(`${login.url}/api/session`, { data: { token: login.token } });
  if (res.status() !== 200) throw new Error(`logging the browser in failed: ${res.status()} ${await res.text()}`);
}

/**
 * A fresh light-theme 1280×800 page that records console errors and uncaught
 * exceptions; logged in when `login` is given.
 */
export async function newPage(browser: Browser, login?: BrowserLogin): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', reducedMotion: 'reduce' });
  if (login) await logIn(context, login);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A 404 answered by the API (e.g. "no previous run") is logged by Chromium as a failed resource; the page handles it.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return { context, page, errors };
}

/** A real `topas up` (its own temporary data folder, no examples) and a browser, for one e2e file. */
export interface DashboardUnderTest {
  topas: TopasProcess;
  browser: Browser;
  /** Closes the browser, stops topas and removes its data folder. */
  stop(): Promise<void>;
}

export async function startDashboard(args: string[] = []): Promise<DashboardUnderTest> {
  if (!existsSync(WEB_INDEX)) throw new Error(`the dashboard is not built (${WEB_INDEX} is missing): run npm run build`);
  const data = await mkdtemp(join(tmpdir(), 'topas-e2e-'));
  let topas: TopasProcess | undefined;
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close();
    if (topas && topas.child.exitCode === null) {
      topas.child.kill('SIGTERM');
      await topas.exited;
    }
    await rm(data, { recursive: true, force: true });
  };
  try {
    topas = await startTopasProcess(['--data', data, '--no-examples', ...args]);
    browser = await launchBrowser();
  } catch (error) {
    await stop();
    throw error;
  }
  return { topas, browser, stop };
}

/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core), against
 * a topas started in this process:
 *
 * - Runs page with 1,000,000 stored runs (BENCH_RUNS): time from navigation start
 *   to the first rendered rows (the page marks `topas:runs-rows` when they are in
 *   the DOM), in a fresh browser context each time (nothing cached), for the
 *   unfiltered list and two filtered URLs. Target: under 1 s.
 * - Run details with a 100,000-line log: time to the first log lines on screen,
 *   to the whole log loaded, to jump to the end (last line rendered), and frame
 *   times while the view sweeps through the whole log in 100 jumps.
 *
 * Each figure has a reference measured the same way without the browser (the API
 * requests behind it, from Node), so the browser's share can be read as a ratio.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../src/config/config.js';
import { startTopas, type RunningTopas } from '../src/server/start.js';
import { seededData } from './seeded-runs.js';
import { adminAuth } from './http-load.js';
import { median, percentile, round } from './stats.js';

const CHROMIUM = process.env.TOPAS_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const LOG_LINES = 100_000;
const SAMPLES = Number(process.env.BENCH_WEB_SAMPLES ?? 7);

/** The bench runs from the checkout (compiled into dist-bench/); the server serves dist-web/ of the checkout. */
function ensureDashboardBuilt(): void {
  if (existsSync(join(process.cwd(), 'dist-web', 'index.html'))) return;
  const vite = join(process.cwd(), 'node_modules', 'vite', 'bin', 'vite.js');
  const built = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('building the dashboard failed (npm run build:web)');
}

/** Milliseconds from navigation start until the page set the performance mark `name`. */
async function timeToMark(page: Page, url: string, name: string, timeoutMs = 60_000): Promise<number> {
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction((m) => performance.getEntriesByName(m).length > 0, name, { timeout: timeoutMs, polling: 10 });
  return page.evaluate((m) => performance.getEntriesByName(m)[0]!.startTime, name);
}

/** A fresh browser context logged in as the admin (a session cookie, made before the timing starts). */
async function inFreshPage<T>(browser: Browser, topas: RunningTopas, fn: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  try {
    const login = await context.request.post(`${topas.url}/api/session`, { data: { token: topas.admin?.secret ?? '' } });
    if (!login.ok()) throw new Error(`logging the browser in failed: ${login.status()}`);
    return await fn(await context.newPage());
  } finally {
    await context.close();
  }
}

const figures = (samples: number[]) => ({ n: samples.length, p50: round(median(samples), 1), min: round(Math.min(...samples), 1), max: round(Math.max(...samples), 1) });

/** How long the first page of runs takes from Node, straight from the API. */
async function apiTime(url: string, times: number, headers: Record<string, string>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await (await fetch(url, { headers })).arrayBuffer();
    out.push(performance.now() - t0);
  }
  return out;
}

async function benchRunsPage(browser: Browser) {
  const count = Number(process.env.BENCH_RUNS ?? 1_000_000);
  const { dir, seedSeconds } = await seededData(count);
  const topas = await startTopas(loadConfig({ port: 0, data: dir, examples: false }, {}));
  try {
    const views: Record<string, string> = {
      '/runs': '/runs',
      '/runs?phase=Failed': '/runs?phase=Failed',
      '/runs?phase=Failed,Error&label=priority=high&q=login': '/runs?phase=Failed%2CError&label=priority%3Dhigh&q=login',
    };
    const result: Record<string, unknown> = {};
    for (const [name, path] of Object.entries(views)) {
      // A view with no matching run shows the empty state, not rows: nothing to time.
      const page1 = (await (await fetch(`${topas.url}/api/runs?${new URL(path, topas.url).searchParams}&limit=1`, { headers: adminAuth(topas) })).json()) as { items: unknown[] };
      if (!page1.items.length) {
        result[name] = { skipped: 'no stored run matches' };
        continue;
      }
      await inFreshPage(browser, topas, (page) => timeToMark(page, topas.url + path, 'topas:runs-rows')); // warm the server
      const samples: number[] = [];
      let rows = 0;
      for (let i = 0; i < SAMPLES; i++) {
        samples.push(
          await inFreshPage(browser, topas, async (page) => {
            const t = await timeToMark(page, topas.url + path, 'topas:runs-rows');
            rows = await page.locator('[data-testid=run-row]').count();
            return t;
          }),
        );
      }
      // The request behind this view's first rows, from Node: how much of the time is the API's.
      const apiQuery = await apiTime(`${topas.url}/api/runs?${new URL(path, topas.url).searchParams}&limit=50`, 10, adminAuth(topas));
      result[name] = { firstRowsMs: figures(samples), rowsRendered: rows, apiRequestP50Ms: round(median(apiQuery), 1) };
    }
    const api = await apiTime(`${topas.url}/api/runs?limit=50`, 20, adminAuth(topas));
    const first = (result['/runs'] as { firstRowsMs: { p50: number } }).firstRowsMs.p50;
    return {
      storedRuns: count,
      seedSeconds: round(seedSeconds, 1),
      views: result,
      targetMs: 1000,
      reference: { what: 'GET /api/runs?limit=50 from Node (the request behind the first rows)', p50Ms: round(median(api), 2) },
      ratioToReference: round(first / median(api), 1),
    };
  } finally {
    await topas.close(0);
  }
}

async function waitForRun(topas: RunningTopas, id: string): Promise<{ phase: string }> {
  for (;;) {
    const run = (await (await fetch(`${topas.url}/api/runs/${id}`, { headers: adminAuth(topas) })).json()) as { phase: string };
    if (!['Queued', 'Running'].includes(run.phase)) return run;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function benchLogPage(browser: Browser) {
  const data = await mkdtemp(join(tmpdir(), 'topas-bench-log-'));
  const topas = await startTopas(loadConfig({ port: 0, data, examples: false }, {}));
  try {
    const script = `for i = 1, ${LOG_LINES} do log.info("line " .. i .. " of the bench log: GET /api/items?page=" .. i .. " -> 200 OK") end`;
    const created = (await (await fetch(`${topas.url}/api/runs`, { method: 'POST', headers: { ...adminAuth(topas), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench-100k-lines', script }) })).json()) as { id: string };
    const run = await waitForRun(topas, created.id);
    if (run.phase !== 'Passed') throw new Error(`the 100,000-line run ended ${run.phase}`);
    const url = `${topas.url}/runs/${created.id}`;

    const sample = () =>
      inFreshPage(browser, topas, async (page) => {
        const firstLines = await timeToMark(page, url, 'topas:log-rows');
        await page.waitForFunction(() => performance.getEntriesByName('topas:log-complete').length > 0, null, { timeout: 120_000, polling: 10 });
        const wholeLog = await page.evaluate(() => performance.getEntriesByName('topas:log-complete')[0]!.startTime);
        const scrolled = await page.evaluate(async (last) => {
          const frame = () => new Promise<number>((r) => requestAnimationFrame(r));
          const t0 = performance.now();
          (document.querySelector('[data-testid=log-end]') as HTMLButtonElement).click();
          while (!document.querySelector(`.log-row[data-seq="${last}"]`)) await frame();
          const toEnd = performance.now() - t0;
          // Sweep from top to bottom in 100 jumps, one per frame: how long each frame took.
          const el = document.querySelector('[data-testid=log-scroll]') as HTMLElement;
          const frames: number[] = [];
          let previous = await frame();
          let missing = 0;
          for (let k = 0; k <= 100; k++) {
            el.scrollTop = (k / 100) * (el.scrollHeight - el.clientHeight);
            const now = await frame();
            frames.push(now - previous);
            previous = now;
            if (!document.querySelector('.log-row')) missing++;
          }
          return { toEnd, frames, missing, lines: document.querySelector('[data-testid=log-status]')?.textContent ?? '' };
        }, LOG_LINES);
        // Let the server finish what this page asked for before the next sample.
        await new Promise((r) => setTimeout(r, 300));
        return { firstLines, wholeLog, ...scrolled };
      });

    await sample(); // warm
    const samples = [];
    for (let i = 0; i < Math.max(3, Math.ceil(SAMPLES / 2)); i++) samples.push(await sample());
    const frames = samples.flatMap((s) => s.frames);
    const apiPages = await apiTime(`${topas.url}/api/runs/${created.id}/logs?after=0&limit=10000`, 10, adminAuth(topas));
    const wholeLog = median(samples.map((s) => s.wholeLog));
    return {
      logLines: LOG_LINES,
      firstLinesMs: figures(samples.map((s) => s.firstLines)),
      wholeLogMs: figures(samples.map((s) => s.wholeLog)),
      jumpToEndMs: figures(samples.map((s) => s.toEnd)),
      sweepFrameMs: { frames: frames.length, p50: round(percentile(frames, 50), 1), p95: round(percentile(frames, 95), 1), max: round(Math.max(...frames), 1) },
      framesWithoutRows: samples.reduce((n, s) => n + s.missing, 0),
      statusAtEnd: samples[0]?.lines,
      reference: { what: 'GET …/logs?limit=10000 from Node (one of the ten pages behind the whole log)', p50Ms: round(median(apiPages), 1) },
      ratioToReference: round(wholeLog / (10 * median(apiPages)), 2),
    };
  } finally {
    await topas.close(0);
    await rm(data, { recursive: true, force: true });
  }
}

export async function benchWeb() {
  if (!existsSync(CHROMIUM)) return { skipped: `no Chromium at ${CHROMIUM} (apt-get install -y chromium)` };
  ensureDashboardBuilt();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    return { runsPage: await benchRunsPage(browser), runDetailsLog: await benchLogPage(browser) };
  } finally {
    await browser.close();
  }
}

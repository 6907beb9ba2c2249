/**
 * The npm package as a user gets it: `npm pack` of this checkout's build, installed
 * with `npm install -g` under a temporary prefix, then `topas up` started from an
 * unrelated folder must serve the dashboard and load the bundled examples from
 * inside the package, and run them (the Lua worker and every runtime dependency
 * present without the development ones).
 *
 * Needs `npm run build` first (as `npm test` does). The install takes the
 * dependencies from npm's cache when it has them (`--prefer-offline`) and from the
 * registry otherwise; without both it is skipped and says why.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startTopasProcess, until, type TopasProcess } from './topas-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** npm's environment without the npm_* variables of an enclosing `npm test` (its prefix, its scripts). */
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(?!config_(cache|registry|userconfig)$)/i.test(k)));

/**
 * A GET of the installed topas's API. The one place that knows how this API
 * authenticates: with tokens on, it reads the admin token from `dataDir`.
 */
async function apiGet<T>(url: string, dataDir: string, path: string): Promise<T> {
  // The installed topas made an admin token in its data folder on first start.
  const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

let dir: string | undefined;
let topas: TopasProcess | undefined;
afterAll(async () => {
  if (topas && topas.child.exitCode === null) {
    topas.child.kill('SIGTERM');
    await topas.exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('installs globally and `topas up` runs from any folder with the dashboard and the examples inside', async (ctx) => {
    for (const built of ['dist/cli/main.js', 'dist/runner/lua-worker.js', 'dist-web/index.html']) {
      if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run "npm run build" before this test`);
    }
    dir = await mkdtemp(join(tmpdir(), 'topas-package-'));

    // What goes into the package: the build, the launcher, the examples; no sources or tests.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, env: npmEnv, maxBuffer: 64 << 20 });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    for (const wanted of ['bin/topas.js', 'dist/cli/main.js', 'dist/runner/lua-worker.js', 'dist-web/index.html', 'examples/tests/hello.lua', 'examples/apps/demo/app.yaml', 'README.md'])
      expect(files).toContain(wanted);
    expect(files.filter((f) => /^(src|test|web)\/|\.test\.|\.map$|tsbuildinfo/.test(f))).toEqual([]);

    const t0 = Date.now();
    const prefix = join(dir, 'global');
    try {
      await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, info!.filename)], {
        cwd: dir,
        env: npmEnv,
        maxBuffer: 64 << 20,
      });
    } catch (error) {
      const output = `${(error as { stderr?: string }).stderr ?? ''}${(error as Error).message}`;
      if (/ENOTCACHED|EAI_AGAIN|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|ENETUNREACH/.test(output)) {
        ctx.skip(`npm install needs the registry or a filled npm cache, and has neither: ${output.split('\n').find((l) => /E[A-Z]+/.test(l))}`);
      }
      throw error;
    }
    const t1 = Date.now();
    const installed = join(prefix, 'lib', 'node_modules', 'topas');
    for (const devOnly of ['tsx', 'vite', 'typescript', 'react']) expect(existsSync(join(installed, 'node_modules', devOnly)), devOnly).toBe(false);

    // From a folder that has nothing of topas in it.
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    const data = join(dir, 'data');
    // It applies the demo App (a database server, two replicas) before it answers.
    topas = await startTopasProcess(['--data', data], {}, { bin: join(prefix, 'bin', 'topas'), cwd: elsewhere, startTimeoutMs: 120_000 });
    // The hint names the command as installed: topas, not npx topas.
    const hints = await until('the start-up hints', async () => /try: .*\n/.exec(topas!.output())?.[0]);
    expect(hints).toMatch(/ topas test status /);
    expect(topas.output()).not.toContain('npx topas');

    const t2 = Date.now();
    const page = await fetch(`${topas.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).not.toContain('not built');

    const definitions = await apiGet<{ items: { id: string; name: string }[] }>(topas.url, data, '/api/definitions');
    const hello = definitions.items.find((d) => d.name === 'example-hello');
    expect(hello, 'the bundled example hello.lua is stored as a definition').toBeDefined();
    const passed = await until(
      'the example run to pass',
      async () => {
        const runs = await apiGet<{ items: { phase: string }[] }>(topas!.url, data, `/api/runs?definition=${hello!.id}`);
        const phase = runs.items[0]?.phase;
        if (phase && !['Queued', 'Running'].includes(phase)) return phase;
        return undefined;
      },
      60_000,
    );
    expect(passed).toBe('Passed');
    console.log(`npm install ${((t1 - t0) / 1000).toFixed(1)} s, topas up ${((t2 - t1) / 1000).toFixed(1)} s, example run ${((Date.now() - t2) / 1000).toFixed(1)} s`);
  }, 300_000);
});

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the module `name` (without extension) beside `importMetaUrl` as a worker
 * thread: its compiled `.js` in a build, its `.ts` from sources (tests, tsx). `--import
 * tsx` in a worker's execArgv does not reach worker threads on Node 20 ("Unknown file
 * extension .ts"), so from sources an eval bootstrap registers tsx first.
 */
export function startModuleWorker(importMetaUrl: string, name: string, options: WorkerOptions = {}): Worker {
  // A worker inherits the process's flags but refuses `--input-type` (a `node -e`
  // caller's). Then it gets them without it — and flags given explicitly are checked:
  // V8's (`--max-old-space-size`) are refused too, so failing that it gets none.
  const refused = process.execArgv.filter((flag) => flag.startsWith('--input-type'));
  if (!refused.length || options.execArgv) return newWorker(importMetaUrl, name, options);
  try {
    return newWorker(importMetaUrl, name, { ...options, execArgv: process.execArgv.filter((flag) => !refused.includes(flag)) });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    return newWorker(importMetaUrl, name, { ...options, execArgv: [] });
  }
}

function newWorker(importMetaUrl: string, name: string, options: WorkerOptions): Worker {
  if (!importMetaUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, importMetaUrl), options);
  // tsx's ESM API as a file URL (its CommonJS build cannot register from an eval worker)
  const tsxCjs = createRequire(importMetaUrl).resolve('tsx/esm/api');
  const tsx = pathToFileURL(tsxCjs.replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL(`./${name}.ts`, importMetaUrl).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the module `name` (without extension) beside `importMetaUrl` as a worker
 * thread: its compiled `.js` in a build, its `.ts` from sources (tests, tsx). `--import
 * tsx` in a worker's execArgv does not reach worker threads on Node 20 ("Unknown file
 * extension .ts"), so from sources an eval bootstrap registers tsx first.
 */
export function startModuleWorker(importMetaUrl: string, name: string, workerOptions: WorkerOptions = {}): Worker {
  // The process's flags, less those a worker refuses (`--input-type`, for `node -e` callers).
  const options = { execArgv: process.execArgv.filter((flag) => !flag.startsWith('--input-type')), ...workerOptions };
  if (!importMetaUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, importMetaUrl), options);
  // tsx's ESM API as a file URL (its CommonJS build cannot register from an eval worker)
  const tsxCjs = createRequire(importMetaUrl).resolve('tsx/esm/api');
  const tsx = pathToFileURL(tsxCjs.replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL(`./${name}.ts`, importMetaUrl).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * A topas with default settings in its own process, for the `read-load` section:
 * `node dist-bench/bench/read-load-child.js <data folder> [database URL]` starts it on
 * a free port (PGlite in the folder, or the PostgreSQL database of the URL) and prints
 * one JSON line `{ url, token }`, then the id of every run that reaches a terminal
 * phase, one a line (so the bench's submitters can wait for their run). A bare
 * node:http echo instead with `echo` as the folder (the reference). Stops when stdin closes.
 * Defaults, but for settings to try given as `BENCH_TOPAS_<NAME>` (→ `TOPAS_<NAME>`): the
 * user's own `TOPAS_*` variables never reach it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config/config.js';
import { isTerminal } from '../src/core/run-phase.js';
import { startTopas } from '../src/server/start.js';
import { settingsToTry } from './settings-to-try.js';

const [data, databaseUrl] = process.argv.slice(2);
if (!data) throw new Error('usage: read-load-child.js <data folder | echo> [database URL]');

let close: () => Promise<void>;
if (data === 'echo') {
  // The reference: answers every request at once with a small JSON document.
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', phase: 'Passed', path: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: null })}\n`);
  close = () => new Promise<void>((r) => server.close(() => r()));
} else {
  const topas = await startTopas(loadConfig({ port: 0, data, examples: false }, { ...settingsToTry(), ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) }));
  topas.engine.subscribeAll((n) => {
    if (n.type === 'phase' && isTerminal(n.run.phase)) process.stdout.write(`${n.run.id}\n`);
  });
  process.stdout.write(`${JSON.stringify({ url: topas.url, token: topas.admin?.secret ?? null })}\n`);
  close = () => topas.close(0);
}

createInterface({ input: process.stdin }).on('close', () => void close().then(() => process.exit(0)));

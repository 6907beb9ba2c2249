#!/usr/bin/env node
// A tiny service for the local App runtime's tests (plain JavaScript: runs with `node`).
//
//   node echo-service.js --port 8080 [--extra-port 9090]
//
// GET /        → {"version","port","pid","childPid","env"} (APP_VERSION, its port, its pid, its env)
// GET /healthz → 200 once ready (READY_AFTER_MS after start, default at once), else 503
// --extra-port → a second listener answering {"extra":true,"version",...}
// FAIL_AT_START=<code> → prints "boom: <version> cannot start" and exits with that code
// SPAWN_CHILD=1        → starts a child process (same process group) whose pid is echoed
// SIGTERM              → stops listening and exits 0 once open requests are answered
import http from 'node:http';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { port: { type: 'string' }, 'extra-port': { type: 'string' } } });
const version = process.env.APP_VERSION ?? 'unknown';
const port = Number(args.port ?? process.env.PORT);

if (process.env.FAIL_AT_START) {
  console.error(`boom: ${version} cannot start`);
  process.exit(Number(process.env.FAIL_AT_START));
}

const startedAt = Date.now();
const readyAfter = Number(process.env.READY_AFTER_MS ?? 0);
const child = process.env.SPAWN_CHILD ? spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }) : null;

function handler(extra) {
  return (req, res) => {
    if (req.url === '/healthz') {
      const ready = Date.now() - startedAt >= readyAfter;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      return res.end(ready ? 'ok' : 'starting');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ version, port: extra ? Number(args['extra-port']) : port, pid: process.pid, childPid: child?.pid ?? null, extra, env: process.env }));
  };
}

const servers = [http.createServer(handler(false))];
if (args['extra-port']) servers.push(http.createServer(handler(true)));
await Promise.all(servers.map((s, i) => new Promise((resolve) => s.listen(i === 0 ? port : Number(args['extra-port']), '127.0.0.1', resolve))));
console.log(`listening on ${port} version ${version}`);

process.on('SIGTERM', () => {
  console.log('stopping');
  let open = servers.length;
  for (const s of servers) s.close(() => --open === 0 && process.exit(0));
  child?.kill();
});

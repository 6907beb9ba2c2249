/**
 * The reference of the throughput figures in its own process, like the topas it is
 * compared with: `node dist-bench/bench/echo-child.js` starts `startEchoServer` (a bare
 * node:http server that answers every POST with a small JSON document and does no work)
 * and prints one JSON line `{ url }`; it stops when its stdin closes.
 */
import { startEchoServer } from './http-load.js';

const echo = await startEchoServer();
process.stdout.write(`${JSON.stringify({ url: echo.url, pid: process.pid })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void echo.close().then(() => process.exit(0));
});

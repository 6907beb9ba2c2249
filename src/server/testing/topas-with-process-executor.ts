/**
 * TEST-ONLY. `topas up` with the test-only process executor (every run in a detached
 * `topas runner` process) instead of the local one: a real topas process whose runs
 * outlive it, for restart and SIGKILL tests. Prints what `topas up` prints (its URL
 * and `dashboard:` line), so `startTopasProcess` can start it:
 *
 *   node --import tsx topas-with-process-executor.ts up --port 0 --data DIR [--insecure-no-auth]
 *
 * Runner state (pid, token, termination log, output) lives in `<data>/runners/`.
 */
import { join } from 'node:path';
import { loadConfig } from '../../config/config.js';
import { createProcessExecutor } from '../../executors/testing/process-executor.js';
import { createStreamLogger } from '../logger.js';
import { startTopas } from '../start.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.lastIndexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const config = loadConfig(
  { port: flag('--port'), data: flag('--data'), insecureNoAuth: args.includes('--insecure-no-auth'), examples: false },
  process.env,
);
const log = createStreamLogger({ level: config.logLevel, format: config.logFormat });
const topas = await startTopas(config, {
  log,
  executor: ({ hub, mintRunToken, serverUrl }) =>
    createProcessExecutor({ hub, mintRunToken, serverUrl, stateDir: join(config.dataDir, 'runners') }),
  runnerTimings: { heartbeatMs: 200, flushMs: 20 },
});
process.stdout.write(`topas is running at ${topas.url}\n  dashboard:   ${topas.loginUrl()}\n`);
const stop = () => void topas.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

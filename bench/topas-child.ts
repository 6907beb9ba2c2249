/**
 * A topas server in its own process, for figures about the server alone (its peak
 * memory): `node dist-bench/bench/topas-child.js <data folder>` starts the embedded
 * server on a free port and prints one JSON line `{ url, token }`; it stops when its
 * stdin closes.
 */
import { loadConfig } from '../src/config/config.js';
import { startTopas } from '../src/server/start.js';

const data = process.argv[2];
if (!data) throw new Error('usage: topas-child.js <data folder>');
const topas = await startTopas(loadConfig({ port: 0, data, examples: false }, {}));
process.stdout.write(`${JSON.stringify({ url: topas.url, token: topas.admin?.secret ?? null })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void topas.close(0).then(() => process.exit(0));
});

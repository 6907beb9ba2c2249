/**
 * `npm run test-cluster -- --kubeconfig FILE`: starts the test cluster, writes its
 * kubeconfig to FILE, prints `ready` once it serves, and serves until SIGINT or
 * SIGTERM. Options: `--port N` (HTTPS port, default a free one), `--log-dir DIR`
 * (container logs), `--volumes-dir DIR` (PersistentVolumeClaims' data, kept after
 * it stops; default a temporary folder removed on stop), `--verbose` (one JSON line
 * per request on stderr).
 */
import { Command } from 'commander';
import { startTestCluster } from './start-test-cluster.js';

const program = new Command()
  .name('test-cluster')
  .description('A Kubernetes API test server and simulated kubelet for kubectl and topas')
  .option('--kubeconfig <file>', 'where to write the kubeconfig')
  .option('--port <port>', 'HTTPS port (default: a free one)', (v) => Number(v))
  .option('--log-dir <dir>', 'where container logs are written')
  .option('--volumes-dir <dir>', "where PersistentVolumeClaims' data lives (kept after stopping)")
  .option('--verbose', 'log every request to stderr')
  .parse();

const opts = program.opts<{ kubeconfig?: string; port?: number; logDir?: string; volumesDir?: string; verbose?: boolean }>();
const cluster = await startTestCluster({
  kubeconfigPath: opts.kubeconfig,
  port: opts.port,
  logDir: opts.logDir,
  volumesDir: opts.volumesDir,
  server: opts.verbose ? { log: (message, fields) => process.stderr.write(`${JSON.stringify({ message, ...fields })}\n`) } : {},
});
process.stderr.write(`${JSON.stringify({ message: 'test cluster serving', url: cluster.url, kubeconfig: cluster.kubeconfigPath, logDir: cluster.logDir, volumesDir: cluster.volumesDir })}\n`);
process.stdout.write('ready\n');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void cluster.stop().then(() => process.exit(0));
  });
}

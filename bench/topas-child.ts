/**
 * A topas server in its own process, for figures about the server alone (its peak
 * memory, its throughput without the clients on its thread):
 * `node dist-bench/bench/topas-child.js <data folder> [flags as JSON]` starts the
 * embedded server with default settings (plus the given `loadConfig` flags) on a free
 * port and prints one JSON line `{ url, token, pid }`. Each line `usage` on its stdin
 * is answered with one JSON line `{ mainThreadMs, mainThreadCpuMs, cpuMs }` (the event
 * loop's busy time, the main thread's CPU time, the process's CPU time, all since start); it stops
 * when its stdin closes.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { loadConfig, type ConfigFlags } from '../src/config/config.js';
import { startTopas } from '../src/server/start.js';

const data = process.argv[2];
if (!data) throw new Error('usage: topas-child.js <data folder> [flags as JSON]');
const flags = (process.argv[3] ? JSON.parse(process.argv[3]) : {}) as ConfigFlags;
const topas = await startTopas(loadConfig({ port: 0, data, examples: false, ...flags }, process.env));
process.stdout.write(`${JSON.stringify({ url: topas.url, token: topas.admin?.secret ?? null, pid: process.pid, concurrency: topas.config.concurrency, workers: topas.config.workers })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'usage') return;
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  process.stdout.write(`${JSON.stringify({ mainThreadMs: elu.active, mainThreadCpuMs: mainThreadCpuMs(), cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
});

/** CPU time of this process's main thread (Linux: /proc/self/task/<pid>/stat, utime + stime); null elsewhere. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state (field 3): utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}
lines.on('close', () => {
  void topas.close(0).then(() => process.exit(0));
});

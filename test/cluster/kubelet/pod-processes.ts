/**
 * Finds the host processes of a Pod's containers by their environment (every container
 * process carries `HOSTNAME=<pod name>`), so tests can check that none is left behind.
 * Linux only (reads /proc); needs the rights to read other processes' environments.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { procStat } from '../../../src/store/proc-stat.js';

/** Live (non-zombie) processes whose `HOSTNAME` matches the pattern. */
export function podProcesses(podName: RegExp): { pid: number; hostname: string }[] {
  const found: { pid: number; hostname: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
    } catch {
      continue;
    }
    const hostname = environ.split('\0').find((kv) => kv.startsWith('HOSTNAME='))?.slice('HOSTNAME='.length);
    if (hostname === undefined || !podName.test(hostname)) continue;
    const state = procStat(Number(entry))?.[0];
    if (state && state !== 'Z' && state !== 'X') found.push({ pid: Number(entry), hostname });
  }
  return found;
}

/**
 * The resource profile of local runs: what a user reads in `Run.profile` — CPU time
 * of the run's own Lua code (not its waits, not its neighbours on the worker) and the
 * peak memory of its Lua state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLuaRunner } from './lua-runner.js';
import type { ScriptRunner } from './runner.js';
import { runScript } from './testing/script-run.js';
import { threadCpuClock } from './thread-cpu-clock.js';

const MiB = 1024 * 1024;
let single: ScriptRunner;

beforeAll(() => {
  single = createLuaRunner({ workers: 1 });
});
afterAll(async () => {
  await single?.close();
});

const run = (script: string) => runScript(single, { script, memoryLimitBytes: 256 * MiB });
const BUSY = 'local t = time.now()\nlocal n = 0\nwhile time.now() - t < 400 do n = n + 1 end';

describe('run profile (local executor)', () => {
  it('a run that builds a big table peaks higher than a trivial one, by about the table', async () => {
    const trivial = await run('assert(1 + 1 == 2)');
    const big = await run('local t = {}\nfor i = 1, 200000 do t[i] = string.rep("x", 100) .. i end\nassert(#t == 200000)');
    expect(trivial.completion.phase).toBe('Passed');
    expect(big.completion.phase).toBe('Passed');
    const small = trivial.completion.profile!.peakMemoryBytes;
    const large = big.completion.profile!.peakMemoryBytes;
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(4 * MiB); // the prepared state: standard library and topas modules
    // 200,000 strings of ~106 bytes plus the table's slots
    expect(large - small).toBeGreaterThan(20 * MiB);
  });

  it('a CPU-busy run shows far more CPU time than one that sleeps as long, even on the same worker at once', async () => {
    const [busy, sleeping] = await Promise.all([run(BUSY), run('sleep(400)')]);
    expect([busy.completion.phase, sleeping.completion.phase]).toEqual(['Passed', 'Passed']);
    const busyCpu = busy.completion.profile!.cpuMs;
    const sleepCpu = sleeping.completion.profile!.cpuMs;
    // The worker thread spun for 400 ms of wall time on the busy run's code: all the CPU
    // it was given (less than 400 ms on a loaded machine, never more than the wall time).
    expect(busyCpu).toBeLessThan(busy.ms + 20);
    // The sleeper shared that thread but used it only to start, sleep and end.
    expect(busyCpu, `busy ${busyCpu} ms, sleeping ${sleepCpu} ms`).toBeGreaterThan(sleepCpu * 5);
  });

  it('a net wait costs no CPU time while it waits', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => setTimeout(() => res.end('ok'), 400));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const r = await run(`local res = net.get("http://127.0.0.1:${port}/")\nassert(res.code == 200)`);
      expect(r.completion, r.logs.join('\n')).toMatchObject({ phase: 'Passed' });
      expect(r.ms).toBeGreaterThanOrEqual(400);
      // what it used: compiling the script, sending the request, reading the answer — not the 400 ms wait
      expect(r.completion.profile!.cpuMs).toBeLessThan(r.ms / 4);
    } finally {
      server.close();
    }
  });
});

describe('threadCpuClock', () => {
  it('counts CPU work of this thread, not time spent waiting', async () => {
    const clock = threadCpuClock();
    expect(clock.kind).toBe('cpu'); // Linux: /proc/thread-self/schedstat
    const a = clock.now();
    await new Promise((r) => setTimeout(r, 200));
    const waited = clock.now() - a;
    // a fixed amount of work: its CPU time does not depend on how loaded the machine is
    const b = clock.now();
    let x = 0;
    for (let i = 0; i < 3e7; i++) x = (x + i * 7) % 1_000_003;
    const spun = clock.now() - b;
    expect(x).toBeGreaterThanOrEqual(0);
    expect(spun, `waited ${waited} ns, spun ${spun} ns`).toBeGreaterThan(waited * 5);
  });
});

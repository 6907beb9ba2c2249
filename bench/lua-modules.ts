import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LuaFactory } from 'wasmoon';
import { PreparedEngine } from '../src/runner/lua-engine.js';
import { loadLuaWasm } from '../src/runner/lua-wasm.js';
import { RunContext } from '../src/runner/run-context.js';
import { createLuaRunner } from '../src/runner/lua-runner.js';
import { threadCpuClock } from '../src/runner/thread-cpu-clock.js';
import type { ScriptJob } from '../src/runner/runner.js';
import { median, round } from './stats.js';

const job = (script: string, files: Record<string, string> = {}, env: Record<string, string> = {}): ScriptJob => ({
  runId: `bench-${Math.random()}`,
  script,
  fileName: 'bench.lua',
  files,
  env,
  timeoutMs: 120_000,
  memoryLimitBytes: 256 << 20,
});

/** A tiny HTTP server for the Postman and net figures: JSON on every path. */
async function startServer() {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, path: req.url }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const COLLECTION = {
  info: { name: 'bench', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
  item: ['one', 'two', 'three'].map((name) => ({
    name,
    request: { method: 'GET', url: `{{baseUrl}}/${name}` },
    event: [{ listen: 'test', script: { exec: ["pm.test('200', () => pm.response.to.have.status(200));"] } }],
  })),
};

/**
 * Per-run overhead of the Lua environment: a fresh engine with every module loaded
 * (engine create → ready to run the first line, and create + close in CPU time),
 * against a bare wasmoon engine; engine ready → first line; and the worker's CPU per
 * trivial run through a real runner.
 */
export async function benchModules() {
  const lua = await loadLuaWasm(); // as a worker loads it
  const factory = new LuaFactory(); // the bare reference: a module of its own, as wasmoon ships
  const clock = threadCpuClock();
  for (let i = 0; i < 50; i++) new PreparedEngine(lua).close();
  const prepared: number[] = [];
  const bare: number[] = [];
  // CPU time as totals over the loop: the scheduler's clock advances in steps coarser than one engine
  let preparedCpuNs = 0;
  let bareCpuNs = 0;
  const engines = 300;
  for (let i = 0; i < engines; i++) {
    const c0 = clock.now();
    const t0 = performance.now();
    const engine = new PreparedEngine(lua);
    prepared.push(performance.now() - t0);
    engine.close();
    preparedCpuNs += clock.now() - c0;
    const c1 = clock.now();
    const t1 = performance.now();
    const plain = await factory.createEngine({ injectObjects: true });
    bare.push(performance.now() - t1);
    plain.global.close();
    bareCpuNs += clock.now() - c1;
  }
  // Engine ready → first line of the script executed.
  const firstLine: number[] = [];
  for (let i = 0; i < 100; i++) {
    const engine = new PreparedEngine(lua);
    let t1 = 0;
    const ctx = new RunContext(job('log.info("first")'), () => {
      t1 ||= performance.now();
    });
    const t0 = performance.now();
    await engine.run(ctx);
    firstLine.push((t1 || performance.now()) - t0);
    ctx.complete();
    engine.close();
  }
  // Trivial runs one after another through a real worker: the engine's CPU as the run's
  // profile counts it (prepare, run, close), and the whole process's CPU per run.
  const before = threadTimes();
  const runner = createLuaRunner({ workers: 1 });
  const runs = 400;
  let engineCpuMs = 0;
  let processCpuMs = 0;
  let workerThreadCpuMs = NaN;
  try {
    for (let i = 0; i < 50; i++) await runner.run(job('assert(1 + 1 == 2)'), () => {});
    const u0 = process.cpuUsage();
    const t0 = threadTimes();
    for (let i = 0; i < runs; i++) {
      const result = await runner.run(job('assert(1 + 1 == 2)'), () => {});
      if (result.phase !== 'Passed') throw new Error(`trivial run ${result.phase}: ${result.message}`);
      engineCpuMs += result.profile!.cpuMs;
    }
    const t1 = threadTimes();
    const u = process.cpuUsage(u0);
    processCpuMs = (u.user + u.system) / 1000 / runs;
    // the worker: the thread the runner started that worked the most
    const started = [...t1.keys()].filter((tid) => !before.has(tid) && t0.has(tid));
    const busiest = Math.max(...started.map((tid) => t1.get(tid)! - t0.get(tid)!));
    if (started.length) workerThreadCpuMs = busiest / 1e6 / runs;
  } finally {
    await runner.close();
  }
  return {
    engineWithAllModulesMs: round(median(prepared), 3),
    engineCreateCloseCpuMs: round(preparedCpuNs / engines / 1e6, 3),
    firstLineAfterReadyMs: round(median(firstLine), 3),
    reference: {
      what: 'bare wasmoon createEngine({injectObjects:true}), and its create + close CPU',
      ms: round(median(bare), 3),
      createCloseCpuMs: round(bareCpuNs / engines / 1e6, 3),
    },
    ratioToReference: round(median(prepared) / median(bare), 2),
    createCloseCpuRatioToReference: round(preparedCpuNs / bareCpuNs, 2),
    workerThreadCpuPerTrivialRunMs: round(workerThreadCpuMs, 3),
    runProfileCpuPerTrivialRunMs: round(engineCpuMs / runs, 3),
    processCpuPerTrivialRunMs: round(processCpuMs, 3),
    note: 'workers prepare the next engine while idle, so an idle system starts a run without paying the engine; workerThreadCpuPerTrivialRunMs is all the worker thread did per run (engine, messages, events), from its scheduler statistics over 400 runs; runProfileCpuPerTrivialRunMs is what run profiles report (engine prepare + run + close: slices shorter than a scheduler tick are undercounted); processCpuPerTrivialRunMs adds the runner pool and the bench loop on the main thread',
  };
}

/** CPU time (ns) of each thread of this process so far, by thread id. */
function threadTimes(): Map<string, number> {
  const times = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      times.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return times;
}

/** `postman.run` of a 3-request collection in-process vs the newman CLI on the same collection. */
export async function benchPostman() {
  const server = await startServer();
  const dir = await mkdtemp(join(tmpdir(), 'topas-bench-pm-'));
  const runner = createLuaRunner({ workers: 1 });
  try {
    const collectionFile = join(dir, 'c.json');
    await writeFile(collectionFile, JSON.stringify(COLLECTION));
    const files = { 'c.json': JSON.stringify(COLLECTION) };
    const script = `local ok, r = postman.run{ collection = "c.json", environment = { baseUrl = env.BASE } }\nassert(ok and r.requests == 3, "collection passes")`;
    const inProcess: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      const result = await runner.run(job(script, files, { BASE: server.url }), () => {});
      if (result.phase !== 'Passed') throw new Error(`postman bench run ${result.phase}: ${result.message}`);
      if (i >= 2) inProcess.push(performance.now() - t0); // the first runs load newman into the worker
    }
    const newmanBin = join(process.cwd(), 'node_modules/newman/bin/newman.js');
    const cli: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      // Asynchronously: the server answering newman lives in this process.
      await promisify(execFile)(process.execPath, [newmanBin, 'run', collectionFile, '--env-var', `baseUrl=${server.url}`, '--reporters', 'cli']);
      cli.push(performance.now() - t0);
    }
    return {
      collection: '3 GET requests with a test each, local server',
      inProcessRunMs: round(median(inProcess), 1),
      reference: { what: 'newman CLI (node newman run), same collection', ms: round(median(cli), 1) },
      ratioToReference: round(median(inProcess) / median(cli), 3),
    };
  } finally {
    await runner.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sequential `net.get` from one run vs the same sequential loop with Node's fetch. */
export async function benchNet() {
  const server = await startServer();
  const runner = createLuaRunner({ workers: 1 });
  const n = 2000;
  try {
    const script = `local t0 = os.clock()\nfor i = 1, ${n} do local r = net.get(env.BASE .. "/x") assert(r.code == 200) end`;
    const lua: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      const result = await runner.run(job(script, {}, { BASE: server.url }), () => {});
      if (result.phase !== 'Passed') throw new Error(`net bench ${result.phase}: ${result.message}`);
      if (i > 0) lua.push(n / ((performance.now() - t0) / 1000));
    }
    const node: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      for (let j = 0; j < n; j++) {
        const res = await fetch(`${server.url}/x`);
        await res.json();
      }
      if (i > 0) node.push(n / ((performance.now() - t0) / 1000));
    }
    return {
      requests: n,
      luaRequestsPerSecond: round(median(lua), 0),
      reference: { what: "the same sequential loop with Node's fetch, in the bench process", requestsPerSecond: round(median(node), 0) },
      ratioToReference: round(median(lua) / median(node), 3),
    };
  } finally {
    await runner.close();
    await server.close();
  }
}

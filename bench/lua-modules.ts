import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LuaFactory } from 'wasmoon';
import { PreparedEngine } from '../src/runner/lua-engine.js';
import { RunContext } from '../src/runner/run-context.js';
import { createLuaRunner } from '../src/runner/lua-runner.js';
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
 * (engine create → ready to run the first line), against a bare wasmoon engine.
 */
export async function benchModules() {
  const lua = await new LuaFactory().getLuaModule();
  const factory = new LuaFactory();
  for (let i = 0; i < 50; i++) new PreparedEngine(lua).close();
  const prepared: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    const engine = new PreparedEngine(lua);
    prepared.push(performance.now() - t0);
    engine.close();
  }
  const bare: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    const engine = await factory.createEngine({ injectObjects: true });
    bare.push(performance.now() - t0);
    engine.global.close();
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
  return {
    engineWithAllModulesMs: round(median(prepared), 3),
    firstLineAfterReadyMs: round(median(firstLine), 3),
    reference: { what: 'bare wasmoon createEngine({injectObjects:true})', ms: round(median(bare), 3) },
    ratioToReference: round(median(prepared) / median(bare), 2),
    note: 'workers prepare the next engine while idle, so an idle system starts a run without paying this',
  };
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

/**
 * Isolation between runs that share a worker thread (one wasm module, states created
 * from shared function slots and one wasm allocator): what run A changes — globals,
 * the string library behind every string's metatable, a module table, its memory,
 * its files — is not seen by run B, neither while A is still running nor after it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLuaRunner } from './lua-runner.js';
import type { ScriptRunner } from './runner.js';
import { runScript } from './testing/script-run.js';

const MiB = 1024 * 1024;
let single: ScriptRunner;
let server: Server;
let base = '';
let release: () => void = () => {};
const released = new Promise<void>((resolve) => (release = resolve));

beforeAll(async () => {
  single = createLuaRunner({ workers: 1 }); // every run below shares one worker
  // /wait answers once the test says so: run A is held mid-run while B runs
  server = createServer((_req, res) => void released.then(() => res.end('go')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  release();
  await single?.close();
  server?.close();
});

const A = `
LEAK = "a"
string.upper = function() return "changed by A" end
string.shout = function(s) return s .. "!" end
local json = require("json")
json.marker = "a"
BIG = {}
for i = 1, 200 do BIG[i] = string.rep("x", 100000) .. i end
assert(require("helper") == "A's helper")
log.info("set")
local r = net.get(env.BASE .. "/wait")
assert(r.code == 200)
-- B ran meanwhile; A's own changes are still there
assert(LEAK == "a" and ("q"):upper() == "changed by A" and json.marker == "a" and #BIG == 200)
`;

const B = `
assert(LEAK == nil, "A's global is visible")
assert(BIG == nil, "A's table is visible")
assert(("b"):upper() == "B", "A's string.upper is visible")
assert(string.shout == nil, "A's string function is visible")
assert(require("json").marker == nil, "A's change to the json module is visible")
local ok = pcall(require, "helper")
assert(not ok, "A's file is visible")
`;

it("a run sees nothing of another run on the same worker, while that run is running and after it", async () => {
  let onSet: () => void = () => {};
  const set = new Promise<void>((r) => (onSet = r));
  const a = single.run(
    { runId: 'iso-a', script: A, fileName: 'a.lua', files: { 'helper.lua': 'return "A\'s helper"' }, env: { BASE: base }, timeoutMs: 20_000, memoryLimitBytes: 64 * MiB },
    (e) => {
      if (e.type === 'log' && e.message === 'set') onSet();
    },
  );
  await set;
  const during = await runScript(single, { script: B, memoryLimitBytes: 64 * MiB });
  release();
  const first = await a;
  const after = await runScript(single, { script: B, memoryLimitBytes: 64 * MiB });

  expect(first, first.message ?? '').toMatchObject({ phase: 'Passed' });
  expect(during.completion, during.logs.join('\n')).toMatchObject({ phase: 'Passed' });
  expect(after.completion, after.logs.join('\n')).toMatchObject({ phase: 'Passed' });
  // A held 20 MB of strings; neither B saw any of it in its own memory
  expect(first.profile!.peakMemoryBytes).toBeGreaterThan(20 * MiB);
  expect(during.completion.profile!.peakMemoryBytes).toBeLessThan(4 * MiB);
  expect(after.completion.profile!.peakMemoryBytes).toBeLessThan(4 * MiB);
});

it('a run that hits its memory cap leaves the next run on the worker its whole cap', async () => {
  const bomb = await runScript(single, { script: 'local t = {}\nfor i = 1, 1e9 do t[i] = string.rep("y", 1000) .. i end', memoryLimitBytes: 16 * MiB });
  expect(bomb.completion).toMatchObject({ phase: 'Error', reason: 'MemoryLimit' });
  const next = await runScript(single, {
    script: 'local t = {}\nfor i = 1, 12000 do t[i] = string.rep("z", 1000) .. i end\nassert(#t == 12000)',
    memoryLimitBytes: 16 * MiB,
  });
  expect(next.completion, next.logs.join('\n')).toMatchObject({ phase: 'Passed' });
  expect(next.completion.profile!.peakMemoryBytes).toBeGreaterThan(12 * MiB);
});

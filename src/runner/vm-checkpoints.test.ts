import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LuaEngine, LuaFactory, type LuaWasm } from 'wasmoon';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECK_INSTRUCTIONS, loadLuaWasm, vmCheckpoint } from './lua-wasm.js';
import { runInThisThread } from './testing/script-run.js';
import { addVmCheckpoints, CHECKPOINT_EXPORT, COUNTDOWN_EXPORT } from './vm-checkpoints.js';

const glueWasm = (): Uint8Array => {
  const wasmoon = dirname(createRequire(import.meta.url).resolve('wasmoon'));
  return readFileSync(join(wasmoon, 'glue.wasm'));
};

describe('addVmCheckpoints', () => {
  it('recognises the installed wasmoon Lua and gives a valid module with the two globals', () => {
    const patched = addVmCheckpoints(glueWasm(), 1000);
    expect(patched).not.toBeNull();
    const module = new WebAssembly.Module(patched!);
    const globals = WebAssembly.Module.exports(module).filter((e) => e.kind === 'global').map((e) => e.name);
    expect(globals).toEqual(expect.arrayContaining([CHECKPOINT_EXPORT, COUNTDOWN_EXPORT]));
  });

  it('runs Lua as before while no checkpoint slot is set (nothing is called)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'topas-vm-'));
    try {
      const file = join(dir, 'glue.wasm');
      writeFileSync(file, addVmCheckpoints(glueWasm(), 1000)!);
      const engine = await new LuaFactory(file).createEngine();
      try {
        expect(engine.doStringSync('local n = 0 for i = 1, 100000 do n = n + i end return n')).toBe(5000050000);
      } finally {
        engine.global.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves alone a module without a Lua VM loop (null: the caller keeps the count hook)', () => {
    // (module (func (export "f") (param i32 i32)))
    const tiny = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 6, 1, 0x60, 2, 0x7f, 0x7f, 0, 3, 2, 1, 0, 6, 1, 0, 7, 5, 1, 1, 0x66, 0, 0, 10, 4, 1, 2, 0, 0x0b]);
    expect(new WebAssembly.Module(tiny)).toBeInstanceOf(WebAssembly.Module);
    expect(addVmCheckpoints(tiny, 1000)).toBeNull();
    expect(addVmCheckpoints(Uint8Array.from([1, 2, 3]), 1000)).toBeNull();
  });
});

describe('the VM checkpoint', () => {
  let lua: LuaWasm;
  beforeAll(async () => {
    lua = await loadLuaWasm();
  });

  it('is called with the running state about every CHECK_INSTRUCTIONS instructions', () => {
    const checkpoint = vmCheckpoint(lua)!;
    expect(checkpoint).not.toBeNull();
    const engine = new LuaEngine(lua);
    const seen: number[] = [];
    checkpoint.current = (L) => seen.push(L);
    try {
      // a numeric for loop is one VM instruction (FORLOOP) per turn
      engine.doStringSync(`for i = 1, ${CHECK_INSTRUCTIONS * 100} do end`);
    } finally {
      checkpoint.current = null;
      engine.global.close();
    }
    expect(seen.length).toBeGreaterThanOrEqual(99);
    expect(seen.length).toBeLessThanOrEqual(102);
    expect(new Set(seen)).toEqual(new Set([engine.global.address]));
  });

  it.each([
    ['a loop inside a coroutine', 'coroutine.wrap(function() while true do end end)()'],
    ['coroutines caught and started again', 'while true do pcall(coroutine.wrap(function() while true do end end)) end'],
    ['repeat ... until false', 'local n = 0 repeat n = n + 1 until false'],
    ['a Lua comparator called from table.sort', 'table.sort({3, 2, 1}, function(a, b) while true do end end)'],
    ['recursion to the C stack limit, again and again', 'local function f() pcall(f) end while true do f() end'],
  ])('stops %s at the run timeout', async (_what, script) => {
    const { completion } = await runInThisThread(lua, { script, timeoutMs: 300 });
    expect(completion).toMatchObject({ phase: 'TimedOut', message: 'the run exceeded its timeout of 300ms' });
  });

  it('a VM without checkpoints still stops a runaway script (the count hook)', async () => {
    const plain = await loadLuaWasm({ checkpoints: false });
    expect(vmCheckpoint(plain)).toBeNull();
    const stopped = await runInThisThread(plain, { script: 'while true do pcall(coroutine.wrap(function() while true do end end)) end', timeoutMs: 300 });
    expect(stopped.completion).toMatchObject({ phase: 'TimedOut', message: 'the run exceeded its timeout of 300ms' });
    expect((await runInThisThread(plain, { script: 'assert(1 + 1 == 2)' })).completion.phase).toBe('Passed');
  });
});

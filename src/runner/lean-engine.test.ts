/**
 * The lean engine behaves as wasmoon's own for what crosses between JS and Lua: a JS
 * promise can be awaited (its extension made on that first push), a JS error keeps its
 * message, JS null is nil — and no `Promise`, `Error` or `null` global appears.
 */
import { beforeAll, expect, it } from 'vitest';
import type { LuaWasm } from 'wasmoon';
import { createLeanEngine } from './lean-engine.js';
import { openSandboxLibraries } from './lua-engine.js';
import { createCountedEngine, freeStateMemory, loadLuaWasm } from './lua-wasm.js';

let lua: LuaWasm;
beforeAll(async () => {
  lua = await loadLuaWasm();
});

function withEngine<T>(use: (engine: ReturnType<typeof createLeanEngine>) => Promise<T> | T): Promise<T> {
  const { engine, memory } = createCountedEngine(lua, () => createLeanEngine(lua));
  const g = engine.global;
  openSandboxLibraries(lua, g.address);
  return Promise.resolve(use(engine)).finally(() => {
    engine.global.close();
    freeStateMemory(lua, memory);
  });
}

it('awaits a JS promise, turns a JS null into nil and keeps a JS error message; no Promise, Error or null global', async () => {
  const result = await withEngine(async (engine) => {
    engine.global.set('later', () => new Promise((resolve) => setTimeout(() => resolve(42), 1)));
    engine.global.set('nothing', () => null);
    engine.global.set('fails', () => {
      throw new Error('it broke');
    });
    return engine.doString(`
      local v = later():await()
      local ok, e = pcall(fails)
      return table.concat({ tostring(v), tostring(nothing() == nil), tostring(ok), tostring(e):match("it broke") or tostring(e),
        tostring(rawget(_G, "Promise")), tostring(rawget(_G, "Error")), tostring(rawget(_G, "null")) }, ",")
    `);
  });
  expect(result).toBe('42,true,false,it broke,nil,nil,nil');
});

it('a state that never meets a promise or an error closes without making their metatables', async () => {
  const names = await withEngine((engine) => {
    engine.global.set('nothing', () => null);
    engine.doStringSync('local x = nothing()');
    const g = engine.global;
    const found: string[] = [];
    for (const name of ['js_promise', 'js_error', 'js_null', 'js_function']) {
      if (lua.luaL_getmetatable(g.address, name) !== 0) found.push(name);
      lua.lua_settop(g.address, -2);
    }
    return found;
  });
  expect(names).toEqual(['js_function']);
});

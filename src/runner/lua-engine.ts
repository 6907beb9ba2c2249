/**
 * A Lua engine ready for one run: a fresh wasmoon state with the prelude (sandbox and
 * modules) already loaded, an instruction hook that stops the script when its run is
 * stopped, and the prelude's `main` kept in the registry. Workers prepare the next
 * engine while idle so a run starts without paying for engine setup.
 */
import { LUA_REGISTRYINDEX, LuaEngine, LuaEventMasks, LuaReturn, type LuaWasm } from 'wasmoon';
import { STOP_MESSAGE } from './modules/core.js';
import { PRELUDE_SOURCE } from './modules/prelude.js';
import { createHost, type ContextHolder } from './host.js';
import type { RunContext } from './run-context.js';

/** The hook runs every this many Lua instructions to check for timeout / cancel. */
const HOOK_INSTRUCTIONS = 10_000;

export class PreparedEngine {
  private readonly engine: LuaEngine;
  private readonly holder: ContextHolder = { ctx: null };
  private readonly hook: number;
  private readonly mainRef: number;
  private closed = false;

  constructor(private readonly lua: LuaWasm) {
    this.engine = new LuaEngine(lua, { injectObjects: true, enableProxy: false, traceAllocations: true });
    const g = this.engine.global;
    const holder = this.holder;
    // Our own hook instead of thread.run's timeout: it also sees cancels, and we free it.
    this.hook = lua.module.addFunction((L: number) => {
      const ctx = holder.ctx;
      if (ctx && ctx.checkDeadline()) {
        lua.lua_pushstring(L, STOP_MESSAGE);
        lua.lua_error(L);
      }
    }, 'vii');
    try {
      const prelude = compiledPrelude(lua);
      const loaded = lua.luaL_loadbufferx(g.address, prelude.ptr, prelude.size, '=topas', 'b');
      if (loaded !== LuaReturn.Ok) throw new Error(`topas: the compiled Lua prelude did not load (status ${loaded})`);
      g.pushValue(createHost(holder));
      const status = lua.lua_pcallk(g.address, 1, 1, 0, 0, null);
      if (status !== LuaReturn.Ok) {
        const message = lua.lua_tolstring(g.address, -1, null);
        throw new Error(`topas: the Lua prelude failed to load: ${message}`);
      }
      this.mainRef = lua.luaL_ref(g.address, LUA_REGISTRYINDEX);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Runs the job's script to its end (or stop); the context collects what happened. */
  async run(ctx: RunContext): Promise<void> {
    const { job } = ctx;
    this.holder.ctx = ctx;
    const g = this.engine.global;
    g.setMemoryMax(g.getMemoryUsed() + job.memoryLimitBytes);
    const thread = g.newThread();
    this.lua.lua_sethook(thread.address, this.hook, LuaEventMasks.Count, HOOK_INSTRUCTIONS);
    this.lua.lua_rawgeti(thread.address, LUA_REGISTRYINDEX, BigInt(this.mainRef));
    thread.pushValue(job.script);
    thread.pushValue(job.fileName);
    thread.pushValue({ ...job.env });
    try {
      await thread.run(3);
    } catch (err) {
      // Only a stop or exhausted memory gets past main's own pcall.
      if (!ctx.checkDeadline()) ctx.uncaught(firstLine(err));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.holder.ctx = null;
    try {
      this.engine.global.close();
    } finally {
      this.lua.module.removeFunction(this.hook);
    }
  }
}

/**
 * The prelude compiled once per wasm module (i.e. per worker) and kept in wasm memory:
 * loading bytecode is ~10x cheaper than compiling the source for every engine. It is
 * our own code, dumped by the same Lua; scripts still cannot load binary chunks.
 */
const compiled = new WeakMap<LuaWasm, { ptr: number; size: number }>();

function compiledPrelude(lua: LuaWasm): { ptr: number; size: number } {
  const known = compiled.get(lua);
  if (known) return known;
  const compiler = new LuaEngine(lua, { openStandardLibs: false });
  const chunks: Uint8Array[] = [];
  const writer = lua.module.addFunction((_L: number, p: number, size: number) => {
    chunks.push(lua.module.HEAPU8.slice(p, p + size));
    return 0;
  }, 'iiiii');
  try {
    compiler.global.loadString(PRELUDE_SOURCE, '=topas');
    lua.lua_dump(compiler.global.address, writer, null, 0);
  } finally {
    lua.module.removeFunction(writer);
    compiler.global.close();
  }
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const ptr = lua.module._malloc(size);
  let at = ptr;
  for (const c of chunks) {
    lua.module.HEAPU8.set(c, at);
    at += c.length;
  }
  const result = { ptr, size };
  compiled.set(lua, result);
  return result;
}

/** wasmoon appends a traceback to error messages; keep the message. */
function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const at = message.indexOf('\nstack traceback:');
  return at >= 0 ? message.slice(0, at) : message;
}

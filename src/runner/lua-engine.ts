/**
 * A Lua engine ready for one run: a fresh wasmoon state (its memory counted and capped
 * in wasm, see lua-wasm.ts) with the prelude (sandbox and modules) already loaded, a
 * hook that stops the script when its run is stopped, and the prelude's `main` kept in
 * the registry. The hook is set by the VM checkpoint once the run must stop (no hook,
 * no cost, until then); on a VM without checkpoints it is a count hook from the start.
 * Workers prepare the next engine while idle so a run starts without paying for engine
 * setup.
 */
import { LUA_REGISTRYINDEX, LuaEngine, LuaEventMasks, LuaReturn, type LuaWasm } from 'wasmoon';
import { STOP_MESSAGE } from './modules/core.js';
import { LAZY_MODULE_SOURCES, PRELUDE_SOURCE } from './modules/prelude.js';
import { createHost, type ContextHolder } from './host.js';
import { createLeanEngine } from './lean-engine.js';
import { CHECK_INSTRUCTIONS, createCountedEngine, freeStateMemory, vmCheckpoint, type StateMemory } from './lua-wasm.js';
import type { RunContext } from './run-context.js';
import { threadCpuClock, type ThreadCpuClock } from './thread-cpu-clock.js';
import type { RunProfile } from '../core/run.js';

export class PreparedEngine {
  private readonly engine: LuaEngine;
  private readonly memory: StateMemory;
  private readonly holder: ContextHolder = { ctx: null };
  private readonly hook: number;
  private readonly mainRef: number;
  private closed = false;
  /** CPU time (ns on `clock`) this engine's run used: preparing the state, every resume of its script, closing it. */
  private cpuNs = 0;
  /** The most the Lua state held at once (bytes), counted by the allocator; kept here once the state is gone. */
  private peakBytes = 0;

  constructor(
    private readonly lua: LuaWasm,
    private readonly clock: ThreadCpuClock = thisThreadClock(),
  ) {
    const started = clock.now();
    ({ engine: this.engine, memory: this.memory } = createCountedEngine(lua, () => createLeanEngine(lua)));
    const g = this.engine.global;
    openSandboxLibraries(lua, g.address);
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
      const loaded = lua.luaL_loadbufferx(g.address, prelude.main.ptr, prelude.main.size, '=topas', 'b');
      if (loaded !== LuaReturn.Ok) throw new Error(`topas: the compiled Lua prelude did not load (status ${loaded})`);
      // One function, not the table: the prelude asks for each host function the first
      // time it uses one (a trivial run uses a few of thirty; each pushed is a wrapper).
      const host: Record<string, unknown> = createHost(holder);
      g.pushValue((name: string) => (Object.hasOwn(host, name) ? host[name] : undefined));
      lua.lua_pushcclosure(g.address, prelude.loadModule, 0);
      const status = lua.lua_pcallk(g.address, 2, 1, 0, 0, null);
      if (status !== LuaReturn.Ok) {
        const message = lua.lua_tolstring(g.address, -1, null);
        throw new Error(`topas: the Lua prelude failed to load: ${message}`);
      }
      this.mainRef = lua.luaL_ref(g.address, LUA_REGISTRYINDEX);
    } catch (err) {
      this.close();
      throw err;
    }
    this.cpuNs += clock.now() - started;
  }

  /** What the run used so far: complete once the engine is closed. */
  profile(): RunProfile {
    const peakMemoryBytes = this.closed ? this.peakBytes : this.memory.peak;
    return { cpuMs: Math.round(this.cpuNs / 1000) / 1000, peakMemoryBytes };
  }

  /** Runs the job's script to its end (or stop); the context collects what happened. */
  async run(ctx: RunContext): Promise<void> {
    const { job } = ctx;
    this.holder.ctx = ctx;
    const g = this.engine.global;
    this.memory.setMax(this.memory.used + job.memoryLimitBytes);
    this.memory.resetPeak(); // the run's peak, from the prepared state it starts with
    const thread = g.newThread();
    const checkpoint = vmCheckpoint(this.lua);
    // At a checkpoint the VM is between two instructions of state L (the script's thread
    // or one of its coroutines); a stopped run gets the hook there, which raises the stop
    // at L's next instruction (and every one after). The stop passes up through every
    // pcall and resume of the prelude (protected-calls.ts).
    const stopAtCheckpoint = (L: number) => {
      if (ctx.checkDeadline()) this.lua.lua_sethook(L, this.hook, LuaEventMasks.Count, 1);
    };
    // Every slice of the script runs inside a resume (host functions it calls included);
    // between them it waits (sleep, net, db) and other runs of this worker may go.
    const resume = thread.resume.bind(thread);
    thread.resume = (argCount?: number) => {
      const from = this.clock.now();
      if (checkpoint) checkpoint.current = stopAtCheckpoint;
      try {
        return resume(argCount);
      } finally {
        if (checkpoint) checkpoint.current = null;
        this.cpuNs += this.clock.now() - from;
      }
    };
    if (!checkpoint) this.lua.lua_sethook(thread.address, this.hook, LuaEventMasks.Count, CHECK_INSTRUCTIONS);
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
    const from = this.clock.now();
    this.peakBytes = this.memory.peak;
    try {
      this.engine.global.close();
    } finally {
      freeStateMemory(this.lua, this.memory);
      this.lua.module.removeFunction(this.hook);
      this.cpuNs += this.clock.now() - from;
    }
  }
}

/**
 * The standard libraries a script's state starts with: all of Lua's but `io` and
 * `package`, which the sandbox would remove at once (opening them was a tenth of a
 * state's set-up: `package` builds its search paths from the environment, `io` its
 * three standard files). `debug` and `os` are opened for the prelude, which keeps what
 * it needs of them (`T.raw`, `os.time` and friends) before the sandbox removes them.
 */
const SANDBOX_LIBRARIES = ['coroutine', 'table', 'string', 'math', 'utf8', 'os', 'debug'] as const;

export function openSandboxLibraries(lua: LuaWasm, L: number): void {
  lua.luaopen_base(L); // sets the base functions in _G and pushes it
  lua.lua_settop(L, -2);
  for (const name of SANDBOX_LIBRARIES) {
    lua[`luaopen_${name}`](L); // pushes the library's table
    lua.lua_setglobal(L, name);
  }
}

/** The CPU clock of the thread this module was loaded in (each worker thread loads its own copy). */
let clockOfThisThread: ThreadCpuClock | null = null;
function thisThreadClock(): ThreadCpuClock {
  return (clockOfThisThread ??= threadCpuClock());
}

/** Bytecode kept in wasm memory. */
interface Chunk {
  ptr: number;
  size: number;
}

/**
 * The prelude compiled once per wasm module (i.e. per worker) and kept in wasm memory:
 * loading bytecode is ~10x cheaper than compiling the source for every engine. It is
 * our own code, dumped by the same Lua; scripts still cannot load binary chunks. The
 * lazy modules are chunks of their own, loaded into a state by `loadModule` (a C
 * function the prelude keeps to itself: `load_module(i)` returns module i's chunk as a
 * function) the first time its script uses one.
 */
const compiled = new WeakMap<LuaWasm, { main: Chunk; loadModule: number }>();

function compiledPrelude(lua: LuaWasm): { main: Chunk; loadModule: number } {
  const known = compiled.get(lua);
  if (known) return known;
  const main = compileChunk(lua, PRELUDE_SOURCE);
  const modules = LAZY_MODULE_SOURCES.map((source) => compileChunk(lua, source));
  const loadModule = lua.module.addFunction((L: number) => {
    const chunk = modules[lua.lua_tonumberx(L, 1, null)];
    if (!chunk) {
      lua.lua_pushstring(L, 'topas: no such prelude module');
      return lua.lua_error(L);
    }
    // Fails only when the run's memory cap leaves no room for the module's code.
    if (lua.luaL_loadbufferx(L, chunk.ptr, chunk.size, '=topas', 'b') !== LuaReturn.Ok) return lua.lua_error(L);
    return 1;
  }, 'ii');
  const result = { main, loadModule };
  compiled.set(lua, result);
  return result;
}

function compileChunk(lua: LuaWasm, source: string): Chunk {
  const compiler = new LuaEngine(lua, { openStandardLibs: false });
  const chunks: Uint8Array[] = [];
  const writer = lua.module.addFunction((_L: number, p: number, size: number) => {
    chunks.push(lua.module.HEAPU8.slice(p, p + size));
    return 0;
  }, 'iiiii');
  try {
    compiler.global.loadString(source, '=topas');
    // Stripped of debug information (line numbers, local names): a third less to undump
    // for every state. Nothing reads it: `T.line` and `T.where` look for frames of the
    // user's own files, which keep theirs, and errors our code raises name the script's line.
    lua.lua_dump(compiler.global.address, writer, null, 1);
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
  return { ptr, size };
}

/** wasmoon appends a traceback to error messages; keep the message. */
function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const at = message.indexOf('\nstack traceback:');
  return at >= 0 ? message.slice(0, at) : message;
}

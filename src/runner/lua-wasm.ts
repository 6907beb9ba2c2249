/**
 * The Lua wasm module of one thread, prepared for topas engines: JS callbacks reuse
 * function-table slots (no wasm compiled per engine), and states are created with the
 * counting allocator (the memory cap and the peak counted in wasm, no JS call per
 * allocation), and its VM has a checkpoint for stopping scripts without a count hook
 * (vm-checkpoints.ts). One per worker thread; many states live in it at once.
 */
import { LuaFactory, LuaWasm, type LuaEngine } from 'wasmoon';
import { countingAllocator, NO_CAP, type LuaInstanceExports } from './counting-allocator.js';
import { useLeanCcall, type StackExports } from './c-calls.js';
import { poolFunctionSlots } from './function-slots.js';
import { addVmCheckpoints, CHECKPOINT_EXPORT } from './vm-checkpoints.js';

/** Lua instructions between two looks at whether the running script must stop. */
export const CHECK_INSTRUCTIONS = 10_000;

/**
 * The VM checkpoint of one Lua module (see vm-checkpoints.ts): every CHECK_INSTRUCTIONS
 * instructions the VM calls `current` (when set) with the running `lua_State*`. The
 * engine whose script holds the thread sets it for the length of each resume.
 */
export interface VmCheckpoint {
  current: ((L: number) => void) | null;
}
const checkpoints = new WeakMap<LuaWasm, VmCheckpoint>();

/** The module's checkpoint, or null when its VM has none (then use a count hook). */
export function vmCheckpoint(lua: LuaWasm): VmCheckpoint | null {
  return checkpoints.get(lua) ?? null;
}

/** The counters of one Lua state, in its wasm memory (see counting-allocator.ts). */
export class StateMemory {
  constructor(
    private readonly lua: LuaWasm,
    /** Address of the state's counters: used, max, peak (u32 each). */
    readonly address: number,
  ) {}

  private get heap(): Uint32Array {
    return this.lua.module.HEAPU32; // re-read: the view changes when memory grows
  }
  /** Bytes the state holds now. */
  get used(): number {
    return this.heap[this.address >>> 2]!;
  }
  /** The most the state held at once since the last `resetPeak`. */
  get peak(): number {
    return this.heap[(this.address >>> 2) + 2]!;
  }
  /** Lets the state grow to `bytes` in all (null: no cap). */
  setMax(bytes: number | null): void {
    this.heap[(this.address >>> 2) + 1] = bytes === null ? NO_CAP : Math.min(NO_CAP, Math.max(0, Math.floor(bytes)));
  }
  resetPeak(): void {
    this.heap[(this.address >>> 2) + 2] = this.used;
  }
}

interface Prepared {
  allocator: number;
  /** Counters for the state being created now (read by the patched `luaL_newstate`). */
  pending: number | null;
}
const prepared = new WeakMap<LuaWasm, Prepared>();

/**
 * Loads a Lua wasm module (one instance) and prepares it as described above. With
 * `checkpoints` (the default) its VM gets the checkpoint of vm-checkpoints.ts when
 * the module is the Lua it expects; false keeps wasmoon's VM as it is (tests of the
 * count-hook fallback).
 */
export async function loadLuaWasm(options: { checkpoints?: boolean } = {}): Promise<LuaWasm> {
  const { lua, exports } = await loadCapturingExports(options.checkpoints !== false);
  poolFunctionSlots(lua);
  const slot = exports[CHECKPOINT_EXPORT];
  if (slot instanceof WebAssembly.Global) {
    const checkpoint: VmCheckpoint = { current: null };
    slot.value = lua.module.addFunction((L: number) => {
      try {
        checkpoint.current?.(L);
      } catch {
        // an exception must not unwind the VM's frames; the next checkpoint tries again
      }
      return CHECK_INSTRUCTIONS;
    }, 'ii');
    checkpoints.set(lua, checkpoint);
  }
  useLeanCcall(lua, exports as unknown as StackExports & Record<string, unknown>);
  const allocator = lua.module.addFunction(countingAllocator(exports), 'iiiii');
  const state: Prepared = { allocator, pending: null };
  const newState = lua.luaL_newstate.bind(lua);
  // wasmoon's LuaEngine asks for a state here; ours come with their counters
  lua.luaL_newstate = () => (state.pending === null ? newState() : lua.lua_newstate(allocator, state.pending));
  prepared.set(lua, state);
  return lua;
}

/**
 * A wasmoon engine whose state counts its memory in wasm: `build` makes the engine (its
 * state comes from `lua.luaL_newstate`, which then gives one with counters). Free
 * `memory` (with `freeStateMemory`) after closing the engine.
 */
export function createCountedEngine(lua: LuaWasm, build: () => LuaEngine): { engine: LuaEngine; memory: StateMemory } {
  const state = prepared.get(lua);
  if (!state) throw new Error('topas: this Lua module was not loaded by loadLuaWasm');
  const address = lua.module._malloc(12);
  if (!address) throw new Error('topas: no wasm memory left for a Lua state');
  lua.module.HEAPU32.fill(0, address >>> 2, (address >>> 2) + 3);
  const memory = new StateMemory(lua, address);
  memory.setMax(null);
  state.pending = address;
  try {
    return { engine: build(), memory };
  } catch (err) {
    lua.module._free(address);
    throw err;
  } finally {
    state.pending = null;
  }
}

export function freeStateMemory(lua: LuaWasm, memory: StateMemory): void {
  lua.module._free(memory.address);
}

/**
 * wasmoon does not hand out its wasm instance; the allocator needs its memory,
 * `realloc` and `free` as wasm functions (so calls between them stay in wasm). The
 * instance is seen as it is made: emscripten calls `WebAssembly.instantiate` once,
 * while this thread waits for nothing else.
 */
async function loadCapturingExports(withCheckpoints: boolean): Promise<{ lua: LuaWasm; exports: LuaInstanceExports & Record<string, unknown> }> {
  const original = WebAssembly.instantiate;
  let exports: (LuaInstanceExports & Record<string, unknown>) | null = null;
  const seeing = async function (this: unknown, ...args: Parameters<typeof WebAssembly.instantiate>) {
    const [source] = args;
    if (withCheckpoints && (source instanceof Uint8Array || source instanceof ArrayBuffer)) {
      const patched = addVmCheckpoints(source instanceof Uint8Array ? source : new Uint8Array(source), CHECK_INSTRUCTIONS);
      if (patched) args[0] = patched;
    }
    const result = await (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    const instance = result instanceof WebAssembly.Instance ? result : (result as WebAssembly.WebAssemblyInstantiatedSource).instance;
    const e = instance.exports as Partial<LuaInstanceExports> & { lua_newstate?: unknown };
    if (e.lua_newstate && e.memory instanceof WebAssembly.Memory && typeof e.realloc === 'function' && typeof e.free === 'function') {
      exports = { ...(instance.exports as object), memory: e.memory, realloc: e.realloc, free: e.free };
    }
    return result;
  };
  // wasmoon calls every C function through emscripten's ccall (argument converters
  // built per call, a checking wrapper): those taking and returning numbers only are
  // bound to the wasm export itself. Same function, same arguments, no detour.
  const proto = LuaWasm.prototype as unknown as { cwrap: (name: string, ret: string | null, args: string[]) => unknown };
  const cwrap = proto.cwrap;
  proto.cwrap = function (this: unknown, name: string, ret: string | null, args: string[]) {
    const direct = (exports as unknown as Record<string, unknown> | null)?.[name];
    if (typeof direct === 'function' && (ret === null || ret === 'number') && args.every((a) => a === 'number')) return direct;
    return cwrap.call(this, name, ret, args);
  };
  WebAssembly.instantiate = seeing as typeof WebAssembly.instantiate;
  let lua: LuaWasm;
  try {
    lua = await new LuaFactory().getLuaModule();
  } finally {
    WebAssembly.instantiate = original;
    proto.cwrap = cwrap;
  }
  if (!exports) throw new Error('topas: the Lua wasm instance was not seen while loading (wasmoon changed how it loads?)');
  return { lua, exports };
}

/**
 * Reusable function-table slots for JS callbacks. Emscripten's `addFunction` compiles
 * and instantiates a small wasm module for every JS function it puts in the table
 * (Node 20 has no `WebAssembly.Function`), and wasmoon adds six or seven per engine
 * plus one per awaited promise. Here each slot is built once, around a trampoline
 * that calls whichever function the slot holds now; `removeFunction` gives the slot
 * back for the next function of the same signature. What Lua calls is unchanged.
 */
import type { LuaWasm } from 'wasmoon';

type Callback = (...args: number[]) => unknown;

interface Slot {
  target: Callback;
  signature: string;
}

/** What a freed slot calls: nothing should, so say so loudly. */
const released: Callback = () => {
  throw new Error('topas: a released Lua callback was called');
};

/** Makes `lua.module.addFunction/removeFunction` reuse slots; idempotent per module. */
export function poolFunctionSlots(lua: LuaWasm): void {
  const module = lua.module as LuaWasm['module'] & { topasSlots?: true };
  if (module.topasSlots) return;
  module.topasSlots = true;
  const add = module.addFunction.bind(module);
  const remove = module.removeFunction.bind(module);
  const slots = new Map<number, Slot>();
  const free = new Map<string, number[]>();
  module.addFunction = ((fn: Callback, signature: string): number => {
    // Functions exported by a wasm instance go into the table as they are: nothing to compile.
    if (isWasmFunction(fn)) return add(fn, signature);
    const index = free.get(signature)?.pop();
    if (index !== undefined) {
      slots.get(index)!.target = fn;
      return index;
    }
    const slot: Slot = { target: fn, signature };
    const created = add(trampoline(slot, signature), signature);
    slots.set(created, slot);
    return created;
  }) as typeof module.addFunction;
  module.removeFunction = ((index: number): void => {
    const slot = slots.get(index);
    if (!slot) return remove(index);
    slot.target = released;
    let list = free.get(slot.signature);
    if (!list) free.set(slot.signature, (list = []));
    list.push(index);
  }) as typeof module.removeFunction;
}

/** A fixed-arity forwarder for the signatures wasmoon uses (any other: rest arguments). */
function trampoline(slot: Slot, signature: string): Callback {
  switch (signature.length - 1) {
    case 1:
      return (a) => slot.target(a);
    case 2:
      return (a, b) => slot.target(a, b);
    case 3:
      return (a, b, c) => slot.target(a, b, c);
    case 4:
      return (a, b, c, d) => slot.target(a, b, c, d);
    default:
      return (...args) => slot.target(...args);
  }
}

function isWasmFunction(fn: Callback): boolean {
  // exported wasm functions print as "function 12() { [native code] }" (their index)
  return /^function \d+\(\) \{ \[native code\] \}$/.test(Function.prototype.toString.call(fn));
}

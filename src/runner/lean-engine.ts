/**
 * The wasmoon engine of a run's state, built as wasmoon's own constructor builds one
 * with `injectObjects: true, enableProxy: false, openStandardLibs: false` (wasmoon 1.16,
 * `LuaEngine` in dist/index.js), but lighter: the type extensions a script rarely meets
 * — JS promises and JS errors — are made the first time a value of theirs is pushed, and
 * JS `null` is pushed as nil. wasmoon made each for every state: a metatable and a dozen
 * JS functions pushed into it (each a userdata with a finalizer), and the globals
 * `Promise`, `Error` and `null`, which the sandbox deletes before any script runs — so
 * a `null` reached scripts as nil already. That was a fifth of a state's set-up and
 * close. wasmoon does not export its extension classes: they are taken from one engine
 * made its usual way per Lua module.
 */
import { LuaEngine, LuaGlobal, LuaTypeExtension, LuaType, type Decoration, type LuaThread, type LuaWasm } from 'wasmoon';

type Extension = LuaTypeExtension<unknown>;
type ExtensionClass = new (global: LuaGlobal, ...args: unknown[]) => Extension;

interface ExtensionClasses {
  table: ExtensionClass;
  function: ExtensionClass;
  promise: ExtensionClass;
  error: ExtensionClass;
  userdata: ExtensionClass;
}

const classesByModule = new WeakMap<LuaWasm, ExtensionClasses>();

function extensionClasses(lua: LuaWasm): ExtensionClasses {
  const known = classesByModule.get(lua);
  if (known) return known;
  const template = new LuaEngine(lua, { injectObjects: true, enableProxy: false, openStandardLibs: false });
  try {
    const byName = new Map<string, ExtensionClass>();
    for (const { extension } of (template.global as unknown as { typeExtensions: { extension: Extension }[] }).typeExtensions) {
      byName.set(extension.name, extension.constructor as ExtensionClass);
    }
    const get = (name: string): ExtensionClass => {
      const found = byName.get(name);
      if (!found) throw new Error(`topas: this wasmoon has no ${name} type extension (wasmoon 1.16 expected)`);
      return found;
    };
    const classes = { table: get('js_table'), function: get('js_function'), promise: get('js_promise'), error: get('js_error'), userdata: get('js_userdata') };
    classesByModule.set(lua, classes);
    return classes;
  } finally {
    template.global.close();
  }
}

/** An extension made the first time a value it `accepts` is pushed; until then nothing of its kind can be in the state. */
class OnFirstUse extends LuaTypeExtension<unknown> {
  private made: Extension | null = null;

  constructor(
    global: LuaGlobal,
    name: string,
    private readonly accepts: (target: unknown) => boolean,
    private readonly make: () => Extension,
  ) {
    super(global, name);
  }

  override isType(thread: LuaThread, index: number, type: LuaType, name?: string): boolean {
    return this.made !== null && this.made.isType(thread, index, type, name);
  }

  override getValue(thread: LuaThread, index: number, userdata?: unknown): unknown {
    if (!this.made) throw new Error(`topas: no ${this.name} value was pushed into this state`);
    return this.made.getValue(thread, index, userdata);
  }

  override pushValue(thread: LuaThread, decorated: Decoration<unknown>, userdata?: unknown): boolean {
    if (!this.accepts(decorated.target)) return false;
    // Builds its metatable on the global state's stack, which is idle while a script's thread runs.
    this.made ??= this.make();
    return this.made.pushValue(thread, decorated, userdata);
  }

  close(): void {
    this.made?.close();
  }
}

/** JS null as nil: what the sandbox's deleting the `null` global made of it before. */
class NullAsNil extends LuaTypeExtension<unknown> {
  constructor(global: LuaGlobal) {
    super(global, 'js_null');
  }

  override isType(): boolean {
    return false;
  }

  override pushValue(thread: LuaThread, decorated: Decoration<unknown>): boolean {
    if (decorated.target !== null) return false;
    thread.lua.lua_pushnil(thread.address);
    return true;
  }

  close(): void {}
}

/** Whether wasmoon's promise extension takes `target` (its own test). */
function isThenable(target: unknown): boolean {
  return Promise.resolve(target) === target || typeof (target as { then?: unknown } | null)?.then === 'function';
}

/**
 * A run's engine on a new state (made by `lua.luaL_newstate`, so `createCountedEngine`'s
 * counted allocator applies), its standard libraries not opened. Priorities as wasmoon's.
 */
export function createLeanEngine(lua: LuaWasm): LuaEngine {
  const classes = extensionClasses(lua);
  const global = new LuaGlobal(lua, false);
  try {
    global.registerTypeExtension(0, new classes.table(global));
    global.registerTypeExtension(0, new classes.function(global, { functionTimeout: undefined }));
    global.registerTypeExtension(1, new OnFirstUse(global, 'js_promise', isThenable, () => new classes.promise(global, false)));
    global.registerTypeExtension(5, new NullAsNil(global));
    global.registerTypeExtension(1, new OnFirstUse(global, 'js_error', (t) => t instanceof Error, () => new classes.error(global, false)));
    global.registerTypeExtension(4, new classes.userdata(global));
  } catch (err) {
    global.close();
    throw err;
  }
  // A LuaEngine's methods read only these two fields.
  return Object.assign(Object.create(LuaEngine.prototype) as LuaEngine, { cmodule: lua, global });
}

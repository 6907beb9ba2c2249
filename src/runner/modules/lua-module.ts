/**
 * A piece of the Lua prelude every run gets. Each module's `lua` is a chunk body run
 * once per engine, before the user script, with two locals in scope:
 * `T` (the prelude's private table shared between modules) and `host` (JS functions).
 * Modules publish user-facing tables into `T.modules` (what `require` returns) and
 * globals into `T.globals`; the sandbox module installs them last.
 */
export interface LuaModule {
  name: string;
  lua: string;
  /**
   * Made on first use, not for every run (`T.lazy` in core.ts). `true`: the module
   * publishes one table named after it, filled through `T.module_table(name)`, and its
   * code runs when a script first touches that table (or before code that may look
   * past its metatable runs: `T.make_modules_for`). A list: the module publishes
   * these global functions, and its code runs at the first call of one of them. Either
   * way nothing else in `T` may depend on it.
   */
  lazy?: true | readonly string[];
}

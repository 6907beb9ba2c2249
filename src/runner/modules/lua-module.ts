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
}

import type { LuaModule } from './lua-module.js';

/**
 * The function the prelude returns: runs one user script (compiled as text with chunk
 * name "@file", so errors read `hello.lua:12: ...`) and reports how it ended.
 */
export const mainModule: LuaModule = {
  name: 'main',
  lua: String.raw`
T.main = function(source, file, env)
  T.file, T.source = file, "@" .. file
  _G.env = env
  local fn, err = T.raw.load(source, "@" .. file, "t")
  if not fn then
    host.script_invalid(err)
    return
  end
  local ok, e = T.raw.pcall(fn)
  if not ok and not T.is_abort(e) and not (type(e) == "string" and e:find(T.STOP, 1, true)) then
    host.uncaught(T.error_text(e))
  end
  host.finish(T.unrecorded_passed)
end
`,
};

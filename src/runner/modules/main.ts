import type { LuaModule } from './lua-module.js';

/**
 * The function the prelude returns: runs one user script (compiled as text with chunk
 * name "@file", so errors read `hello.lua:12: ...`) and reports how it ended. A
 * top-level `skip(reason)` ends the script early as skipped (the run still passes).
 * Then, unless the run was stopped, top-level `defer`s and `after_all` hooks run.
 */
export const mainModule: LuaModule = {
  name: 'main',
  lua: String.raw`
local function stopped(e)
  return type(e) == "string" and e:find(T.STOP, 1, true) ~= nil
end

T.main = function(source, file, env)
  T.file, T.source = file, "@" .. file
  _G.env = env
  T.make_modules_for(source)
  local fn, err = T.raw.load(source, "@" .. file, "t")
  if not fn then
    host.script_invalid(err)
    return
  end
  local ok, e = T.raw.pcall(fn)
  if not ok then
    if stopped(e) then
      host.finish(T.unrecorded_passed)
      return
    end
    if T.is_fatal(e) then
      host.uncaught(e)
      host.finish(T.unrecorded_passed)
      return
    end
    if T.is_skip(e) then host.skipped(e.reason)
    elseif not T.is_abort(e) then host.uncaught(T.error_text(e)) end
  end
  local fin_ok, fin_e = T.raw.pcall(T.finish_script)
  if not fin_ok and not stopped(fin_e) and not T.is_abort(fin_e) then host.uncaught(T.error_text(fin_e)) end
  host.finish(T.unrecorded_passed)
end
`,
};

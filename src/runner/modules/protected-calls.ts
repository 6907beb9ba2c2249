import type { LuaModule } from './lua-module.js';

/**
 * `pcall`, `xpcall`, `coroutine.resume` and `coroutine.wrap` as scripts know them, with
 * two differences: a stopped run (timeout, cancel) or exhausted memory cannot be caught,
 * and `sleep` / `net` work inside coroutines (their wait is passed up to the runner).
 */
export const protectedCallsModule: LuaModule = {
  name: 'protected-calls',
  lua: String.raw`
local raw, passthrough, is_fatal = T.raw, T.passthrough, T.is_fatal
local pack, unpack, type = table.pack, table.unpack, type

T.globals.pcall = function(f, ...) return passthrough(raw.pcall(f, ...)) end
T.globals.xpcall = function(f, handler, ...)
  return passthrough(raw.xpcall(f, function(e)
    if is_fatal(e) then return e end
    return handler(e)
  end, ...))
end

-- Resumes co; while it is suspended in a host wait (it yielded one userdata: the
-- promise of sleep/net), yield that wait to our own resumer and resume co after it.
local function forward(co, ...)
  local r = pack(raw.resume(co, ...))
  while r[1] and r.n == 2 and type(r[2]) == "userdata" and raw.status(co) == "suspended" do
    raw.yield(r[2])
    r = pack(raw.resume(co))
  end
  return r
end

local co = {}
for k, v in pairs(coroutine) do co[k] = v end
co.resume = function(c, ...)
  local r = forward(c, ...)
  return passthrough(unpack(r, 1, r.n))
end
co.wrap = function(f)
  local c = raw.create(f)
  return function(...)
    local r = forward(c, ...)
    if r[1] then return unpack(r, 2, r.n) end
    error(r[2], 0)
  end
end
T.globals.coroutine = co
`,
};

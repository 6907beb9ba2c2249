import type { LuaModule } from './lua-module.js';

/**
 * Internals the other modules share: the untouched standard functions (captured
 * before the sandbox removes them), the "run stopped" error, and `T.where()`, the
 * `file:line` of the user-script code that called into a module.
 */
export const STOP_MESSAGE = 'topas: the run was stopped (timeout or cancel)';

export const coreModule: LuaModule = {
  name: 'core',
  lua: String.raw`
T.modules = {}
T.globals = {}
T.raw = {
  pcall = pcall, xpcall = xpcall, error = error, load = load, getinfo = debug.getinfo,
  traceback = debug.traceback, resume = coroutine.resume, yield = coroutine.yield,
  status = coroutine.status, create = coroutine.create, running = coroutine.running,
  tostring = tostring, type = type, select = select, setmetatable = setmetatable,
}
T.STOP = ${JSON.stringify(STOP_MESSAGE)}
T.file = "?"
T.source = "@?"

local find, sub, type = string.find, string.sub, type

-- An error no script code may swallow: the run was stopped, or memory ran out.
function T.is_fatal(e)
  if type(e) ~= "string" then return false end
  return find(e, T.STOP, 1, true) ~= nil or e == "not enough memory" or sub(e, -19) == ": not enough memory"
end

-- The line of the innermost user-script frame that called into us (nil if none).
function T.line(level)
  local getinfo = T.raw.getinfo
  level = (level or 2) + 1
  local fallback = nil
  while true do
    local info = getinfo(level, "Sl")
    if not info then return fallback end
    if info.source == T.source and info.currentline > 0 then return info.currentline end
    level = level + 1
  end
end

-- Chunk sources of the bundled files loaded by require ("@lib/http.lua" -> "lib/http.lua").
T.sources = {}

-- The file and line of the innermost user code (the script or a bundled module) that called into us.
function T.frame(level)
  local getinfo = T.raw.getinfo
  level = (level or 2) + 1
  while true do
    local info = getinfo(level, "Sl")
    if not info then return nil, nil end
    if info.currentline > 0 then
      if info.source == T.source then return T.file, info.currentline end
      local f = T.sources[info.source]
      if f then return f, info.currentline end
    end
    level = level + 1
  end
end

-- "hello.lua:12" (or "lib/http.lua:3") for the user code that called into us.
function T.where(level)
  local file, line = T.frame((level or 2) + 1)
  if line then return file .. ":" .. line end
  return T.file
end

-- Modules made on first use (lua-module.ts, lazy): until a script touches one, its
-- table is a stand-in whose first use runs the module's code into that same table.
local stand_ins, makers, rawget, rawset, rawlen, setmetatable, next, ipairs, pairs = {}, {}, rawget, rawset, rawlen, setmetatable, next, ipairs, pairs
function T.make_module(name)
  local make = makers[name]
  if not make then return end
  makers[name] = nil
  setmetatable(stand_ins[name], nil)
  make()
end
-- Code that may look at a module's table past its metatable (rawget, rawset, rawlen,
-- next, get/setmetatable) gets every module made before it runs: the script, each
-- file it requires and each chunk it loads are checked (a chunk given as a function
-- cannot be, so it gets them all). Wrapping those functions instead would change
-- the errors they raise (their name and the script's line).
function T.make_modules_for(code)
  if next(makers) == nil then return end
  if type(code) == "string" and not find(code, "raw", 1, true) and not find(code, "next", 1, true) and not find(code, "metatable", 1, true) then return end
  for name in pairs(makers) do T.make_module(name) end
end
function T.lazy(name, make)
  local t = {}
  stand_ins[name], makers[name] = t, make
  setmetatable(t, {
    __index = function(_, k) T.make_module(name) return rawget(t, k) end,
    __newindex = function(_, k, v) T.make_module(name) rawset(t, k, v) end,
    __pairs = function() T.make_module(name) return next, t, nil end,
    __len = function() T.make_module(name) return rawlen(t) end,
  })
  T.modules[name], T.globals[name] = t, t
end
-- Global functions whose module is made at the first call of one of them (the
-- module's code sets the real ones in T.globals; these stand-ins stay in _G and forward).
function T.lazy_globals(names, make)
  local made = false
  for _, name in ipairs(names) do
    T.globals[name] = function(...)
      if not made then
        made = true
        make()
      end
      return T.globals[name](...)
    end
  end
end
-- The table a module fills: its stand-in when it is made on first use.
function T.module_table(name)
  return stand_ins[name] or {}
end

-- Re-raises fatal errors caught by a protected call, passes everything else through.
function T.passthrough(ok, ...)
  if not ok and T.is_fatal((...)) then T.raw.error((...), 0) end
  return ok, ...
end
`,
};

import type { LuaModule } from './lua-module.js';

/**
 * The sandbox: what a script can reach. Removed: `io`, `debug`, `dofile`, `loadfile`,
 * `package` (and its C loaders), `string.dump`, `os` except `os.time/clock/date/difftime`,
 * and wasmoon's injected `null`, `Promise`, `Error`. `load` compiles text only (mode "t").
 * `require` returns only our modules. Runs last: it installs the other modules' globals.
 */
export const sandboxModule: LuaModule = {
  name: 'sandbox',
  lua: String.raw`
local G = _G
local raw_load, error, type, tostring, concat, sort = T.raw.load, error, type, tostring, table.concat, table.sort

local available = {}
for name in pairs(T.modules) do available[#available + 1] = name end
sort(available)
local available_text = concat(available, ", ")

G.require = function(name)
  local m = T.modules[name]
  if m == nil then
    error(T.where() .. ": module '" .. tostring(name) .. "' is not available (available: " .. available_text .. ")", 0)
  end
  return m
end

G.load = function(chunk, name, mode, ...)
  if mode ~= nil and mode ~= "t" then
    error(T.where() .. ": load: only text chunks are allowed (mode \"t\"), binary chunks are disabled", 0)
  end
  return raw_load(chunk, name, "t", ...)
end

local raw_collect = collectgarbage
local allowed_gc = { collect = true, count = true, step = true, isrunning = true }
G.collectgarbage = function(opt, ...)
  if opt ~= nil and not allowed_gc[opt] then
    error(T.where() .. ": collectgarbage: option '" .. tostring(opt) .. "' is not allowed", 0)
  end
  return raw_collect(opt, ...)
end

G.os = { time = os.time, clock = os.clock, date = os.date, difftime = os.difftime }
string.dump = nil
G.io, G.debug, G.dofile, G.loadfile, G.package = nil, nil, nil, nil, nil
G.null, G.Promise, G.Error = nil, nil, nil

for k, v in pairs(T.globals) do G[k] = v end
`,
};

import type { LuaModule } from './lua-module.js';

/**
 * The sandbox: what a script can reach. Removed: `io`, `debug`, `dofile`, `loadfile`,
 * `package` (and its C loaders), `string.dump`, `os` except `os.time/clock/date/difftime`,
 * and wasmoon's injected `null`, `Promise`, `Error`. `load` compiles text only (mode "t");
 * `setmetatable` refuses a `__gc` finalizer (Lua runs finalizers with hooks off, so no
 * timeout could stop one).
 * `require` returns our modules, or loads `.lua` files bundled from the script's own
 * folder (`require("lib.http")` → `lib/http.lua` or `lib/http/init.lua`), cached per run. Runs last: it installs the other modules' globals.
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

-- Bundled modules: "lib.http" -> lib/http.lua or lib/http/init.lua from the script's folder.
local loaded, loading = {}, {}

local function not_found(name, tried)
  local files = host.bundle_lua_files()
  error(T.where() .. ": module '" .. tostring(name) .. "' not found: " .. tried ..
    " (topas modules: " .. available_text .. "; bundled .lua files: " .. (files ~= "" and files or "none") .. ")", 0)
end

G.require = function(name)
  local m = T.modules[name]
  if m ~= nil then return m end
  if type(name) ~= "string" then
    error(T.where() .. ": require(name): expected a module name string, got " .. type(name), 0)
  end
  local cached = loaded[name]
  if cached ~= nil then return cached end
  if loading[name] then
    error(T.where() .. ": require: module '" .. name .. "' is being loaded (circular require)", 0)
  end
  -- segments of letters, digits, _ and -, separated by dots (or slashes): nothing can leave the folder
  local path = name:gsub("%.lua$", "")
  if not path:find("^[%w_%-]+$") and not path:find("^[%w_%-]+[%./][%w_%-%./]*[%w_%-]$") or path:find("[%./][%./]") then
    not_found(name, "module names are like 'helpers' or 'lib.http' and resolve inside the test's folder only")
  end
  path = path:gsub("%.", "/")
  local file = path .. ".lua"
  local source = host.bundle_file(file)
  if source == nil then
    file = path .. "/init.lua"
    source = host.bundle_file(file)
  end
  if source == nil then not_found(name, "no " .. path .. ".lua or " .. path .. "/init.lua in the test's folder") end
  T.make_modules_for(source)
  local chunk, err = raw_load(source, "@" .. file, "t")
  if not chunk then error(err, 0) end
  T.sources["@" .. file] = file
  loading[name] = true
  local ok, result = T.raw.pcall(chunk, name, file)
  loading[name] = nil
  if not ok then error(result, 0) end
  if result == nil then result = true end
  loaded[name] = result
  return result
end

G.load = function(chunk, name, mode, ...)
  if mode ~= nil and mode ~= "t" then
    error(T.where() .. ": load: only text chunks are allowed (mode \"t\"), binary chunks are disabled", 0)
  end
  T.make_modules_for(chunk)
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

-- Lua runs finalizers with every hook off, so no timeout could stop one that loops:
-- scripts clean up with <close> variables or defer() instead.
-- setmetatable's own errors keep their words and get the script's line.
local raw_setmetatable, rawget, raw_pcall = setmetatable, rawget, T.raw.pcall
G.setmetatable = function(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error(T.where() .. ": setmetatable: __gc finalizers are not available to scripts (nothing could stop one that runs too long); use a <close> variable or defer()", 0)
  end
  local ok, result = raw_pcall(raw_setmetatable, t, mt)
  if ok then return result end
  error(T.where() .. ": " .. tostring(result):gsub("^bad argument (#%d+) to '[^']*'", "bad argument %1 to 'setmetatable'"), 0)
end

G.os = { time = os.time, clock = os.clock, date = os.date, difftime = os.difftime }
string.dump = nil
G.io, G.debug, G.dofile, G.loadfile, G.package = nil, nil, nil, nil, nil
G.null, G.Promise, G.Error = nil, nil, nil

for k, v in pairs(T.globals) do G[k] = v end
`,
};

import type { LuaModule } from './lua-module.js';

/**
 * `print(...)` and `log.debug/info/warn/error(...)`: each call is one log line of the
 * run. Arguments are rendered like print (tab-joined); tables render JSON-ish
 * (`{"a":1,"b":[1,2]}`), with functions as `<function>` and repeated tables as `<cycle>`.
 */
export const logModule: LuaModule = {
  name: 'log',
  lua: String.raw`
local type, tostring, select, concat, getmetatable = type, tostring, select, table.concat, getmetatable
local MAX_DEPTH = 8

local function render(v, out, seen, depth)
  local t = type(v)
  if t == "string" then
    if depth == 0 then out[#out + 1] = v else out[#out + 1] = T.quote(v) end
  elseif t == "table" and v ~= T.json.null then
    local mt = getmetatable(v)
    if mt and mt ~= T.ARRAY and mt ~= T.OBJECT and mt.__tostring then out[#out + 1] = tostring(v) return end
    if seen[v] then out[#out + 1] = "<cycle>" return end
    if depth >= MAX_DEPTH then out[#out + 1] = "{…}" return end
    seen[v] = true
    if mt == T.ARRAY or (mt ~= T.OBJECT and T.is_sequence(v)) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        render(v[i], out, seen, depth + 1)
      end
      out[#out + 1] = "]"
    else
      out[#out + 1] = "{"
      local keys = T.sorted_keys(v)
      if not keys then
        keys = {}
        for k in pairs(v) do keys[#keys + 1] = k end
      end
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = type(k) == "string" and T.quote(k) or ("[" .. tostring(k) .. "]")
        out[#out + 1] = ":"
        render(v[k], out, seen, depth + 1)
      end
      out[#out + 1] = "}"
    end
    seen[v] = nil
  elseif t == "function" then out[#out + 1] = "<function>"
  elseif t == "number" then out[#out + 1] = T.number(v) or tostring(v)
  else out[#out + 1] = tostring(v) end
end

-- One value as text: strings as is, tables JSON-ish.
function T.render(v)
  local out = {}
  render(v, out, {}, 0)
  return concat(out)
end

-- All arguments rendered and tab-joined, like print.
function T.render_args(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = T.render((select(i, ...))) end
  return concat(parts, "\t")
end

local emit = host.log
local log = {}
function log.debug(...) emit("debug", T.render_args(...)) end
function log.info(...) emit("info", T.render_args(...)) end
function log.warn(...) emit("warn", T.render_args(...)) end
function log.error(...) emit("error", T.render_args(...)) end

T.globals.print = function(...) emit("info", T.render_args(...)) end
T.globals.log = log
T.modules.log = log
T.log = log
`,
};

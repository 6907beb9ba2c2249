import type { LuaModule } from './lua-module.js';

/**
 * `json.encode(v)`, `json.decode(s)`, `json.null`, `json.array(t)`, `json.object(t)`.
 *
 * JSON null decodes to the `json.null` sentinel (a Lua nil would make holes in arrays).
 * An empty Lua table encodes as `{}`; mark it with `json.array()` to get `[]`.
 * Decoded empty arrays and objects keep that mark, so `encode(decode(s))` keeps `[]` and `{}`.
 * Object keys are encoded in sorted order, so output is stable.
 */
export const jsonModule: LuaModule = {
  name: 'json',
  lua: String.raw`
local type, pairs, tostring, error, setmetatable, getmetatable = type, pairs, tostring, error, setmetatable, getmetatable
local mtype, huge, format, concat, sort = math.type, math.huge, string.format, table.concat, table.sort

local json = {}
local ARRAY = { __name = "json.array" }
local OBJECT = { __name = "json.object" }
json.null = setmetatable({}, {
  __name = "json.null",
  __tostring = function() return "null" end,
  __newindex = function() error("json.null cannot be changed", 2) end,
  __metatable = "json.null",
})
T.ARRAY, T.OBJECT = ARRAY, OBJECT

-- Marks t (or a new table) so it encodes as a JSON array, even when empty.
function json.array(t) return setmetatable(t or {}, ARRAY) end
-- Marks t (or a new table) so it encodes as a JSON object, even when empty.
function json.object(t) return setmetatable(t or {}, OBJECT) end

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function escape(c) return escapes[c] or format("\\u%04x", c:byte()) end
local function quote(s) return '"' .. s:gsub('[%c"\\]', escape) .. '"' end
T.quote = quote

local function number(n)
  if mtype(n) == "integer" then return format("%d", n) end
  if n ~= n or n == huge or n == -huge then return nil end
  local s = format("%.14g", n)
  if tonumber(s) ~= n then s = format("%.17g", n) end
  return s
end
T.number = number

-- Whether t is a sequence 1..n (n > 0) with no other keys.
local function is_sequence(t)
  local n = 0
  for k in pairs(t) do
    if mtype(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  if n == 0 then return false end
  for i = 1, n do if t[i] == nil then return false end end
  return true
end
T.is_sequence = is_sequence

local function keyed(t)
  local keys = {}
  for k in pairs(t) do
    local kt = type(k)
    if kt ~= "string" and kt ~= "number" then return nil, kt end
    keys[#keys + 1] = k
  end
  sort(keys, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  return keys
end
T.sorted_keys = keyed

local function encode(v, out, seen, path)
  local t = type(v)
  if t == "string" then out[#out + 1] = quote(v)
  elseif t == "number" then
    local s = number(v)
    if not s then error("json.encode: cannot encode " .. tostring(v) .. " at " .. path .. " (JSON has no NaN or infinity)", 0) end
    out[#out + 1] = s
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif v == nil or v == json.null then out[#out + 1] = "null"
  elseif t == "table" then
    if seen[v] then error("json.encode: the table at " .. path .. " contains itself", 0) end
    seen[v] = true
    local mt = getmetatable(v)
    if mt == ARRAY or (mt ~= OBJECT and is_sequence(v)) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out, seen, path .. "[" .. i .. "]")
      end
      out[#out + 1] = "]"
    else
      local keys, bad = keyed(v)
      if not keys then error("json.encode: cannot encode a table key of type " .. bad .. " at " .. path, 0) end
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        local ks = tostring(k)
        out[#out + 1] = quote(ks)
        out[#out + 1] = ":"
        encode(v[k], out, seen, path .. "." .. ks)
      end
      out[#out + 1] = "}"
    end
    seen[v] = nil
  else
    error("json.encode: cannot encode a " .. t .. " at " .. path, 0)
  end
end

-- Encodes v as compact JSON text.
function json.encode(v)
  local out = {}
  local ok, err = T.raw.pcall(encode, v, out, {}, "$")
  if not ok then
    if T.is_fatal(err) then error(err, 0) end
    error(T.where() .. ": " .. tostring(err), 0)
  end
  return concat(out)
end

-- Puts json.null and the array/object marks where JS could not express them.
local function mark(value, specials)
  for i = 1, #specials do
    local s = specials[i]
    local path, kind = s.path, s.kind
    local fill = kind == "null" and json.null or (kind == "array" and setmetatable({}, ARRAY) or setmetatable({}, OBJECT))
    if #path == 0 then
      value = fill
    else
      local node = value
      for j = 1, #path - 1 do node = node[path[j]] end
      node[path[#path]] = fill
    end
  end
  return value
end

-- Decodes JSON text; JSON null becomes json.null.
function json.decode(s)
  if type(s) ~= "string" then
    error(T.where() .. ": json.decode: expected a string, got " .. type(s), 0)
  end
  local r = host.json_decode(s)
  if not r.ok then error(T.where() .. ": json.decode: " .. r.error, 0) end
  return mark(r.value, r.specials)
end

T.modules.json = json
T.globals.json = json
T.json = json
`,
};

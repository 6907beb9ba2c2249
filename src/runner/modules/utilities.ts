import type { LuaModule } from './lua-module.js';

/**
 * Small utilities: `yaml.decode/encode`, `base64.encode/decode`, `uuid()`,
 * `time.now()` (epoch ms, float), `time.iso()` (RFC 3339, UTC), `time.since(t)`.
 * `yaml`, `base64` and `time` are globals and `require`-able.
 */
export const utilitiesModule: LuaModule = {
  name: 'utilities',
  lua: String.raw`
local type, error, pcall, byte, char, concat = type, error, T.raw.pcall, string.byte, string.char, table.concat

-- yaml: decoded like JSON (null → json.null, empty [] / {} keep their kind)
local yaml = {}
function yaml.decode(s)
  if type(s) ~= "string" then error(T.where() .. ": yaml.decode: expected a string, got " .. type(s), 0) end
  local r = host.yaml_to_json(s)
  if not r.ok then error(T.where() .. ": yaml.decode: " .. r.error, 0) end
  return T.json.decode(r.json)
end
function yaml.encode(v)
  local ok, text = pcall(T.json.encode, v)
  if not ok then
    if T.is_fatal(text) then error(text, 0) end
    error((tostring(text):gsub("json%.encode", "yaml.encode")), 0)
  end
  return host.yaml_encode(text)
end

-- base64 (standard alphabet, padded; decode also takes the URL-safe alphabet, no padding, whitespace)
-- The alphabet's tables are built on first use: building them was half of the work
-- every run's state does before its script starts, and most scripts never use base64.
local ENC, DEC
local function alphabet()
  local ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  ENC, DEC = {}, {}
  for i = 1, 64 do
    local c = ALPHA:sub(i, i)
    ENC[i - 1] = c
    DEC[byte(c)] = i - 1
  end
  DEC[byte("-")], DEC[byte("_")] = 62, 63
end

local base64 = {}
function base64.encode(s)
  if type(s) == "number" then s = tostring(s) end
  if type(s) ~= "string" then error(T.where() .. ": base64.encode: expected a string, got " .. type(s), 0) end
  if not ENC then alphabet() end
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = (a << 16) | ((b or 0) << 8) | (c or 0)
    out[#out + 1] = ENC[(v >> 18) & 63] .. ENC[(v >> 12) & 63] ..
      (b and ENC[(v >> 6) & 63] or "=") .. (c and ENC[v & 63] or "=")
  end
  return concat(out)
end
function base64.decode(s)
  if type(s) ~= "string" then error(T.where() .. ": base64.decode: expected a string, got " .. type(s), 0) end
  if not DEC then alphabet() end
  s = s:gsub("%s", ""):gsub("=+$", "")
  if #s % 4 == 1 then error(T.where() .. ": base64.decode: invalid base64 (wrong length)", 0) end
  local out = {}
  for i = 1, #s, 4 do
    local v, k = 0, 0
    for j = i, i + 3 do
      local c = byte(s, j)
      if c then
        local d = DEC[c]
        if not d then error(T.where() .. ": base64.decode: invalid character " .. T.quote(char(c)) .. " at position " .. j, 0) end
        v = (v << 6) | d
        k = k + 1
      end
    end
    v = v << (6 * (4 - k))
    local bytes = k - 1
    out[#out + 1] = char((v >> 16) & 255, (v >> 8) & 255, v & 255):sub(1, bytes)
  end
  return concat(out)
end

local time = {}
function time.now() return host.time_now() end
function time.iso() return host.time_iso() end
function time.since(t)
  if type(t) ~= "number" then error(T.where() .. ": time.since(t): expected a time.now() value, got " .. type(t), 0) end
  return host.time_now() - t
end

T.globals.uuid = function() return host.uuid() end
T.globals.yaml, T.globals.base64, T.globals.time = yaml, base64, time
T.modules.yaml, T.modules.base64, T.modules.time = yaml, base64, time
`,
};

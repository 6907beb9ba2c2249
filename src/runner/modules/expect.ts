import type { LuaModule } from './lua-module.js';

/**
 * `expect(v).to_…` matchers (and `expect(v).never.to_…`), recorded like `assert`
 * (see `T.check`), with the rendered expected/actual values in the assertion event;
 * and `eventually(fn, { timeout, interval })`, which retries fn until it passes.
 */
export const expectModule: LuaModule = {
  name: 'expect',
  lazy: ['expect', 'eventually'],
  lua: String.raw`
local type, tostring, pairs, ipairs, select, error, setmetatable, rawequal, rawget =
  type, tostring, pairs, ipairs, select, error, setmetatable, rawequal, rawget
local concat, pack, unpack, find, format = table.concat, table.pack, table.unpack, string.find, string.format
local MAX_SHOWN, MAX_DIFFS = 200, 10

-- A value for messages: strings quoted, tables JSON-ish, long text cut.
local function show(v)
  local s = type(v) == "string" and T.quote(v) or T.render(v)
  if #s > MAX_SHOWN then s = s:sub(1, MAX_SHOWN) .. "…" end
  return s
end
T.show = show

local function key_path(path, k)
  if type(k) == "string" and k:find("^[%a_][%w_]*$") then return path .. "." .. k end
  if type(k) == "string" then return path .. "[" .. T.quote(k) .. "]" end
  return path .. "[" .. tostring(k) .. "]"
end

-- Collects the paths where actual differs from expected (deep, metatables ignored).
local function diff(actual, expected, path, out, seen)
  if #out >= MAX_DIFFS + 1 then return end
  if rawequal(actual, expected) then return end
  local ta, te = type(actual), type(expected)
  if ta == "table" and te == "table" and actual ~= T.json.null and expected ~= T.json.null then
    seen[actual] = seen[actual] or {}
    if seen[actual][expected] then return end
    seen[actual][expected] = true
    local keys, n = {}, 0
    for k in pairs(expected) do n = n + 1; keys[n] = k end
    for k in pairs(actual) do if expected[k] == nil then n = n + 1; keys[n] = k end end
    table.sort(keys, function(a, b)
      if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
      return type(a) == "number" and type(b) ~= "number"
    end)
    for _, k in ipairs(keys) do diff(actual[k], expected[k], key_path(path, k), out, seen) end
    return
  end
  if actual == expected then return end -- numbers: 1 == 1.0
  local where = path == "" and "the value" or path
  if expected == nil then
    out[#out + 1] = where .. ": unexpected key (got " .. show(actual) .. ")"
  else
    out[#out + 1] = where .. ": expected " .. show(expected) .. ", got " .. show(actual)
  end
end

local function deep_equal(a, b)
  local out = {}
  diff(a, b, "", out, {})
  return #out == 0, out
end
T.deep_equal = deep_equal

local function length_of(v)
  if type(v) == "string" then return #v end
  if type(v) == "table" then
    if T.is_sequence(v) or next(v) == nil then return #v end
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    return n
  end
  return nil
end

local function usage(what)
  error(T.where() .. ": " .. what, 0)
end

local function error_text(e) return T.error_text(e) end

-- Calls fn with assertion records held back (dropped); returns ok, error text.
local function try(fn)
  local held = T.hold()
  local ok, err = T.raw.pcall(fn)
  T.release(held, false)
  if not ok and (T.is_fatal(err) or T.is_skip(err)) then error(err, 0) end
  return ok, (not ok) and error_text(err) or nil
end

-- Each matcher: function(v, ...) -> passed, message-if-expected, message-if-negated, expected, actual[, result]
local M = {}

-- A table diff: a headline, then one difference per line (at most MAX_DIFFS).
local function diff_text(diffs)
  local count = #diffs > MAX_DIFFS and ("more than " .. MAX_DIFFS .. " differences")
    or (#diffs .. (#diffs == 1 and " difference" or " differences"))
  local lines = { "expected the tables to be equal (" .. count .. ")" }
  for i = 1, math.min(#diffs, MAX_DIFFS) do lines[#lines + 1] = diffs[i] end
  if #diffs > MAX_DIFFS then lines[#lines + 1] = "… and more" end
  return concat(lines, "\n")
end

function M.to_equal(v, x)
  local same, diffs = deep_equal(v, x)
  local fail_text
  if type(v) == "table" and type(x) == "table" and #diffs > 0 then
    fail_text = diff_text(diffs)
  else
    fail_text = "expected " .. show(v) .. " to equal " .. show(x)
  end
  return same, fail_text, "expected " .. show(v) .. " not to equal " .. show(x), show(x), show(v)
end

function M.to_be(v, x)
  local same = rawequal(v, x) or (type(v) == "number" and v == x)
  local text = "expected " .. show(v) .. " to be " .. show(x)
  if not same and type(v) == "table" and type(x) == "table" and deep_equal(v, x) then
    text = text .. " (a different table with the same content; use to_equal)"
  end
  return same, text, "expected " .. show(v) .. " not to be " .. show(x), show(x), show(v)
end

function M.to_contain(v, x)
  local found
  if type(v) == "string" then
    if type(x) ~= "string" and type(x) ~= "number" then usage("to_contain: a string can only contain a string, got " .. type(x)) end
    found = find(v, tostring(x), 1, true) ~= nil
  elseif type(v) == "table" then
    found = false
    for _, item in ipairs(v) do if deep_equal(item, x) then found = true break end end
    if not found and x ~= nil and v[x] ~= nil then found = true end
  else
    usage("to_contain: expected a string or a table, got " .. type(v))
  end
  return found, "expected " .. show(v) .. " to contain " .. show(x),
    "expected " .. show(v) .. " not to contain " .. show(x), show(x), show(v)
end

function M.to_match(v, pattern)
  if type(pattern) ~= "string" then usage("to_match(pattern): the pattern must be a string, got " .. type(pattern)) end
  local matched = false
  if type(v) == "string" then
    local ok, r = T.raw.pcall(find, v, pattern)
    if not ok then usage("to_match: invalid Lua pattern " .. T.quote(pattern) .. ": " .. tostring(r):gsub("^[^:]*:%d+: ", "")) end
    matched = r ~= nil
  end
  return matched, "expected " .. show(v) .. " to match " .. T.quote(pattern),
    "expected " .. show(v) .. " not to match " .. T.quote(pattern), T.quote(pattern), show(v)
end

function M.to_be_truthy(v)
  return v ~= nil and v ~= false, "expected " .. show(v) .. " to be truthy", "expected " .. show(v) .. " to be falsy", "truthy", show(v)
end

function M.to_be_falsy(v)
  return v == nil or v == false, "expected " .. show(v) .. " to be falsy", "expected " .. show(v) .. " to be truthy", "falsy", show(v)
end

function M.to_be_nil(v)
  return v == nil, "expected " .. show(v) .. " to be nil", "expected a value, got nil", "nil", show(v)
end

local function compare(name, word, op)
  M[name] = function(v, n)
    if type(n) ~= "number" then usage(name .. "(n): expected a number, got " .. type(n)) end
    local passed = type(v) == "number" and op(v, n)
    return passed, "expected " .. show(v) .. " to be " .. word .. " " .. show(n),
      "expected " .. show(v) .. " not to be " .. word .. " " .. show(n), word .. " " .. show(n), show(v)
  end
end
compare("to_be_greater_than", "greater than", function(a, b) return a > b end)
compare("to_be_less_than", "less than", function(a, b) return a < b end)

function M.to_have_length(v, n)
  if type(n) ~= "number" then usage("to_have_length(n): expected a number, got " .. type(n)) end
  local len = length_of(v)
  if len == nil then usage("to_have_length: expected a string or a table, got " .. type(v)) end
  return len == n, "expected " .. show(v) .. " to have length " .. n .. ", got " .. len,
    "expected " .. show(v) .. " not to have length " .. n, tostring(n), tostring(len)
end

function M.to_have_status(v, code)
  if type(code) ~= "number" then usage("to_have_status(code): expected a status number, got " .. type(code)) end
  if type(v) ~= "table" or type(v.code) ~= "number" then
    usage("to_have_status: expected a net response (a table with code), got " .. show(v))
  end
  local body = type(v.body) == "string" and v.body or ""
  if #body > MAX_SHOWN then body = body:sub(1, MAX_SHOWN) .. "…" end
  local where = v.url and (" from " .. tostring(v.url)) or ""
  return v.code == code,
    "expected status " .. code .. ", got " .. v.code .. where .. (body ~= "" and (": " .. body) or ""),
    "expected a status other than " .. code .. where, tostring(code), tostring(v.code)
end

function M.to_fail(v)
  if type(v) ~= "function" then usage("to_fail: expected a function, got " .. type(v)) end
  local ok, err = try(v)
  return not ok, "expected the function to fail, it returned normally",
    "expected the function not to fail, it raised: " .. tostring(err), "an error", ok and "no error" or err, err
end

function M.to_error(v, pattern)
  if type(v) ~= "function" then usage("to_error: expected a function, got " .. type(v)) end
  if pattern ~= nil and type(pattern) ~= "string" then usage("to_error(pattern): the pattern must be a string, got " .. type(pattern)) end
  local ok, err = try(v)
  local matched = not ok
  if matched and pattern then
    local pok, r = T.raw.pcall(find, err, pattern)
    matched = (pok and r ~= nil) or find(err, pattern, 1, true) ~= nil
  end
  local wanted = pattern and ("an error matching " .. T.quote(pattern)) or "an error"
  local got = ok and "it returned normally" or ("it raised: " .. err)
  return matched, "expected the function to raise " .. wanted .. ", " .. got,
    "expected the function not to raise " .. wanted .. ", " .. got, wanted, ok and "no error" or err, err
end

local Expectation = {}
local function new(value, negated) return setmetatable({ value = value, negated = negated }, Expectation) end

Expectation.__index = function(self, k)
  if k == "never" then return new(rawget(self, "value"), not rawget(self, "negated")) end
  local m = M[k]
  if not m then
    local names = {}
    for name in pairs(M) do names[#names + 1] = name end
    table.sort(names)
    error(T.where() .. ": expect(...)." .. tostring(k) .. " is not a matcher (matchers: " .. concat(names, ", ") .. ")", 0)
  end
  return function(...)
    local args = pack(...)
    local first = 1
    if args.n > 0 and rawequal(args[1], self) then first = 2 end -- called with ':'
    local passed, text, negated_text, expected, actual, result = m(rawget(self, "value"), unpack(args, first, args.n))
    if rawget(self, "negated") then
      passed, text = not passed, negated_text
      expected = "not " .. tostring(expected)
    end
    T.check(passed, text, expected, actual)
    if result ~= nil then return result end
    return rawget(self, "value")
  end
end
Expectation.__tostring = function(self) return "expect(" .. show(rawget(self, "value")) .. ")" end

T.globals.expect = function(...)
  if select("#", ...) == 0 then error(T.where() .. ": expect(value): give the value to check", 0) end
  return new((...), false)
end

-- Readable duration as given: "5s" stays "5s", 1500 becomes "1500ms".
local function as_text(v, ms)
  if type(v) == "string" then return v end
  if ms >= 1000 and ms % 1000 == 0 then return format("%ds", ms // 1000) end
  return format("%gms", ms)
end

T.globals.eventually = function(fn, opts)
  if type(fn) ~= "function" then error(T.where() .. ": eventually(fn, opts): expected a function, got " .. type(fn), 0) end
  if opts ~= nil and type(opts) ~= "table" then error(T.where() .. ": eventually(fn, opts): opts must be a table, got " .. type(opts), 0) end
  opts = opts or {}
  local timeout_v, interval_v = opts.timeout or "5s", opts.interval or "200ms"
  local timeout = T.duration(timeout_v, "eventually timeout")
  local interval = T.duration(interval_v, "eventually interval")
  local now = host.time_now
  local started = now()
  local attempts = 0
  while true do
    attempts = attempts + 1
    local held = T.hold()
    local r = pack(T.raw.pcall(fn))
    if r[1] then
      T.release(held, true)
      return unpack(r, 2, r.n)
    end
    local err = r[2]
    if T.is_fatal(err) or T.is_skip(err) or T.is_abort(err) then
      T.release(held, true)
      error(err, 0)
    end
    local left = timeout - (now() - started)
    if left <= 0 then
      T.release(held, true) -- the last attempt's assertions count
      local message = "eventually: still failing after " .. as_text(timeout_v, timeout) .. " (" .. attempts ..
        (attempts == 1 and " attempt" or " attempts") .. "): " .. T.error_text(err)
      error(T.where() .. ": " .. message, 0)
    end
    T.release(held, false)
    T.globals.sleep(interval < left and interval or left)
  end
end
`,
};

import type { LuaModule } from './lua-module.js';

/**
 * `test(name, fn)` and `step(name, fn)`: named, nested blocks of a script, reported as
 * step.start / step.end. An error inside marks the block failed and is logged.
 * A failed `step` aborts the rest of its enclosing `test` (every block up to the test
 * is failed too); a failed `test` does not stop the script, the next test runs.
 * A failed top-level step (outside any test) ends the script.
 * A block in which a caught assertion failed, or a nested test failed, is failed too.
 */
export const stepsModule: LuaModule = {
  name: 'steps',
  lua: String.raw`
local type, tostring, setmetatable, error = type, tostring, setmetatable, error
local frames = {}

-- What a failed step raises to abort its enclosing blocks (already reported).
local Abort = { __tostring = function(a) return a.message end, __name = "step aborted" }
function T.is_abort(e) return type(e) == "table" and getmetatable(e) == Abort end

-- Text of any error value.
function T.error_text(e)
  if type(e) == "string" then return e end
  if T.is_abort(e) then return e.message end
  return T.render(e)
end

-- A failure caught inside the current block still fails it.
function T.mark_failed(message)
  local f = frames[#frames]
  if f and not f.failed then f.failed = message end
end

local function line_of(message)
  local prefix = T.file .. ":"
  if message:sub(1, #prefix) == prefix then return tonumber(message:match("^:(%d+):", #prefix)) end
  return nil
end

local function block(kind, name, fn)
  if type(name) ~= "string" then
    error(T.where() .. ": " .. kind .. "(name, fn): the name must be a string, got " .. type(name), 0)
  end
  if type(fn) ~= "function" then
    error(T.where() .. ": " .. kind .. "(name, fn): the second argument must be a function, got " .. type(fn), 0)
  end
  local line = T.line()
  local seq = host.step_start(kind, name, line)
  local frame = { failed = nil }
  frames[#frames + 1] = frame
  local ok, err = T.raw.pcall(fn)
  frames[#frames] = nil
  if not ok and T.is_fatal(err) then
    host.step_end(seq, "failed", err, nil)
    error(err, 0)
  end
  local message = (not ok) and T.error_text(err) or frame.failed
  if not message then
    host.step_end(seq, "passed", nil, nil)
    return true
  end
  host.step_end(seq, "failed", message, line_of(message) or line)
  if not ok and not T.is_abort(err) then
    T.log.error(kind .. " " .. T.quote(name) .. " failed: " .. message)
  end
  local parent = frames[#frames]
  if parent and not parent.failed then parent.failed = message end
  if kind == "step" and not ok then
    -- abort the enclosing blocks up to the test; outside a test this ends the script
    error(setmetatable({ message = message }, Abort), 0)
  end
  return false
end

T.globals.test = function(name, fn) return block("test", name, fn) end
T.globals.step = function(name, fn) return block("step", name, fn) end
`,
};

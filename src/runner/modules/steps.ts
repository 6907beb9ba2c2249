import type { LuaModule } from './lua-module.js';

/**
 * `test(name, fn)` and `step(name, fn)`: named, nested blocks of a script, reported as
 * step.start / step.end. An error inside marks the block failed and is logged.
 * A failed `step` aborts the rest of its enclosing `test` (every block up to the test
 * is failed too); a failed `test` does not stop the script, the next test runs.
 * A failed top-level step (outside any test) ends the script.
 * A block in which a caught assertion failed, or a nested test failed, is failed too.
 *
 * `skip(reason)` ends the current block as skipped (at top level: the rest of the script).
 * Hooks: `before_all`/`after_all` (once, before the first top-level block / when the
 * script ends) and `before_each`/`after_each` (inside each top-level test), reported as
 * blocks of kind "hook"; after-hooks run even when the test failed. `defer(fn)` runs fn
 * when the current block ends (at top level: when the script ends), last in first out.
 */
export const stepsModule: LuaModule = {
  name: 'steps',
  lua: String.raw`
local type, tostring, setmetatable, getmetatable, error = type, tostring, setmetatable, getmetatable, error
local frames = {}

-- What a failed step raises to abort its enclosing blocks (already reported).
local Abort = { __tostring = function(a) return a.message end, __name = "step aborted" }
function T.is_abort(e) return type(e) == "table" and getmetatable(e) == Abort end

-- What skip() raises to end the current block (or, at top level, the script).
local Skip = { __tostring = function(s) return "skipped: " .. s.reason end, __name = "skip" }
function T.is_skip(e) return type(e) == "table" and getmetatable(e) == Skip end

-- Text of any error value.
function T.error_text(e)
  if type(e) == "string" then return e end
  if T.is_abort(e) then return e.message end
  if T.is_skip(e) then return tostring(e) end
  return T.render(e)
end

-- A failure caught inside the current block still fails it.
function T.mark_failed(message)
  local f = frames[#frames]
  if f and not f.failed then f.failed = message end
end

local function line_of(message)
  local file, line = message:match("^([^:%s]+%.lua):(%d+):")
  if file and (file == T.file or T.sources["@" .. file]) then return file, tonumber(line) end
  return nil, nil
end

local hooks = { before_all = {}, after_all = {}, before_each = {}, after_each = {} }
local top_defers = {}
local before_all_state = nil -- nil: not run yet; true: passed; string: failure message

-- Runs fns (a list of { fn, file, line }) last first; returns the first error text.
local function run_defers(list)
  local first = nil
  for i = #list, 1, -1 do
    local d = list[i]
    list[i] = nil
    local ok, err = T.raw.pcall(d.fn)
    if not ok then
      if T.is_fatal(err) then error(err, 0) end
      local text = T.error_text(err)
      T.log.error("defer (" .. d.file .. ":" .. d.line .. ") failed: " .. text)
      first = first or text
    end
  end
  return first
end

local block

local function run_hooks(kind)
  local failed = nil
  for _, h in ipairs(hooks[kind]) do
    local passed, message = block("hook", h.name, h.fn, h.file, h.line)
    if passed == false then failed = failed or message end
  end
  return failed
end

local function ensure_before_all()
  if before_all_state ~= nil then return end
  before_all_state = true
  if #hooks.before_all == 0 then return end
  local failed = run_hooks("before_all")
  if failed then before_all_state = failed end
end

-- One block: step.start, run fn (with hooks and defers), step.end. Returns true when it passed.
block = function(kind, name, fn, file, line)
  local top = #frames == 0
  if top and kind ~= "hook" then ensure_before_all() end
  local seq = host.block_start(kind, name, file, line)
  if top and kind ~= "hook" and before_all_state ~= true then
    host.block_end(seq, "skipped", "before_all failed: " .. before_all_state, file, line)
    return false
  end
  local frame = { failed = nil, defers = {} }
  frames[#frames + 1] = frame
  local ok, err = true, nil
  local setup_failed = top and kind == "test" and run_hooks("before_each") or nil
  if not setup_failed then ok, err = T.raw.pcall(fn) end
  if not ok and T.is_fatal(err) then
    frames[#frames] = nil
    host.block_end(seq, "failed", err, nil, nil)
    error(err, 0)
  end
  local skipped = not ok and T.is_skip(err)
  if skipped then ok = true end
  local deferred = run_defers(frame.defers)
  if deferred and not frame.failed then frame.failed = deferred end
  if top and kind == "test" then run_hooks("after_each") end
  frames[#frames] = nil
  local message = (not ok) and T.error_text(err) or frame.failed
  if not message then
    if skipped then
      host.block_end(seq, "skipped", err.reason, file, line)
      return nil
    end
    host.block_end(seq, "passed", nil, nil, nil)
    return true
  end
  local mfile, mline = line_of(message)
  host.block_end(seq, "failed", message, mfile or file, mline or line)
  if not ok and not T.is_abort(err) then
    -- the first line says why; the rest (an expect diff) is shown once, with the step and its assertion
    T.log.error(kind .. " " .. T.quote(name) .. " failed: " .. (message:match("^([^\n]*)\n") or message))
  end
  local parent = frames[#frames]
  if parent and not parent.failed then parent.failed = message end
  if kind == "step" and not ok then
    -- abort the enclosing blocks up to the test; outside a test this ends the script
    error(setmetatable({ message = message }, Abort), 0)
  end
  return false, message
end

-- Other modules record their own blocks (sut changes are steps of the run).
T.block = function(kind, name, fn, file, line) return block(kind, name, fn, file, line) end

local function checked(kind, name, fn)
  if type(name) ~= "string" then
    error(T.where() .. ": " .. kind .. "(name, fn): the name must be a string, got " .. type(name), 0)
  end
  if type(fn) ~= "function" then
    error(T.where() .. ": " .. kind .. "(name, fn): the second argument must be a function, got " .. type(fn), 0)
  end
  local file, line = T.frame(2)
  return (block(kind, name, fn, file, line))
end

T.globals.test = function(name, fn) return checked("test", name, fn) end
T.globals.step = function(name, fn) return checked("step", name, fn) end

T.globals.skip = function(reason)
  if reason ~= nil and type(reason) ~= "string" then reason = T.render(reason) end
  error(setmetatable({ reason = reason or "" }, Skip), 0)
end

for kind in pairs(hooks) do
  T.globals[kind] = function(name, fn)
    if fn == nil and type(name) == "function" then name, fn = kind, name end
    if type(fn) ~= "function" then
      error(T.where() .. ": " .. kind .. "(fn): expected a function, got " .. type(fn), 0)
    end
    if #frames > 0 then
      error(T.where() .. ": " .. kind .. " must be called at the top level of the script, not inside a test or step", 0)
    end
    if kind == "before_all" and before_all_state ~= nil then
      error(T.where() .. ": before_all must come before the first test", 0)
    end
    local file, line = T.frame(1)
    local list = hooks[kind]
    list[#list + 1] = { name = tostring(name), fn = fn, file = file, line = line }
  end
end

T.globals.defer = function(fn)
  if type(fn) ~= "function" then error(T.where() .. ": defer(fn): expected a function, got " .. type(fn), 0) end
  local file, line = T.frame(1)
  local f = frames[#frames]
  local list = f and f.defers or top_defers
  list[#list + 1] = { fn = fn, file = file or T.file, line = line or 0 }
end

-- When the script has ended (any way but a stop): top-level defers, then after_all hooks.
function T.finish_script()
  local deferred = run_defers(top_defers)
  if deferred then host.uncaught(deferred) end
  if #hooks.after_all > 0 then run_hooks("after_all") end
end
`,
};

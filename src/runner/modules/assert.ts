import { RECORDED_PASSED_ASSERTIONS_CAP } from '../run-context.js';
import type { LuaModule } from './lua-module.js';

/**
 * `assert(v, message, ...)`: records an assertion (passed or failed, with the caller's
 * `file:line`); on failure raises `hello.lua:7: assertion failed: message`. A failure
 * counts even if the script catches it with pcall. Passed assertions are recorded one
 * by one only up to a cap per run; the rest are counted (so a loop of a million
 * asserts stays cheap).
 *
 * `T.check(passed, text, expected, actual)` is the one way assertions are
 * recorded (`assert` and `expect`). While `T.hold()` is in effect (an `eventually`
 * attempt, the function given to `expect(fn).to_fail()`), records are kept aside:
 * `T.release(held, keep)` then records them, or drops them.
 */
export const assertModule: LuaModule = {
  name: 'assert',
  lua: String.raw`
local CAP = ${RECORDED_PASSED_ASSERTIONS_CAP}
local recorded = 0
T.unrecorded_passed = 0
local record = host.record_assertion
local held = {}

local function emit(passed, text, file, line, full, expected, actual)
  local h = held[#held]
  if h then
    h[#h + 1] = { passed, text, file, line, full, expected, actual }
    return
  end
  if passed then
    if recorded < CAP then
      recorded = recorded + 1
      record(true, text, file, line, nil, expected, actual)
    else
      T.unrecorded_passed = T.unrecorded_passed + 1
    end
  else
    record(false, text, file, line, full, expected, actual)
    T.mark_failed(full)
  end
end

-- Records one assertion; on failure raises "file:line: text".
function T.check(passed, text, expected, actual)
  local file, line = T.frame(1)
  if passed then
    emit(true, text, file, line, nil, expected, actual)
    return
  end
  local full = line and (file .. ":" .. line .. ": " .. text) or text
  emit(false, text, file, line, full, expected, actual)
  error(full, 0)
end

-- Starts keeping assertion records aside (nestable); returns the holder.
function T.hold()
  local h = {}
  held[#held + 1] = h
  return h
end

-- Stops holding h; records what it kept when keep is true.
function T.release(h, keep)
  for i = #held, 1, -1 do
    if held[i] == h then table.remove(held, i) break end
  end
  if keep then
    for _, r in ipairs(h) do emit(r[1], r[2], r[3], r[4], r[5], r[6], r[7]) end
  end
end

T.globals.assert = function(v, message, ...)
  if v then
    if #held == 0 and recorded >= CAP then
      T.unrecorded_passed = T.unrecorded_passed + 1
    else
      T.check(true, message ~= nil and T.render(message) or "assertion passed")
    end
    return v, message, ...
  end
  T.check(false, message == nil and "assertion failed" or ("assertion failed: " .. T.render(message)))
end
`,
};

import { RECORDED_PASSED_ASSERTIONS_CAP } from '../run-context.js';
import type { LuaModule } from './lua-module.js';

/**
 * `assert(v, message, ...)`: records an assertion (passed or failed, with the caller's
 * `file:line`); on failure raises `hello.lua:7: assertion failed: message`. A failure
 * counts even if the script catches it with pcall. Passed assertions are recorded one
 * by one only up to a cap per run; the rest are counted (so a loop of a million
 * asserts stays cheap).
 */
export const assertModule: LuaModule = {
  name: 'assert',
  lua: String.raw`
local CAP = ${RECORDED_PASSED_ASSERTIONS_CAP}
local recorded = 0
T.unrecorded_passed = 0
local record = host.assertion

T.globals.assert = function(v, message, ...)
  if v then
    if recorded < CAP then
      recorded = recorded + 1
      record(true, message ~= nil and T.render(message) or "assertion passed", T.line(), nil)
    else
      T.unrecorded_passed = T.unrecorded_passed + 1
    end
    return v, message, ...
  end
  local text = message == nil and "assertion failed" or ("assertion failed: " .. T.render(message))
  local line = T.line()
  local full = line and (T.file .. ":" .. line .. ": " .. text) or text
  record(false, text, line, full)
  T.mark_failed(full)
  error(full, 0)
end
`,
};

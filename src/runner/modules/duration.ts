import type { LuaModule } from './lua-module.js';

/** `T.duration(v, what)`: milliseconds from a number or a string like "500ms", "5s", "2m". */
export const durationModule: LuaModule = {
  name: 'duration',
  lua: String.raw`
local UNITS = { [""] = 1, ms = 1, s = 1000, m = 60000, h = 3600000 }
function T.duration(v, what)
  if type(v) == "number" and v >= 0 and v == v then return v end
  if type(v) == "string" then
    local n, unit = v:match("^%s*(%d+%.?%d*)%s*(%a*)%s*$")
    if n and UNITS[unit] then return tonumber(n) * UNITS[unit] end
  end
  error(T.where() .. ": " .. what .. ": expected milliseconds or a duration like \"5s\", got " .. T.render(v), 0)
end
`,
};

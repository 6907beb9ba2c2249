import type { LuaModule } from './lua-module.js';

/**
 * `sleep(ms)` (or `sleep("2s")`): waits without blocking the worker, so other runs keep
 * going. A cancel or timeout ends the wait at once.
 */
export const sleepModule: LuaModule = {
  name: 'sleep',
  lua: String.raw`
local host_sleep = host.sleep
T.globals.sleep = function(ms)
  local wait = T.duration(ms, "sleep")
  if host_sleep(wait):await() ~= "ok" then error(T.STOP, 0) end
end
`,
};

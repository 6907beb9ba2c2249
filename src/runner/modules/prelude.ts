/**
 * The Lua prelude: every module, in dependency order, as one chunk. Run once per
 * engine with the host functions as its argument; it returns the function that runs
 * a user script.
 */
import { assertModule } from './assert.js';
import { coreModule } from './core.js';
import { dbModule } from './db.js';
import { durationModule } from './duration.js';
import { expectModule } from './expect.js';
import { jsonModule } from './json.js';
import { logModule } from './log.js';
import type { LuaModule } from './lua-module.js';
import { mainModule } from './main.js';
import { netModule } from './net.js';
import { postmanModule } from './postman.js';
import { protectedCallsModule } from './protected-calls.js';
import { sandboxModule } from './sandbox.js';
import { sleepModule } from './sleep.js';
import { stepsModule } from './steps.js';
import { sutModule } from './sut.js';
import { utilitiesModule } from './utilities.js';

export const PRELUDE_MODULES: readonly LuaModule[] = [
  coreModule,
  jsonModule,
  logModule,
  durationModule,
  stepsModule,
  assertModule,
  expectModule,
  utilitiesModule,
  sleepModule,
  netModule,
  dbModule,
  postmanModule,
  sutModule,
  protectedCallsModule,
  mainModule,
  sandboxModule,
];

/** The modules made on first use, in the order of their chunk numbers (see LAZY_MODULE_SOURCES). */
const LAZY_MODULES = PRELUDE_MODULES.filter((m) => m.lazy);

/**
 * The prelude source: `local host_function, load_module = ...` (`host` is a table that
 * fetches each host function by name on first use), each eager module in its own
 * `do` block, each lazy one as a stand-in (`T.lazy`, `T.lazy_globals`) whose maker
 * loads that module's own chunk on first use, `return T.main`. `load_module(i)` (a C
 * function from lua-engine.ts, private to the prelude) returns the compiled chunk of
 * `LAZY_MODULE_SOURCES[i]`: a run that never touches `net` or `db` never loads their
 * code (undumping it was a third of a fresh engine's cost).
 */
export const PRELUDE_SOURCE = [
  'local host_function, load_module = ...',
  'local host = setmetatable({}, { __index = function(t, k) local f = host_function(k) rawset(t, k, f) return f end })',
  'local T = {}',
  'local function maker(i) return function() load_module(i)(host, T) end end',
  ...PRELUDE_MODULES.map((m) => {
    if (!m.lazy) return `do -- ${m.name}\n${m.lua}\nend`;
    const make = `maker(${LAZY_MODULES.indexOf(m)})`;
    if (m.lazy === true) return `T.lazy(${JSON.stringify(m.name)}, ${make})`;
    return `T.lazy_globals({ ${m.lazy.map((name) => JSON.stringify(name)).join(', ')} }, ${make})`;
  }),
  'return T.main',
].join('\n');

/** Each lazy module as a chunk of its own, run with the prelude's `host` and `T`. */
export const LAZY_MODULE_SOURCES: readonly string[] = LAZY_MODULES.map((m) => `local host, T = ... -- ${m.name}\n${m.lua}`);

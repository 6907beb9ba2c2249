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

/**
 * The prelude source: `local host = ...`, each module in its own `do` block (a lazy
 * one's body inside the function `T.lazy` runs on first use), `return T.main`.
 */
export const PRELUDE_SOURCE = [
  'local host = ...',
  'local T = {}',
  ...PRELUDE_MODULES.map((m) => {
    if (!m.lazy) return `do -- ${m.name}\n${m.lua}\nend`;
    const make = `function() -- ${m.name}\n${m.lua}\nend`;
    if (m.lazy === true) return `T.lazy(${JSON.stringify(m.name)}, ${make})`;
    return `T.lazy_globals({ ${m.lazy.map((name) => JSON.stringify(name)).join(', ')} }, ${make})`;
  }),
  'return T.main',
].join('\n');

/**
 * Text crosses between JS and Lua unchanged (the worker's Lua module passes strings
 * through its own C-call path, c-calls.ts): short and long, accented, emoji.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLuaRunner } from './lua-runner.js';
import type { ScriptRunner } from './runner.js';
import { runScript } from './testing/script-run.js';

let single: ScriptRunner;
beforeAll(() => {
  single = createLuaRunner({ workers: 1 });
});
afterAll(async () => {
  await single?.close();
});

it('env values in, log lines out: the same characters and byte lengths, short and long', async () => {
  const short = 'é😀';
  const long = 'Grüße aus Köln, 東京 и 😀 '.repeat(20);
  const r = await runScript(single, {
    script: [
      'log.info(env.SHORT .. "|" .. #env.SHORT)',
      'log.info(env.LONG .. "|" .. #env.LONG)',
      'log.info("\\u{E9}\\u{1F600}")',
      'local t = json.decode(json.encode({ k = env.SHORT }))',
      'assert(t.k == env.SHORT, "json round trip")',
    ].join('\n'),
    env: { SHORT: short, LONG: long },
  });
  expect(r.completion, r.logs.join('\n')).toMatchObject({ phase: 'Passed' });
  expect(r.logs).toEqual([
    `info: ${short}|${Buffer.byteLength(short)}`,
    `info: ${long}|${Buffer.byteLength(long)}`,
    `info: ${short}`,
  ]);
});

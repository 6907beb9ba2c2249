/**
 * CPU-bound Lua, three workloads reported separately, each under the runner (a real
 * worker, the run's own CPU profile), under a bare wasmoon engine (`createEngine()`,
 * no topas) and under native `lua5.4`. All three are CPU time of the thread that ran
 * the Lua (the runner's `profile.cpuMs`, this thread's clock, native `os.clock()`), so
 * other load on the machine counts less than in wall time.
 *
 * A second bare figure, "bare + hook", is the bare engine with the instruction count
 * hook the runner set for timeouts and cancels until session 11 (it now uses a VM
 * checkpoint, `vm-checkpoints.ts`; the count hook is only its fallback), and likewise
 * native lua5.4 with a count hook (`debug.sethook`): with any count hook Lua 5.4 goes
 * through its hook check on every instruction, natively too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LuaEventMasks, LuaFactory } from 'wasmoon';
import { CHECK_INSTRUCTIONS } from '../src/runner/lua-wasm.js';
import { createLuaRunner } from '../src/runner/lua-runner.js';
import { threadCpuClock } from '../src/runner/thread-cpu-clock.js';
import { median, round } from './stats.js';

/** The workloads: each asserts its own result, so a broken run cannot look fast. */
export const LUA_WORKLOADS = {
  /**
   * Recursive calls: ~7 million Lua function calls, no allocation. (fib(29) until
   * session 11: ~45 ms, too short for the runner's CPU clock, which Linux advances in
   * scheduler ticks of 4 ms while the thread runs.)
   */
  calls: `local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
assert(fib(32) == 2178309)`,
  /** String building: concatenation, string.format, upper/sub, table.concat, gmatch. */
  strings: `local parts = {}
for i = 1, 200000 do
  local s = "item-" .. i .. ":" .. string.format("%05d", i % 99991)
  parts[#parts + 1] = s:upper():sub(2, 12)
end
local joined = table.concat(parts, ",")
local n = 0
for _ in joined:gmatch("TEM%-") do n = n + 1 end
assert(n == 200000)`,
  /** Tables: 200,000 small records built, sorted with a Lua comparator, grouped. */
  tables: `local rows = {}
for i = 1, 200000 do rows[i] = { id = i, score = (i * 7919) % 100003, tag = i % 10 } end
table.sort(rows, function(a, b) return a.score < b.score end)
local by = {}
for _, r in ipairs(rows) do local t = by[r.tag] or {} by[r.tag] = t t[#t + 1] = r.id end
assert(#by[1] == 20000)`,
} as const;

type Workload = keyof typeof LUA_WORKLOADS;

export async function benchLua() {
  const repeats = Number(process.env.BENCH_LUA_REPEATS ?? 9);
  const nativeVersion = spawnSync('lua5.4', ['-v'], { encoding: 'utf8' });
  const haveNative = !nativeVersion.error && nativeVersion.status === 0;
  const dir = await mkdtemp(join(tmpdir(), 'topas-bench-lua-'));
  const runner = createLuaRunner({ workers: 1 });
  const factory = new LuaFactory();
  const lua = await factory.getLuaModule();
  const clock = threadCpuClock();
  const hook = lua.module.addFunction(() => {}, 'vii');
  try {
    const figures: Record<string, unknown> = {};
    for (const name of Object.keys(LUA_WORKLOADS) as Workload[]) {
      const source = LUA_WORKLOADS[name];
      const file = join(dir, `${name}.lua`);
      const hookedFile = join(dir, `${name}-hook.lua`);
      await writeFile(file, `local c0 = os.clock()\n${source}\nio.write(os.clock() - c0)`);
      await writeFile(hookedFile, `debug.sethook(function() end, "", ${CHECK_INSTRUCTIONS})\nlocal c0 = os.clock()\n${source}\nio.write(os.clock() - c0)`);
      const samples = { runner: [] as number[], bare: [] as number[], bareHook: [] as number[], native: [] as number[], nativeHook: [] as number[] };
      // one warm-up of each, then interleaved rounds so drifting load hits all alike
      for (let i = 0; i <= repeats; i++) {
        const result = await runner.run(
          { runId: `cpu-${name}-${i}`, script: source, fileName: `${name}.lua`, files: {}, env: {}, timeoutMs: 120_000, memoryLimitBytes: 256 << 20 },
          () => {},
        );
        if (result.phase !== 'Passed') throw new Error(`${name} under the runner: ${result.phase}: ${result.message}`);
        const engine = await factory.createEngine();
        const hooked = await factory.createEngine();
        lua.lua_sethook(hooked.global.address, hook, LuaEventMasks.Count, CHECK_INSTRUCTIONS);
        const b = timeOn(clock, () => engine.doStringSync(source));
        const h = timeOn(clock, () => hooked.doStringSync(source));
        engine.global.close();
        hooked.global.close();
        const native = (path: string): number => {
          if (!haveNative) return NaN;
          const r = spawnSync('lua5.4', [path], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`lua5.4 ${name}: ${r.stderr}`);
          return Number(r.stdout) * 1000;
        };
        const n = native(file);
        const nh = native(hookedFile);
        if (i === 0) continue;
        samples.runner.push(result.profile!.cpuMs);
        samples.bare.push(b);
        samples.bareHook.push(h);
        samples.native.push(n);
        samples.nativeHook.push(nh);
      }
      const runnerMs = median(samples.runner);
      const bareMs = median(samples.bare);
      const bareHookMs = median(samples.bareHook);
      const nativeMs = haveNative ? median(samples.native) : null;
      const nativeHookMs = haveNative ? median(samples.nativeHook) : null;
      figures[name] = {
        runnerCpuMs: round(runnerMs, 1),
        bareWasmoonCpuMs: round(bareMs, 1),
        bareWasmoonWithHookCpuMs: round(bareHookMs, 1),
        nativeCpuMs: nativeMs === null ? null : round(nativeMs, 1),
        nativeWithHookCpuMs: nativeHookMs === null ? null : round(nativeHookMs, 1),
        runnerToNative: haveNative ? ratio(samples.runner, samples.native) : null,
        bareToNative: haveNative ? ratio(samples.bare, samples.native) : null,
        runnerToBare: ratio(samples.runner, samples.bare),
        runnerToBareWithHook: ratio(samples.runner, samples.bareHook),
        bareWithHookToNativeWithHook: haveNative ? ratio(samples.bareHook, samples.nativeHook) : null,
      };
    }
    return {
      what: 'CPU time per workload, median of interleaved rounds; each ratio is the median of the rounds\' ratios',
      repeats,
      native: haveNative
        ? (nativeVersion.stdout.trim() || nativeVersion.stderr.trim())
        : 'lua5.4 not installed: no native reference (apt-get install -y lua5.4)',
      workloads: figures,
    };
  } finally {
    lua.module.removeFunction(hook);
    await runner.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The median of a[i] / b[i]: each round's figures share that moment's load. */
function ratio(a: number[], b: number[]): number {
  return round(median(a.map((x, i) => x / b[i]!)), 2);
}

function timeOn(clock: { now(): number }, fn: () => void): number {
  const t0 = clock.now();
  fn();
  return (clock.now() - t0) / 1e6;
}

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLuaRunner } from '../src/runner/lua-runner.js';
import { median, round } from './stats.js';

/** The same CPU-bound script (recursion, tables, strings, arithmetic) everywhere. */
export const CPU_SCRIPT = `
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local t = {}
for i = 1, 200000 do t[i] = tostring(i * 7 % 100003) end
table.sort(t)
local s = 0
for i = 1, 5000000 do s = s + i % 7 end
local parts = {}
for i = 1, 50000 do parts[#parts + 1] = string.format("%d:%s", i, t[i]) end
local joined = table.concat(parts, ",")
assert(fib(27) == 196418 and #joined > 0 and s > 0)
`;

export async function benchLua() {
  const repeats = 5;
  const native = spawnSync('lua5.4', ['-v'], { encoding: 'utf8' });
  const dir = await mkdtemp(join(tmpdir(), 'topas-bench-lua-'));
  const file = join(dir, 'cpu.lua');
  await writeFile(file, CPU_SCRIPT);
  const runner = createLuaRunner({ workers: 1 });
  try {
    const topas: number[] = [];
    for (let i = 0; i < repeats + 1; i++) {
      const t0 = performance.now();
      const result = await runner.run(
        { runId: `cpu-${i}`, script: CPU_SCRIPT, fileName: 'cpu.lua', files: {}, env: {}, timeoutMs: 120_000, memoryLimitBytes: 256 << 20 },
        () => {},
      );
      if (result.phase !== 'Passed') throw new Error(`cpu script ${result.phase}: ${result.message}`);
      if (i > 0) topas.push(performance.now() - t0);
    }
    if (native.error) {
      return { topasMs: round(median(topas), 1), native: 'lua5.4 not installed (apt-get install -y lua5.4)' };
    }
    const nativeMs: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      const r = spawnSync('lua5.4', [file], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`lua5.4 failed: ${r.stderr}`);
      nativeMs.push(performance.now() - t0);
    }
    return {
      script: 'fib(27) + sort 200k strings + 5M-iteration loop + 50k string.format',
      topasMs: round(median(topas), 1),
      reference: { what: native.stdout.trim() || native.stderr.trim(), nativeMs: round(median(nativeMs), 1) },
      ratioToNative: round(median(topas) / median(nativeMs), 2),
    };
  } finally {
    await runner.close();
    await rm(dir, { recursive: true, force: true });
  }
}

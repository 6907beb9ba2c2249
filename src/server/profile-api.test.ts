/**
 * The resource profile over real HTTP, on a real topas (PGlite, Lua workers): runs
 * carry what they used, and `GET /api/insights/profile` gives per-test p50/p95 and
 * how many such runs fit at once in the configured budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../core/run.js';
import { runTopasCli } from '../cli/testing/cli-process.js';
import { startTestTopas, type TestTopas } from './testing/test-topas.js';

const MiB = 1024 * 1024;
let topas: TestTopas;

beforeAll(async () => {
  // a memory budget that holds one big run, not two; CPU to spare
  topas = await startTestTopas({ TOPAS_PROFILE_BUDGET_CPU: '8', TOPAS_PROFILE_BUDGET_MEMORY: '48Mi' });
}, 60_000);
afterAll(async () => {
  await topas?.close();
});

async function runOf(definition: string): Promise<Run> {
  const res = await topas.post(`/api/definitions/${definition}/runs`, {});
  expect(res.status).toBe(201);
  return topas.waitForEnd(((await res.json()) as Run).id);
}

interface Profile {
  items: { definitionId: string | null; name: string; runs: number; cpuMs: { p50: number; p95: number }; peakMemoryBytes: { p50: number; p95: number }; cpuCores: { p50: number; p95: number } | null }[];
  basis: { runs: number; cpuCoresP95: number; peakMemoryBytesP95: number };
  budget: { cpuCores: number; memoryBytes: number; source: string };
  recommendation: { parallelism: number; limitedBy: string; explanation: string; fits: { cpu: number | null; memory: number | null }; concurrency: number };
}

describe('GET /api/insights/profile', () => {
  it('gives p50/p95 per definition and a recommendation from the p95 profile and the budget', async () => {
    const big = 'local t = {}\nfor i = 1, 250000 do t[i] = string.rep("x", 100) .. i end\nassert(#t == 250000)';
    for (const [name, script] of [['big-table', big], ['napper', 'sleep(200)']]) {
      expect((await topas.post('/api/definitions', { name, script })).status).toBe(201);
    }
    const bigRuns = [await runOf('big-table'), await runOf('big-table')];
    const naps = [await runOf('napper'), await runOf('napper')];
    for (const r of [...bigRuns, ...naps]) expect(r.phase, r.message ?? '').toBe('Passed');
    // each run carries what it used
    expect(bigRuns[0]!.profile!.peakMemoryBytes).toBeGreaterThan(25 * MiB);
    expect(naps[0]!.profile!.peakMemoryBytes).toBeLessThan(4 * MiB);
    expect(naps[0]!.profile!.cpuMs).toBeLessThan(naps[0]!.durationMs!);

    const res = await topas.get('/api/insights/profile');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Profile;
    const byName = new Map(body.items.map((i) => [i.name, i]));
    const b = byName.get('big-table')!;
    const n = byName.get('napper')!;
    expect(b.runs).toBe(2);
    expect(n.runs).toBe(2);
    expect(b.peakMemoryBytes.p95).toBeGreaterThanOrEqual(b.peakMemoryBytes.p50);
    expect(b.peakMemoryBytes.p50).toBeGreaterThan(n.peakMemoryBytes.p95 + 20 * MiB);
    expect(n.cpuCores!.p95).toBeLessThan(0.5); // it mostly slept
    expect([b.peakMemoryBytes.p50, b.peakMemoryBytes.p95].sort()).toEqual(bigRuns.map((r) => r.profile!.peakMemoryBytes).sort());

    expect(body.budget).toEqual({ cpuCores: 8, memoryBytes: 48 * MiB, source: 'configured' });
    expect(body.basis.runs).toBe(4);
    expect(body.basis.peakMemoryBytesP95).toBe(b.peakMemoryBytes.p95);
    // 48 MiB holds one run of > 25 MiB: memory is the limit, whatever CPU allows
    expect(body.recommendation).toMatchObject({ parallelism: 1, limitedBy: 'memory', concurrency: 4, fits: { memory: 1 } });
    expect(body.recommendation.fits.cpu).toBe(Math.floor(8 / body.basis.cpuCoresP95));
    expect(body.recommendation.explanation).toContain('limited by memory');
  }, 60_000);

  it('topas report profile prints the table and the recommendation', async () => {
    const r = await runTopasCli(['report', 'profile'], { url: topas.url, cwd: topas.config.dataDir, dataDir: topas.config.dataDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/TEST\s+RUNS\s+CPU p50\s+CPU p95\s+CORES p95\s+MEMORY p50\s+MEMORY p95/);
    expect(r.stdout).toMatch(/big-table\s+2\s+[\d.]+m?s\s+[\d.]+m?s\s+[\d.]+\s+[\d.]+ MiB/);
    expect(r.stdout).toMatch(/napper\s+2/);
    expect(r.stdout).toContain('Parallelism: 1 (limited by memory)');
    expect(r.stdout).toContain('The budget of 8 CPU cores and 48 MiB');
  }, 60_000);

  it('names the field of a bad query', async () => {
    const res = await topas.get('/api/insights/profile?last=0');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('last');
  });
});

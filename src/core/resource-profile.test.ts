import { describe, expect, it } from 'vitest';
import { parseCpuQuantity, parseMemoryQuantity, recommendParallelism, type ProfileBudget } from './resource-profile.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const budget: ProfileBudget = { cpuCores: 8, memoryBytes: 16 * GiB, source: 'configured' };

describe('recommendParallelism', () => {
  it('is limited by CPU when runs keep cores busy', () => {
    const r = recommendParallelism({ runs: 40, cpuCoresP95: 0.9, peakMemoryBytesP95: 100 * MiB }, budget, 100);
    expect(r).toMatchObject({ parallelism: 8, limitedBy: 'cpu', fits: { cpu: 8, memory: 163 }, concurrency: 100 });
    expect(r.explanation).toContain('0.9 of a CPU core');
    expect(r.explanation).toContain('8 at once, limited by CPU');
    expect(r.explanation).toContain('Set TOPAS_CONCURRENCY to 8 (now 100)');
  });

  it('a run that waits on I/O uses a fraction of a core, so memory limits first', () => {
    const r = recommendParallelism({ runs: 40, cpuCoresP95: 0.02, peakMemoryBytesP95: 2 * GiB }, budget, 100);
    expect(r).toMatchObject({ parallelism: 8, limitedBy: 'memory', fits: { cpu: 400, memory: 8 } });
  });

  it('is held back by the concurrency limit when the budget fits more', () => {
    const r = recommendParallelism({ runs: 5, cpuCoresP95: 0.1, peakMemoryBytesP95: 10 * MiB }, budget, 16);
    expect(r).toMatchObject({ parallelism: 16, limitedBy: 'concurrency', fits: { cpu: 80, memory: 1638 } });
    expect(r.explanation).toContain('the limit, not the budget');
  });

  it('recommends one at a time when a single run exceeds the budget', () => {
    const r = recommendParallelism({ runs: 3, cpuCoresP95: 0.5, peakMemoryBytesP95: 32 * GiB }, budget, 16);
    expect(r).toMatchObject({ parallelism: 1, limitedBy: 'memory', fits: { memory: 0 } });
    expect(r.explanation).toContain('even one run exceeds the memory budget');
  });

  it('without profiled runs, only the concurrency limit is known', () => {
    const r = recommendParallelism({ runs: 0, cpuCoresP95: null, peakMemoryBytesP95: null }, budget, 16);
    expect(r).toMatchObject({ parallelism: 16, limitedBy: 'concurrency', fits: { cpu: null, memory: null } });
    expect(r.explanation).toContain('No finished run in the range has a profile');
  });
});

describe('budget quantities', () => {
  it.each([
    ['4', 4],
    ['0.5', 0.5],
    ['3500m', 3.5],
    ['x', null],
    ['0', null],
    ['-1', null],
  ])('cpu %s → %s', (text, cores) => expect(parseCpuQuantity(text)).toBe(cores));

  it.each([
    ['8Gi', 8 * GiB],
    ['512Mi', 512 * MiB],
    ['512MiB', 512 * MiB],
    ['2G', 2e9],
    ['1000000', 1e6],
    ['1.5Gi', 1.5 * GiB],
    ['lots', null],
    ['0', null],
  ])('memory %s → %s', (text, n) => expect(parseMemoryQuantity(text)).toBe(n));
});

import { availableParallelism, totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('the profile budget setting', () => {
  it("defaults to this machine's cores and half its memory", () => {
    expect(loadConfig({}, {}).profileBudget).toEqual({ cpuCores: availableParallelism(), memoryBytes: Math.floor(totalmem() / 2), source: 'machine' });
  });

  it('takes TOPAS_PROFILE_BUDGET_CPU and TOPAS_PROFILE_BUDGET_MEMORY', () => {
    expect(loadConfig({}, { TOPAS_PROFILE_BUDGET_CPU: '3500m', TOPAS_PROFILE_BUDGET_MEMORY: '6Gi' }).profileBudget).toEqual({ cpuCores: 3.5, memoryBytes: 6 * 2 ** 30, source: 'configured' });
    expect(loadConfig({}, { TOPAS_PROFILE_BUDGET_CPU: '2' }).profileBudget).toMatchObject({ cpuCores: 2, source: 'mixed' });
  });

  it('refuses a value that is not an amount, naming the setting', () => {
    expect(() => loadConfig({}, { TOPAS_PROFILE_BUDGET_MEMORY: 'lots' })).toThrow(/TOPAS_PROFILE_BUDGET_MEMORY.*8Gi/s);
    expect(() => loadConfig({}, { TOPAS_PROFILE_BUDGET_CPU: '0' })).toThrow(/TOPAS_PROFILE_BUDGET_CPU/);
  });
});

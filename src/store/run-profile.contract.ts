/**
 * Resource profiles in the store, on every implementation: a run's profile is kept
 * with its end, and the per-test p50/p95 and pooled p95s are computed in SQL.
 * Runs next to the store contract (same `open`).
 */
import { describe, expect, it } from 'vitest';
import type { NewRun, RunCompletion, RunProfile } from '../core/run.js';
import { eachTestOpens, type OpenedStore } from './store.contract.js';
import type { Sql } from './sql.js';
import type { Store } from './store.js';

const summary = { stepsPassed: 0, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 };
const MiB = 1024 * 1024;
const RANGE = { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' };

export function describeRunProfileContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Run profiles: ${name}`, () => {
    let store: Store;
    let sql: Sql;
    eachTestOpens(open, (o) => ((store = o.store), (sql = o.sql)));

    /** A run that ended `phase` with `profile`, created at `day` of January 2026, that ran `durationMs`. */
    async function ended(input: NewRun, day: number, durationMs: number, profile: RunProfile | undefined, phase: RunCompletion['phase'] = 'Passed') {
      const run = await store.createRun(input);
      await store.claimRuns('exec', 1, 100);
      const done = await store.finishRun(run.id, 'exec', { phase, reason: null, message: null, summary, ...(profile ? { profile } : {}) });
      expect(done).not.toBeNull();
      const at = new Date(Date.UTC(2026, 0, day)).toISOString();
      await sql.query('UPDATE runs SET created_at = $2, duration_ms = $3 WHERE id = $1', [run.id, at, durationMs]);
      return run.id;
    }

    const inline = (name: string): NewRun => ({ name, origin: 'api', source: { type: 'inline', script: '' }, timeoutSeconds: 60 });

    it("keeps a run's profile with its end; a run ended without one has none", async () => {
      const a = await ended(inline('with'), 2, 1000, { cpuMs: 12.345, peakMemoryBytes: 3 * MiB });
      const b = await ended(inline('without'), 2, 1000, undefined);
      expect((await store.getRun(a))!.profile).toEqual({ cpuMs: 12.345, peakMemoryBytes: 3 * MiB });
      expect((await store.getRun(b))!.profile).toBeNull();
    });

    it('gives p50/p95 per definition and per name over the newest runs in the range, and the pooled p95s', async () => {
      const def = await store.createDefinition({ name: 'checkout', script: '' });
      const ofDef: NewRun = { name: 'checkout run', origin: 'api', source: { type: 'definition', definitionId: def.id, script: '' }, timeoutSeconds: 60 };
      // checkout: four runs, the oldest outside `last: 3`; 1 s each
      await ended(ofDef, 3, 1000, { cpuMs: 900, peakMemoryBytes: 90 * MiB }); // too old for last 3
      await ended(ofDef, 4, 1000, { cpuMs: 100, peakMemoryBytes: 10 * MiB });
      await ended(ofDef, 5, 1000, { cpuMs: 200, peakMemoryBytes: 20 * MiB }, 'Failed');
      await ended(ofDef, 6, 1000, { cpuMs: 300, peakMemoryBytes: 30 * MiB });
      // a script without definition, that waits: 10 ms of CPU in 2 s
      await ended(inline('adhoc'), 7, 2000, { cpuMs: 10, peakMemoryBytes: 1 * MiB });
      // left out: cancelled, outside the range, no profile
      await ended(inline('adhoc'), 8, 100, { cpuMs: 5000, peakMemoryBytes: 500 * MiB }, 'Cancelled');
      await ended(inline('adhoc'), 40, 100, { cpuMs: 5000, peakMemoryBytes: 500 * MiB });
      await ended(inline('adhoc'), 9, 100, undefined);

      const { items, basis } = await store.runProfiles({ ...RANGE, last: 3, limit: 10 });
      expect(items).toEqual([
        {
          definitionId: def.id,
          name: 'checkout',
          runs: 3,
          cpuMs: { p50: 200, p95: 300 },
          peakMemoryBytes: { p50: 20 * MiB, p95: 30 * MiB },
          durationMs: { p50: 1000, p95: 1000 },
          cpuCores: { p50: 0.2, p95: 0.3 },
        },
        {
          definitionId: null,
          name: 'adhoc',
          runs: 1,
          cpuMs: { p50: 10, p95: 10 },
          peakMemoryBytes: { p50: 1 * MiB, p95: 1 * MiB },
          durationMs: { p50: 2000, p95: 2000 },
          cpuCores: { p50: 0.005, p95: 0.005 },
        },
      ]);
      // pooled: shares 0.1, 0.2, 0.3, 0.005 → p95 0.3; peaks → 30 MiB
      expect(basis).toEqual({ runs: 4, cpuCoresP95: 0.3, peakMemoryBytesP95: 30 * MiB });

      const top = await store.runProfiles({ ...RANGE, last: 100, limit: 1 });
      expect(top.items.map((i) => [i.name, i.runs])).toEqual([['checkout', 4]]);
      expect(top.basis.runs).toBe(5); // the basis counts every test, listed or not
    });

    it('answers an empty range with no items and an empty basis', async () => {
      expect(await store.runProfiles({ ...RANGE, last: 100, limit: 10 })).toEqual({ items: [], basis: { runs: 0, cpuCoresP95: null, peakMemoryBytesP95: null } });
    });
  });
}

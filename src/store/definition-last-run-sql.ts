/**
 * A definition's last result: its newest run (by creation) that has finished. One
 * statement for a page of definitions; per definition it is a short walk down
 * runs_definition_idx (definition_id, created_at DESC, id DESC) that skips the runs
 * still Queued or Running.
 */
import type { RunPhase } from '../core/run-phase.js';
import { isoOrNull } from './row-mapping.js';
import type { SqlExecutor } from './sql.js';
import type { DefinitionLastRun } from './store.js';

export const LAST_RUNS_OF_DEFINITIONS_SQL = `SELECT d.id AS definition_id, r.id, r.phase, r.finished_at, r.category
   FROM unnest($1::text[]) AS d(id)
   CROSS JOIN LATERAL (
     SELECT id, phase, finished_at, category FROM runs
      WHERE definition_id = d.id AND phase NOT IN ('Queued', 'Running')
      ORDER BY created_at DESC, id DESC LIMIT 1
   ) r`;

export async function lastRunsOfDefinitions(sql: SqlExecutor, definitionIds: readonly string[]): Promise<Map<string, DefinitionLastRun>> {
  const out = new Map<string, DefinitionLastRun>();
  if (definitionIds.length === 0) return out;
  const { rows } = await sql.query(LAST_RUNS_OF_DEFINITIONS_SQL, [[...new Set(definitionIds)]]);
  for (const row of rows) {
    out.set(row.definition_id as string, {
      id: row.id as string,
      phase: row.phase as RunPhase,
      finishedAt: isoOrNull(row.finished_at),
      category: (row.category as string | null) ?? null,
    });
  }
  return out;
}

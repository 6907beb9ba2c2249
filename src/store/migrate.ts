import type { Sql } from './sql.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

/** Advisory lock key that serialises migrators (any fixed 64-bit number; "topasmig"). */
const MIGRATION_LOCK = 0x746f7061736d6967n;

/**
 * Applies pending migrations in version order, in one transaction, recording each
 * in `schema_migrations`. A transaction-level advisory lock makes concurrent callers
 * (several topas replicas starting at once) wait for each other: the first applies,
 * the rest find nothing pending. Returns the versions it applied.
 */
export async function migrate(sql: Sql, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK.toString()]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => Number(r.version)));
    const done: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      done.push(m.version);
    }
    return done;
  });
}

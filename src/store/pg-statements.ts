import type pg from 'pg';

/**
 * Statements each PostgreSQL connection keeps prepared, unless told otherwise
 * (`TOPAS_DATABASE_STATEMENT_CACHE`; 0 for a PgBouncer in transaction mode before 1.21,
 * which cannot keep a session's prepared statements).
 */
export const DEFAULT_STATEMENT_CACHE = 256;

/** PostgreSQL's "cached plan must not change result type" (a table a prepared statement reads changed shape). */
const FEATURE_NOT_SUPPORTED = '0A000';

/**
 * Parameterized statements on PostgreSQL as named prepared statements, per connection:
 * parsed and planned once per text on each connection, then only bound and executed.
 * Parsing and planning were most of PostgreSQL's CPU for the store's short statements
 * (a run's page: 0.24–0.42 → 0.05–0.08 ms of the server's CPU; the first page of runs
 * 0.20 → 0.09). A connection prepares the first `limit` texts it runs — the store's hot
 * statements come first — and runs any other unnamed, as before.
 *
 * PostgreSQL may keep a generic plan made while a table was small (a fresh database has
 * no statistics until autovacuum analyzes it): a statement that must go by index whatever
 * the table's size says so itself (the claim: `CLAIM_LOCK_BY_INDEX` in `run-queue-sql.ts`).
 */
export class PgStatements {
  /** By connection: each prepared text's name there, and the text's generation it was prepared in. */
  private readonly prepared = new WeakMap<pg.ClientBase, Map<string, { name: string; generation: number }>>();
  /**
   * Texts whose table changed shape since they were first prepared, and how many times:
   * once one connection finds out, every connection prepares the text again at its next
   * use instead of failing on it too.
   */
  private readonly generations = new Map<string, number>();
  private nextName = 1;

  constructor(private readonly limit: number) {}

  /**
   * Runs `text` on `client`, prepared when it can be. Outside a transaction (`retry`), a
   * statement whose table changed shape since it was prepared (a newer instance migrated
   * the schema) is prepared again and run once more; in one, the error goes to the caller,
   * whose next attempt prepares it again.
   */
  async query(client: pg.ClientBase, text: string, params: unknown[] | undefined, retry: boolean): Promise<pg.QueryResult> {
    const name = this.nameOf(client, text);
    if (name === null) return client.query(text, params);
    try {
      return await client.query({ name, text, values: params });
    } catch (error) {
      if ((error as { code?: unknown }).code !== FEATURE_NOT_SUPPORTED) throw error;
      // A new generation, under new names: the server still holds the old statements under theirs.
      const stale = this.prepared.get(client)?.get(text);
      if (stale && stale.generation === (this.generations.get(text) ?? 0)) this.generations.set(text, stale.generation + 1);
      if (!retry) throw error;
      return this.query(client, text, params, false);
    }
  }

  private nameOf(client: pg.ClientBase, text: string): string | null {
    if (this.limit <= 0) return null;
    let names = this.prepared.get(client);
    if (!names) this.prepared.set(client, (names = new Map()));
    const generation = this.generations.get(text) ?? 0;
    const known = names.get(text);
    if (known?.generation === generation) return known.name;
    if (known) names.delete(text);
    else if (names.size >= this.limit) return null;
    const name = `topas_${this.nextName++}`;
    names.set(text, { name, generation });
    return name;
  }
}

/**
 * Prepared statements on a real PostgreSQL (TEST_DATABASE_URL): what each connection
 * keeps prepared, the limit, and a table that changes shape under a prepared statement
 * (a newer instance migrating the schema while this one runs).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgStatements } from './pg-statements.js';

const url = process.env.TEST_DATABASE_URL;

if (!url) {
  describe.skip('PgStatements (skipped: set TEST_DATABASE_URL=postgres://user@host:5432/db to run it)', () => {
    it('needs TEST_DATABASE_URL', () => {});
  });
} else {
  describe('PgStatements', () => {
    let client: pg.Client;
    /** Another session of the same database (the instance that migrates). */
    let other: pg.Client;
    const table = `prep_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

    beforeEach(async () => {
      client = new pg.Client({ connectionString: url });
      other = new pg.Client({ connectionString: url });
      await Promise.all([client.connect(), other.connect()]);
      await other.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text)`);
      await other.query(`INSERT INTO ${table} VALUES (1, 'one'), (2, 'two')`);
    });
    afterEach(async () => {
      await other.query(`DROP TABLE IF EXISTS ${table}`);
      await Promise.all([client.end(), other.end()]);
    });

    /** The texts this session holds prepared. */
    async function preparedTexts(): Promise<string[]> {
      const { rows } = await client.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements ORDER BY prepare_time');
      return rows.map((r) => r.statement);
    }

    it('prepares a statement once per connection and runs it again by name, up to the limit', async () => {
      const statements = new PgStatements(2);
      const byId = `SELECT name FROM ${table} WHERE id = $1`;
      expect((await statements.query(client, byId, [1], true)).rows).toEqual([{ name: 'one' }]);
      expect((await statements.query(client, byId, [2], true)).rows).toEqual([{ name: 'two' }]);
      expect(await preparedTexts()).toEqual([byId]);
      const count = `SELECT count(*)::int AS n FROM ${table} WHERE id > $1`;
      const names = `SELECT string_agg(name, ',' ORDER BY id) AS s FROM ${table} WHERE id >= $1`;
      await statements.query(client, count, [0], true);
      // Past the limit a statement runs unnamed, with the same result.
      expect((await statements.query(client, names, [1], true)).rows).toEqual([{ s: 'one,two' }]);
      expect(await preparedTexts()).toEqual([byId, count]);
    });

    it('prepares nothing with a limit of 0 (PgBouncer in transaction mode)', async () => {
      const statements = new PgStatements(0);
      expect((await statements.query(client, `SELECT name FROM ${table} WHERE id = $1`, [2], true)).rows).toEqual([{ name: 'two' }]);
      expect(await preparedTexts()).toEqual([]);
    });

    it('answers with the new shape when another session changed the table under a prepared statement', async () => {
      const statements = new PgStatements(16);
      const all = `SELECT * FROM ${table} WHERE id = $1`;
      expect((await statements.query(client, all, [1], true)).rows).toEqual([{ id: 1, name: 'one' }]);
      await other.query(`ALTER TABLE ${table} ADD COLUMN size int NOT NULL DEFAULT 7`);
      // On its own: prepared again and answered at once.
      expect((await statements.query(client, all, [1], true)).rows).toEqual([{ id: 1, name: 'one', size: 7 }]);

      await other.query(`ALTER TABLE ${table} ADD COLUMN colour text NOT NULL DEFAULT 'red'`);
      // In a transaction the statement fails (the transaction is lost either way); the next attempt is prepared again.
      await client.query('BEGIN');
      await expect(statements.query(client, all, [2], false)).rejects.toMatchObject({ code: '0A000' });
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      expect((await statements.query(client, all, [2], false)).rows).toEqual([{ id: 2, name: 'two', size: 7, colour: 'red' }]);
      await client.query('COMMIT');
    });

    it('once one connection found a table changed, the others prepare the statement again instead of failing on it too', async () => {
      const statements = new PgStatements(16);
      const all = `SELECT * FROM ${table} WHERE id = $1`;
      const second = new pg.Client({ connectionString: url });
      await second.connect();
      try {
        await statements.query(client, all, [1], true);
        await statements.query(second, all, [1], true);
        await other.query(`ALTER TABLE ${table} ADD COLUMN size int NOT NULL DEFAULT 7`);
        expect((await statements.query(client, all, [1], true)).rows).toEqual([{ id: 1, name: 'one', size: 7 }]);
        // The second connection, in a transaction, where a failure would cost the transaction.
        await second.query('BEGIN');
        expect((await statements.query(second, all, [2], false)).rows).toEqual([{ id: 2, name: 'two', size: 7 }]);
        await second.query('COMMIT');
      } finally {
        await second.end();
      }
    });
  });
}

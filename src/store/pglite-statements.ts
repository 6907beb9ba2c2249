import { parse, protocol, type PGlite } from '@electric-sql/pglite';

/** Statements kept prepared at once; the least recently used one is closed to make room. */
const MAX_PREPARED = 256;
/** PostgreSQL's "cached plan must not change result type" (a table a prepared statement reads changed shape). */
const FEATURE_NOT_SUPPORTED = '0A000';

const serialize = protocol.serialize;

interface Prepared {
  name: string;
  /** Parameter type OIDs, as PostgreSQL inferred them when it parsed the statement. */
  types: number[];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Parameterized statements on PGlite as named prepared statements: parsed (and their
 * parameter types described) once per text, then bound and executed in one exchange
 * with the database. PGlite's own `query` parses, describes and plans the text again
 * every time, in six exchanges; for the engine's short statements that was most of
 * their cost. Values are serialized and rows parsed with PGlite's own type handlers,
 * so results are the same as `db.query`'s. Not safe for concurrent use: the PGlite
 * thread runs one statement at a time.
 */
export class PreparedStatements {
  /** By text, least recently used first (a Map keeps insertion order). */
  private readonly prepared = new Map<string, Prepared>();
  private nextName = 1;

  constructor(private readonly db: PGlite) {}

  async query(text: string, params: readonly unknown[] = []): Promise<{ rows: unknown[]; affectedRows: number }> {
    try {
      return await this.run(text, params);
    } catch (error) {
      // A table changed shape under the statement (a migration, a test's ALTER): prepare it again, once.
      if ((error as { code?: unknown }).code !== FEATURE_NOT_SUPPORTED || !this.prepared.has(text)) throw error;
      await this.forget(text);
      return this.run(text, params);
    }
  }

  private async run(text: string, params: readonly unknown[]): Promise<{ rows: unknown[]; affectedRows: number }> {
    const statement = await this.prepare(text);
    const serializers = this.db.serializers;
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const type = statement.types[i];
      const serializer = type === undefined ? undefined : serializers[type];
      return serializer ? serializer(value) : String(value);
    });
    const { messages } = await this.db.execProtocol(
      concat([serialize.bind({ statement: statement.name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]),
    );
    const result = parse.parseResults(messages, this.db.parsers)[0];
    return { rows: result?.rows ?? [], affectedRows: result?.affectedRows ?? 0 };
  }

  private async prepare(text: string): Promise<Prepared> {
    const known = this.prepared.get(text);
    if (known) {
      // Most recently used goes last.
      this.prepared.delete(text);
      this.prepared.set(text, known);
      return known;
    }
    const parts: Uint8Array[] = [];
    if (this.prepared.size >= MAX_PREPARED) {
      const [oldest, old] = this.prepared.entries().next().value as [string, Prepared];
      this.prepared.delete(oldest);
      parts.push(serialize.close({ type: 'S', name: old.name }));
    }
    const name = `topas_${this.nextName++}`;
    parts.push(serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync());
    const { messages } = await this.db.execProtocol(concat(parts));
    const description = messages.find((m) => m.name === 'parameterDescription') as { dataTypeIDs?: number[] } | undefined;
    const statement = { name, types: description?.dataTypeIDs ?? [] };
    this.prepared.set(text, statement);
    return statement;
  }

  private async forget(text: string): Promise<void> {
    const statement = this.prepared.get(text);
    if (!statement) return;
    this.prepared.delete(text);
    await this.db.execProtocol(concat([serialize.close({ type: 'S', name: statement.name }), serialize.sync()]));
  }
}

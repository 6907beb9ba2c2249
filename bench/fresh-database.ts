import pg from 'pg';

/** A PostgreSQL database made for one bench figure: its URL, and `drop` to remove it. */
export interface FreshDatabase {
  url: string;
  drop: () => Promise<void>;
}

/** Creates database `name` on the server of `adminUrl` (rejects when that server does not answer). */
export async function freshDatabase(adminUrl: string, name: string): Promise<FreshDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`a bench database name must be a plain lower-case name, got ${JSON.stringify(name)}`);
  await onAdmin(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => onAdmin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function onAdmin(adminUrl: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

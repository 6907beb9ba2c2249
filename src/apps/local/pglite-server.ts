/**
 * An App database served by PGlite (PostgreSQL compiled to WebAssembly) inside the
 * topas process, over the PostgreSQL wire protocol on 127.0.0.1 (PGLiteSocketServer).
 * Used when no local PostgreSQL server is available (or when asked for).
 *
 * What that means for services: PGlite is **one session**. Several connections are
 * accepted, but their statements run one at a time on that session, a transaction on
 * one connection makes the others wait, and there is one database and one user
 * (`postgres`): any user name, password and database name in the URL are accepted.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientConfig } from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PortInUseError, type DatabaseServer } from './database-server.js';
import type { RecordedProcess } from './process-group.js';

/** Connections served at once (their statements are still serialized). */
const MAX_CONNECTIONS = 64;

/** What the status says about this engine. */
export const PGLITE_NOTE =
  'embedded PGlite served over the PostgreSQL wire protocol: one session at a time (statements of all connections run one after another, a transaction makes other connections wait); one database, any user name and password accepted';

export class PgliteServer implements DatabaseServer {
  readonly engine = 'pglite' as const;
  onUnexpectedExit: ((description: string) => void) | null = null;
  private db: PGlite | null = null;
  private server: PGLiteSocketServer | null = null;
  private listening: number | null = null;
  private readonly dataDir: string;

  constructor(dir: string) {
    this.dataDir = join(dir, 'pglite');
  }

  /** True when the folder holds PGlite data already. */
  static hasData(dir: string): boolean {
    const path = join(dir, 'pglite');
    return existsSync(path) && readdirSync(path).length > 0;
  }

  get port(): number | null {
    return this.listening;
  }

  async start(port: number): Promise<void> {
    if (this.server) return;
    const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-socket')]);
    mkdirSync(this.dataDir, { recursive: true });
    this.db ??= await PGlite.create({ dataDir: this.dataDir });
    const server = new PGLiteSocketServer({ db: this.db, host: '127.0.0.1', port, maxConnections: MAX_CONNECTIONS });
    try {
      await server.start();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(port);
      throw error;
    }
    this.server = server;
    this.listening = port;
  }

  adminConnection(): ClientConfig {
    return { host: '127.0.0.1', port: this.listening ?? undefined, user: 'postgres', database: 'postgres' };
  }

  recorded(): RecordedProcess | null {
    return null;
  }

  async stop(): Promise<void> {
    const server = this.server;
    const db = this.db;
    this.server = null;
    this.db = null;
    this.listening = null;
    await server?.stop();
    if (db && !db.closed) await db.close();
  }

  killNow(): void {
    // In this process: it ends with it.
  }
}

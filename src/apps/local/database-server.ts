/**
 * A database server of an App on this machine, whatever runs it: a local PostgreSQL
 * server (`postgres-server.ts`) or PGlite served over the wire protocol
 * (`pglite-server.ts`). Both listen on 127.0.0.1 and keep their data in the
 * database's folder, so a later start finds it again.
 */
import type { ClientConfig } from 'pg';
import type { RecordedProcess } from './process-group.js';

export type DatabaseEngineName = 'postgresql' | 'pglite';

export interface DatabaseServer {
  readonly engine: DatabaseEngineName;
  /** The port it listens on; null when stopped. */
  readonly port: number | null;
  /** Starts it on `port` (initializing the data folder the first time); resolves once it accepts connections. */
  start(port: number): Promise<void>;
  /** How to connect as a superuser to a maintenance database (for creating roles and databases). */
  adminConnection(): ClientConfig;
  /** The server process, for the state file; null when it runs inside topas (PGlite) or is stopped. */
  recorded(): RecordedProcess | null;
  /** Stops it; the data stays. */
  stop(): Promise<void>;
  /** Synchronous last resort when topas exits without close(). */
  killNow(): void;
  /** Told when the server exits without being asked to (it is then stopped). */
  onUnexpectedExit: ((description: string) => void) | null;
}

/** The port was taken between choosing it and binding it: start again on another. */
export class PortInUseError extends Error {
  constructor(port: number) {
    super(`port ${port} on 127.0.0.1 is already in use`);
    this.name = 'PortInUseError';
  }
}

/**
 * `<stateDir>/<app>/state.json`: what a later topas needs to clean up after this one
 * and to keep things where they were — the replica processes (pid, process group,
 * start time) and database servers it started, and the ports of the service
 * balancers and databases. Rewritten atomically (temp file + rename) whenever a
 * process starts or stops, so a topas killed with SIGKILL leaves an accurate record.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseRecord } from './app-database.js';
import type { RecordedProcess } from './process-group.js';

export interface ServiceRecord {
  /** Balancer ports by port name ('' = the main port). */
  ports: Record<string, number>;
  processes: (RecordedProcess & { slot: number })[];
}

export interface AppStateFile {
  version: 1;
  app: string;
  updatedAt: string;
  services: Record<string, ServiceRecord>;
  databases: Record<string, DatabaseRecord>;
}

/** The recorded state, or null when there is none (or it is unreadable: then there is nothing to adopt). */
export function readAppState(file: string): AppStateFile | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as AppStateFile;
    return parsed && parsed.version === 1 ? parsed : null;
  } catch {
    return null;
  }
}

export function writeAppState(file: string, state: AppStateFile): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

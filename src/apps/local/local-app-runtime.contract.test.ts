/**
 * The AppRuntime contract (`../app-runtime.contract.ts`) for the local runtime: the
 * demo service as local processes (`local.command`) over a local PostgreSQL server.
 * PGlite serves one session at a time, which two replicas' connection pools would
 * queue on, so the suite needs the host's PostgreSQL binaries and is skipped without them.
 */
import { describeAppRuntimeContract } from '../app-runtime.contract.js';
import { LocalAppRuntime } from './local-app-runtime.js';
import { findPostgres } from './postgres-binaries.js';
import { tempStateDir } from './testing/helpers.js';

const postgres = findPostgres(process.env.PATH ?? '');
let state: ReturnType<typeof tempStateDir> | null = null;

describeAppRuntimeContract('local', {
  skip: postgres.ok ? null : `no PostgreSQL binaries: ${postgres.reason}`,
  async create() {
    state = tempStateDir();
    return new LocalAppRuntime({ stateDir: state.dir, databaseEngine: 'postgresql' });
  },
  async dispose() {
    state?.remove();
  },
});

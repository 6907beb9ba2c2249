/** The App controller's embedded backend: an App run as local processes and databases. */
export { LocalAppRuntime, type LocalAppRuntimeOptions } from './local-app-runtime.js';
export type { RuntimeLog, RuntimeLogEntry } from './runtime-log.js';

import type { TopasConfig } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import type { Store } from '../store/store.js';
import type { AppController } from '../apps/app-controller.js';
import type { AuthService, AuthStore } from './security/auth-service.js';
import type { RunnerHub } from '../executors/runner-hub.js';
import type { ReadCoalescer } from './read-cache.js';

/** The store queries the HTTP API reads through (writes of runs go through the engine). */
export type ServerStore = Pick<
  Store,
  | 'getRun'
  | 'listRuns'
  | 'getLogs'
  | 'getSteps'
  | 'getRunChanges'
  | 'getAssertions'
  | 'getRunDetail'
  | 'createDefinition'
  | 'getDefinition'
  | 'listDefinitions'
  | 'lastRunsOfDefinitions'
  | 'updateDefinition'
  | 'deleteDefinition'
  | 'countByPhase'
  | 'queueStats'
  | 'runTrends'
  | 'topTests'
  | 'previousRun'
  | 'listTests'
  | 'getTest'
  | 'testHistory'
  | 'quarantineTest'
  | 'releaseTest'
  | 'getCategoryRules'
  | 'putCategoryRules'
  | 'recentFailures'
  | 'recategorize'
  | 'categoryTrends'
  | 'runTestResults'
  | 'runProfiles'
  | 'importRun'
> &
  AuthStore;

/** The App controller operations the HTTP API uses. */
export type ServerApps = Pick<AppController, 'apply' | 'get' | 'list' | 'delete'>;

/** The engine operations the HTTP API uses. */
export type ServerEngine = Pick<Engine, 'submit' | 'submitMany' | 'cancel' | 'subscribe' | 'stats' | 'metrics'>;

/** One finished HTTP request, for structured debug logging. */
export interface RequestLogEntry {
  msg: 'request';
  method: string;
  path: string;
  status: number;
  ms: number;
}

export interface AppOptions {
  store: ServerStore;
  engine: ServerEngine;
  config: TopasConfig;
  /** Apps (systems under test); without it, /api/apps answers 404. */
  apps?: ServerApps;
  /** The runner protocol's server end (detached executors); without it the runner routes answer 409 RunNotAttached. */
  runners?: RunnerHub;
  /** Tokens, sessions and login codes. Default: one over `store`, on unless `config.auth` is false. */
  auth?: AuthService;
  /** Receives one entry per request; wire it to a debug-level logger. Default: nothing is logged. */
  logRequest?: (entry: RequestLogEntry) => void;
  /** Live log streams re-read the store at least this often, in ms (another instance may run the run). Default 500. */
  followPollMs?: number;
  /** Live log streams send a comment this often, in ms, so proxies keep the connection. Default 15000. */
  heartbeatMs?: number;
}

/** What route modules receive. */
export interface ServerDeps {
  store: ServerStore;
  engine: ServerEngine;
  config: TopasConfig;
  apps?: ServerApps;
  runners?: RunnerHub;
  auth: AuthService;
  /** Identical concurrent GETs of runs and stats share one store call; at most a few run at once. */
  reads: ReadCoalescer;
  followPollMs: number;
  heartbeatMs: number;
}

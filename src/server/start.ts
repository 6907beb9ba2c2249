import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { TopasConfig } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import { RunEngine } from '../engine/run-engine.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { startMaintenance } from '../engine/maintenance.js';
import { startRetention, type RetentionOptions, type RetentionSweeper } from '../engine/retention.js';
import { createLocalExecutor } from '../executors/local-executor.js';
import type { Executor } from '../executors/executor.js';
import { RunnerHub } from '../executors/runner-hub.js';
import { runTokenMinter, type MintRunToken } from '../executors/run-tokens.js';
import { lockDataFolder } from '../store/data-folder-lock.js';
import { openStores } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createApp } from './app.js';
import { READ_CONCURRENCY } from './read-cache.js';
import { loadExampleApps, loadExamples } from './examples.js';
import { AppController } from '../apps/app-controller.js';
import { LocalAppRuntime } from '../apps/local/local-app-runtime.js';
import { basename, join } from 'node:path';
import { sameRules, type CategoryRules } from '../core/categories.js';
import { AuthService, SHARED_DATABASE_TRUST_MS } from './security/auth-service.js';
import { ensureAdminToken, type AdminToken } from './security/admin-token.js';
import type { KubernetesMode } from './kubernetes-composition.js';

/** A running topas: store, engine and HTTP server, composed. */
export interface RunningTopas {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  config: TopasConfig;
  store: Store;
  engine: Engine;
  /** The App controller (systems under test, run as local processes). */
  apps: AppController;
  /** Tokens, sessions and login codes. */
  auth: AuthService;
  /** Deletes old runs and expires old logs in the background (`config.retention`); `sweep()` runs one now. */
  retention: RetentionSweeper;
  /** The admin token (its secret, where it was written); null when authentication is off. */
  admin: AdminToken | null;
  /**
   * A fresh one-time login URL for the dashboard (`http://127.0.0.1:4000/?token=<code>`:
   * single use, 15 minutes, logs in as the admin token); the plain URL when authentication is off.
   */
  loginUrl(): string;
  /** Stops HTTP, the engine (running runs get up to `graceMs`) and the store. */
  close(graceMs?: number): Promise<void>;
}

/** What a detached executor (runs outside this process) is made from. */
export interface DetachedExecutorDeps {
  /** The server end of the runner protocol; the runner routes of this server use the same hub. */
  hub: RunnerHub;
  /** Mints a run's per-run token (stored hashed; it works only while the run is Queued or Running). */
  mintRunToken: MintRunToken;
  /** This server's URL; resolves once it listens (runners are started after that). */
  serverUrl: () => Promise<string>;
}

export interface StartOptions {
  /** Where the engine, the App controller and the rest log (the one logger shape). Default: nowhere; `topas up` passes stderr. */
  log?: Logger;
  /**
   * Another executor than `local`: runs execute in runners outside this process
   * (runner Pods), which call back over the runner protocol. Default: the local executor.
   */
  executor?: (deps: DetachedExecutorDeps) => Executor;
  /** Heartbeat and flush cadence the runners are told (`RunnerHub`). Defaults 1000 ms / 50 ms. */
  runnerTimings?: { heartbeatMs?: number; flushMs?: number };
  /** Engine timings (tests): how long an owner may be silent before its runs are adopted. */
  engineTimings?: { heartbeatMs?: number; staleAfterMs?: number };
  /** With `config.nats`: the nats executor's timings (tests; `executors/nats/nats-executor.ts`). */
  natsTimings?: { attachWaitMs?: number; cancelGraceMs?: number; checkMs?: number };
  /** With `config.kubernetes`: the kubernetes executor's timings (tests). */
  kubernetesTimings?: { cancelGraceMs?: number; checkMs?: number };
  /** The retention sweeper's schedule, batch size and clock (tests). Defaults: `engine/retention.ts`. */
  retention?: Pick<RetentionOptions, 'firstAfterMs' | 'everyMs' | 'batchSize' | 'pauseMs' | 'now'>;
}

/**
 * Composition root of the embedded platform: data folder lock → store → executor →
 * engine → HTTP. Throws DataFolderInUseError, having touched nothing, when another
 * topas holds the data folder (also with DATABASE_URL: the folder holds App state).
 */
export async function startTopas(config: TopasConfig, options: StartOptions = {}): Promise<RunningTopas> {
  const log = options.log ?? silentLogger;
  const lock = await lockDataFolder(config.dataDir);
  let store: Store;
  /** The HTTP API reads through this one: its statements wait behind the engine's. */
  let reads: Store;
  try {
    ({ store, reads } = await openStores({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, flakyWindow: config.flakyWindow, statementCache: config.databaseStatementCache }));
  } catch (error) {
    await lock.release();
    throw error;
  }
  // `--kubernetes`: loaded only then, so embedded mode loads no Kubernetes code.
  let kube: KubernetesMode | null = null;
  if (config.kubernetes && !options.executor) {
    try {
      const { prepareKubernetes } = await import('./kubernetes-composition.js');
      kube = await prepareKubernetes({ config: config.kubernetes, instanceId: config.instanceId, gitAllowFile: config.gitAllowFile, log, ...(options.kubernetesTimings ? { executor: options.kubernetesTimings } : {}) });
    } catch (error) {
      await store.close();
      await lock.release();
      throw error;
    }
  }
  // `--nats`: runs go to a JetStream work queue for `topas worker` processes (connected first: fails fast).
  let natsExecutor: ((deps: DetachedExecutorDeps) => Executor) | undefined;
  if (config.nats && !options.executor) {
    const nats = config.nats;
    try {
      const { openNatsQueue, createNatsExecutor } = await import('../executors/nats/nats-executor.js');
      const queue = await openNatsQueue(nats.url, { stream: nats.stream, subject: nats.subject });
      natsExecutor = (deps) =>
        createNatsExecutor(queue, {
          hub: deps.hub,
          mintRunToken: deps.mintRunToken,
          serverUrl: nats.serverUrl ? () => nats.serverUrl! : deps.serverUrl,
          lostAfterMs: nats.lostAfterSeconds * 1000,
          ...options.natsTimings,
          log,
        });
      log('info', 'nats: runs go to the JetStream work queue for topas worker processes', { stream: nats.stream, subject: nats.subject });
    } catch (error) {
      await store.close();
      await lock.release();
      throw error;
    }
  }
  // On Kubernetes, Apps are `App` resources reconciled into Deployments and Services; else local processes.
  const runtime = kube?.appRuntime ?? new LocalAppRuntime({
    stateDir: join(config.dataDir, 'apps'),
    databaseEngine: config.appDatabases,
    log: ({ level, msg, ...fields }) => log(level, msg, fields),
  });
  // The runner protocol's server end; it knows the per-run tokens minted here (its Apps gateway comes below).
  const hub = new RunnerHub(options.runnerTimings);
  const auth = new AuthService({
    store: reads,
    runTokens: store,
    runTokensInMemory: hub,
    lookupConcurrency: READ_CONCURRENCY,
    // Embedded, only this process writes the data folder: every revocation goes through it.
    trustForMs: config.databaseUrl ? SHARED_DATABASE_TRUST_MS : Infinity,
    enabled: config.auth,
    log: (level, msg, fields) => log(level, msg, fields),
  });
  let admin: AdminToken | null = null;
  try {
    admin = config.auth ? await ensureAdminToken({ auth, dataDir: config.dataDir, secret: config.adminToken }) : null;
  } catch (error) {
    await kube?.stop();
    await store.close();
    throw error;
  }
  if (admin?.created) log('info', 'created the admin token', { name: admin.token.name, id: admin.token.id, file: admin.file });
  if (config.categories) {
    try {
      await syncCategoriesFile(store, config.categories, log);
    } catch (error) {
      await kube?.stop();
      await store.close();
      await lock.release();
      throw error;
    }
  }
  if (!config.auth) log('warn', 'authentication is off (--insecure-no-auth): anyone who can reach this server can run commands as its user', { host: config.host });
  const apps = new AppController({ store, runtime, log });
  hub.setApps(apps);
  let listening: (url: string) => void = () => {};
  const serverUrl = new Promise<string>((resolve) => (listening = resolve));
  const detachedExecutor = options.executor ?? kube?.executor ?? natsExecutor;
  const executor = detachedExecutor
    ? detachedExecutor({ hub, mintRunToken: runTokenMinter(store, hub), serverUrl: () => serverUrl })
    : createLocalExecutor({ workers: config.workers, memoryLimitBytes: config.memoryLimitMb * 1024 * 1024, apps, egress: config.egress, gitAllowFile: config.gitAllowFile });
  const engine = new RunEngine({
    store,
    executor,
    instanceId: config.instanceId,
    concurrency: config.concurrency,
    defaultTimeoutSeconds: config.defaultTimeoutSeconds,
    // The data folder lock makes this the only process on an embedded database: no one else runs our runs.
    exclusive: !config.databaseUrl,
    appExists: async (name) => (await store.getApp(name)) !== null,
    gitAllowFile: config.gitAllowFile,
    ...options.engineTimings,
    // With leader election, only the holder of the Lease claims and executes runs.
    standby: kube?.standby ?? false,
    ...(kube ? { mayClaim: () => kube.mayClaim() } : {}),
    log,
  });
  let server: ServerType | undefined;
  try {
    await engine.start();
    const app = createApp({ store: reads, engine, config, apps, auth, runners: hub });
    server = serve({ fetch: app.fetch, hostname: config.host, port: config.port });
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  } catch (error) {
    server?.close();
    await kube?.stop();
    await engine.stop(0);
    await apps.close();
    await executor.close();
    await store.close();
    await lock.release();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  listening(url);
  if (kube) await kube.start({ engine, store, registry: engine.metrics });
  // Printed for a browser on this machine: an "any address" listener is reachable on loopback.
  const localUrl = config.host === '0.0.0.0' ? `http://127.0.0.1:${port}` : config.host === '::' ? `http://[::1]:${port}` : url;

  // PGlite has no autovacuum: keep its run tables index-friendly when nothing runs.
  const maintenance = config.databaseUrl ? null : startMaintenance({ stats: () => engine.stats(), maintain: () => store.maintain(), maintainUnderLoad: () => store.maintainUnderLoad(), log });
  // Old runs and logs go in the background; with several instances, only the leader sweeps.
  const retention = startRetention({
    policy: config.retention,
    store,
    ...(kube ? { mayRun: () => kube.mayClaim() } : {}),
    log,
    metrics: engine.metrics,
    ...options.retention,
  });

  // Adopt or restart the stored Apps (after a restart of topas) without holding up the API.
  const appsStarted = apps.start().catch((error: unknown) => log('error', 'apps did not start', { error: String(error) }));
  if (config.examples) {
    await appsStarted;
    await loadExampleApps({ apps, log }).catch((error: unknown) => log('warn', 'example apps not applied', { error: String(error) }));
    const appNames = (await store.listApps()).map((a) => a.name);
    await loadExamples({ store, engine, url, log, appNames });
  }

  let closing: Promise<void> | null = null;
  return {
    url,
    config,
    store,
    engine,
    apps,
    auth,
    admin,
    retention,
    loginUrl() {
      return admin ? `${localUrl}/?token=${auth.createLoginCode(admin.token.id)}` : `${localUrl}/`;
    },
    close(graceMs = 5000) {
      closing ??= (async () => {
        const s = server!;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          // Followers (SSE) keep connections open; end them instead of waiting.
          (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
        await maintenance?.stop();
        await retention.stop();
        await engine.stop(graceMs);
        // After the engine: the Lease is released only once this instance executes nothing.
        await kube?.stop();
        await appsStarted;
        await apps.close();
        await executor.close();
        await store.close();
        await lock.release();
      })();
      return closing;
    },
  };
}

/**
 * `--categories FILE`: the file's rules become the stored rules when they differ (the
 * file wins over API edits made since the last start). Past failures keep their
 * category until re-applied (`POST /api/categories/apply`).
 */
export async function syncCategoriesFile(
  store: Pick<Store, 'getCategoryRules' | 'putCategoryRules'>,
  categories: { file: string; rules: CategoryRules },
  log: Logger,
): Promise<boolean> {
  const stored = await store.getCategoryRules();
  if (!stored.defaults && sameRules(stored.rules, categories.rules.rules)) return false;
  const saved = await store.putCategoryRules(categories.rules, `file:${basename(categories.file)}`);
  log('info', 'stored the failure-category rules of the categories file', { file: categories.file, version: saved.version, rules: saved.rules.length });
  return true;
}

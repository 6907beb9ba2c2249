import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { TopasConfig } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import { RunEngine, type EngineLogger } from '../engine/run-engine.js';
import { createLocalExecutor } from '../executors/local-executor.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createApp } from './app.js';
import { loadExamples } from './examples.js';

/** A running topas: store, engine and HTTP server, composed. */
export interface RunningTopas {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  config: TopasConfig;
  store: Store;
  engine: Engine;
  /** Stops HTTP, the engine (running runs get up to `graceMs`) and the store. */
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  log?: EngineLogger;
}

/** Composition root of the embedded platform: store → executor → engine → HTTP. */
export async function startTopas(config: TopasConfig, options: StartOptions = {}): Promise<RunningTopas> {
  const log = options.log ?? (() => {});
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const executor = createLocalExecutor({ workers: config.workers, memoryLimitBytes: config.memoryLimitMb * 1024 * 1024 });
  const engine = new RunEngine({
    store,
    executor,
    instanceId: config.instanceId,
    concurrency: config.concurrency,
    defaultTimeoutSeconds: config.defaultTimeoutSeconds,
    // Only one process can open an embedded data folder, so no one else can be running our runs.
    exclusive: !config.databaseUrl,
    log,
  });
  let server: ServerType | undefined;
  try {
    await engine.start();
    const app = createApp({ store, engine, config });
    server = serve({ fetch: app.fetch, hostname: config.host, port: config.port });
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  } catch (error) {
    server?.close();
    await engine.stop(0);
    await executor.close();
    await store.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  if (config.examples) await loadExamples({ store, engine, url, log });

  let closing: Promise<void> | null = null;
  return {
    url,
    config,
    store,
    engine,
    close(graceMs = 5000) {
      closing ??= (async () => {
        const s = server!;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          // Followers (SSE) keep connections open; end them instead of waiting.
          (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
        await engine.stop(graceMs);
        await executor.close();
        await store.close();
      })();
      return closing;
    },
  };
}

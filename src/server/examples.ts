import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppController } from '../apps/app-controller.js';
import { readAppFile } from '../apps/app-file.js';
import { appNameFromHeader } from '../core/script-header.js';
import type { Logger as EngineLogger } from '../core/logger.js';
import type { Engine } from '../engine/engine.js';
import { bundleTestFolder } from '../runner/test-folder.js';
import type { Store } from '../store/store.js';

/** The bundled examples folder (the same relative place from src/ and dist/). */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/tests/', import.meta.url));
/** The bundled example Apps: `examples/apps/<name>/app.yaml`. */
export const EXAMPLE_APPS_DIR = fileURLToPath(new URL('../../examples/apps/', import.meta.url));

/** Applies each bundled example App that is not stored yet (a user's changes to it are kept). */
export async function loadExampleApps(options: { apps: Pick<AppController, 'apply' | 'get'>; log: EngineLogger; dir?: string }): Promise<string[]> {
  const dir = options.dir ?? EXAMPLE_APPS_DIR;
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
  const applied: string[] = [];
  for (const name of names) {
    const file = join(dir, name, 'app.yaml');
    if (!existsSync(file)) continue;
    let manifests;
    try {
      manifests = await readAppFile(file);
    } catch (error) {
      options.log('warn', 'example app not loaded', { file, error: String(error) });
      continue;
    }
    for (const manifest of manifests) {
      if (await options.apps.get(manifest.metadata.name)) continue;
      await options.apps.apply(manifest);
      applied.push(manifest.metadata.name);
    }
  }
  if (applied.length) options.log('info', 'applied the bundled example Apps', { apps: applied });
  return applied;
}

/**
 * Stores each `examples/tests/*.lua` as a test definition (updating changed
 * scripts) and, on a fresh data folder, runs each once so there is real data to look at.
 */
export async function loadExamples(options: {
  store: Store;
  engine: Engine;
  url: string;
  log: EngineLogger;
  dir?: string;
  /** Apps that exist: examples naming another App are left out. */
  appNames?: string[];
}): Promise<string[]> {
  const { store, engine, url, log } = options;
  const dir = options.dir ?? EXAMPLES_DIR;
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.lua')).sort();
  } catch {
    log('warn', 'no bundled examples found', { dir });
    return [];
  }
  const started: string[] = [];
  for (const file of files) {
    const name = `example-${file.replace(/\.lua$/, '').replace(/[^A-Za-z0-9-]+/g, '-')}`;
    const script = await readFile(`${dir}/${file}`, 'utf8');
    const files = await bundleTestFolder(`${dir}/${file}`);
    const env = { TOPAS_URL: url };
    const labels = { 'topas.dev/example': 'true' };
    const appName = appNameFromHeader(script);
    if (appName && !(options.appNames ?? []).includes(appName)) {
      log('info', 'example test skipped: its App is not there', { file, app: appName });
      continue;
    }
    const existing = await store.getDefinition(name);
    if (existing) {
      if (existing.script !== script || existing.env.TOPAS_URL !== url || JSON.stringify(existing.files) !== JSON.stringify(files) || existing.appName !== appName)
        await store.updateDefinition(existing.id, { script, env, files, appName });
      continue;
    }
    const def = await store.createDefinition({
      name,
      description: `Bundled example: examples/tests/${file}`,
      script,
      files,
      env,
      labels,
      appName,
      timeoutSeconds: appName ? 180 : 60,
    });
    const run = await engine.submit({ origin: 'schedule', definitionId: def.id, fileName: file });
    started.push(run.id);
  }
  if (started.length) log('info', 'started the bundled example tests', { runs: started.length });
  return started;
}

import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { EngineLogger } from '../engine/run-engine.js';
import type { Engine } from '../engine/engine.js';
import { bundleTestFolder } from '../runner/test-folder.js';
import type { Store } from '../store/store.js';

/** The bundled examples folder (the same relative place from src/ and dist/). */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/tests/', import.meta.url));

/**
 * Stores each `examples/tests/*.lua` as a test definition (updating changed
 * scripts) and, on a fresh data folder, runs each once so there is real data to look at.
 */
export async function loadExamples(options: { store: Store; engine: Engine; url: string; log: EngineLogger; dir?: string }): Promise<string[]> {
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
    const existing = await store.getDefinition(name);
    if (existing) {
      if (existing.script !== script || existing.env.TOPAS_URL !== url || JSON.stringify(existing.files) !== JSON.stringify(files))
        await store.updateDefinition(existing.id, { script, env, files });
      continue;
    }
    const def = await store.createDefinition({
      name,
      description: `Bundled example: examples/tests/${file}`,
      script,
      files,
      env,
      labels,
      timeoutSeconds: 60,
    });
    const run = await engine.submit({ origin: 'schedule', definitionId: def.id, fileName: file });
    started.push(run.id);
  }
  if (started.length) log('info', 'started the bundled example tests', { runs: started.length });
  return started;
}

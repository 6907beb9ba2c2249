/**
 * A topas stand-in for the restart tests: applies an App with a LocalAppRuntime, prints
 * one JSON line (the status and the state file) once the App is ready, then idles
 * until the test kills it with SIGKILL — so it never gets to close() and leaves its
 * processes behind, as a crashed topas would.
 *
 *   node --import tsx runtime-child.ts <stateDir> <app> <baseDir> <spec JSON>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalAppRuntime } from '../local-app-runtime.js';
import type { AppSpec } from '../../../core/app.js';

const [stateDir, app, baseDir, specJson] = process.argv.slice(2) as [string, string, string, string];
const spec = JSON.parse(specJson) as AppSpec;
const runtime = new LocalAppRuntime({ stateDir });
await runtime.apply({ name: app, generation: 1, spec, baseDir });
for (const service of spec.services) await runtime.waitReady(app, service.name, 30_000);
const state: unknown = JSON.parse(readFileSync(join(stateDir, app, 'state.json'), 'utf8'));
process.stdout.write(`${JSON.stringify({ status: runtime.status(app), state })}\n`);
setInterval(() => {}, 60_000);

/**
 * The system under test on the embedded platform: how long the demo App takes to come
 * up from nothing (a PostgreSQL cluster created, initSQL applied, two replicas ready),
 * to come back after a restart of topas, and to roll from v1 to v2; and what a `sut`
 * call costs from Lua, against an HTTP request to the same App from the same run.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAppFile } from '../src/apps/app-file.js';
import { loadConfig } from '../src/config/config.js';
import { isConditionTrue } from '../src/core/app.js';
import type { Run } from '../src/core/run.js';
import { isTerminal } from '../src/core/run-phase.js';
import { startTopas, type RunningTopas } from '../src/server/start.js';
import { round } from './stats.js';

const DEMO = fileURLToPath(new URL('../../examples/apps/demo/app.yaml', import.meta.url));

async function untilReady(topas: RunningTopas, name: string): Promise<void> {
  for (;;) {
    const app = await topas.apps.get(name);
    if (app && app.status.observedGeneration === app.metadata.generation && isConditionTrue(app.status, 'Ready')) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function runLua(topas: RunningTopas, script: string): Promise<Run> {
  const run = await topas.engine.submit({ origin: 'api', script, fileName: 'bench.lua', appName: 'demo', timeoutSeconds: 300 });
  for (;;) {
    const now = await topas.store.getRun(run.id);
    if (now && isTerminal(now.phase)) return now;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function benchApps() {
  const data = await mkdtemp(join(tmpdir(), 'topas-bench-apps-'));
  await chmod(data, 0o755); // PostgreSQL, run as its own user, must reach the App's database folder
  const config = loadConfig({ port: 0, data, examples: false }, {});
  let topas = await startTopas(config);
  try {
    const [manifest] = await readAppFile(DEMO);
    let t0 = performance.now();
    await topas.apps.apply(manifest);
    await untilReady(topas, 'demo');
    const coldMs = performance.now() - t0;
    const engine = (await topas.apps.get('demo'))!.status.databases[0]!.engine;

    await topas.close(0);
    t0 = performance.now();
    topas = await startTopas(config);
    await untilReady(topas, 'demo');
    const restartMs = performance.now() - t0;

    const calls = 300;
    const timing = await runLua(
      topas,
      `local n = ${calls}
local t0 = time.now()
for _ = 1, n do sut.status("users") end
local sut_ms = time.since(t0)
t0 = time.now()
for _ = 1, n do net.get("http://users/healthz") end
local net_ms = time.since(t0)
log.info(json.encode({ sut = sut_ms, net = net_ms }))
t0 = time.now()
sut.apply_service("users", { version = "v2" })
sut.wait_ready("users", "120s")
log.info(json.encode({ rollout = time.since(t0) }))`,
    );
    if (timing.phase !== 'Passed') throw new Error(`bench script ${timing.phase}: ${timing.message}`);
    const lines = (await topas.store.getLogs(timing.id)).map((l) => JSON.parse(l.message) as Record<string, number>);
    const { sut, net } = lines[0]!;
    const { rollout } = lines[1]!;
    return {
      app: 'examples/apps/demo (users service, 2 replicas; users-db)',
      databaseEngine: engine,
      coldApplyToReadyMs: round(coldMs, 0),
      topasRestartToReadyMs: round(restartMs, 0),
      rolloutV1toV2Ms: round(rollout!, 0),
      sutStatusCallsPerSecond: round((calls / sut!) * 1000, 0),
      reference: { what: 'net.get("http://users/healthz") from the same run (through the balancer to a replica and PostgreSQL)', requestsPerSecond: round((calls / net!) * 1000, 0) },
      ratioToReference: round(net! / sut!, 2),
    };
  } finally {
    await topas.close(0);
    await rm(data, { recursive: true, force: true });
  }
}

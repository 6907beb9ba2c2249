/**
 * `npm run bench` (compiled to dist-bench/ first, so worker threads run plain
 * JavaScript as in production): measures the embedded platform and writes the figures, each with
 * a reference measured in the same process and the ratio against it (this machine
 * is noisy; compare medians and ratios, not absolute numbers across runs).
 *
 * Sections (pick with BENCH_ONLY=throughput,engine-store,latency,list,insights,web,lua,modules,postman,net,apps,kubernetes,kubernetes-apps,tests-api,junit-io,read-load,nats):
 *   throughput  trivial runs submitted over HTTP → executed → persisted, runs/s
 *   engine-store  the engine and PGlite alone (a stub executor, no HTTP, no Lua): runs/s, the database
 *               thread's CPU and the write-ahead log per run, against three single-row statements per run
 *   latency     submit-to-start on an idle system, p50/p99
 *   list        GET /api/runs?phase=Failed&limit=50 with 1,000,000 stored runs (BENCH_RUNS)
 *   insights    trends, top lists and stats over the same 1,000,000 runs, before and after VACUUM
 *   web         the dashboard in Chromium: first rows of the Runs page over the same runs, a 100,000-line log
 *   lua         a CPU-bound script under the runner vs native lua5.4
 *   modules     per-run overhead of a fresh engine with every module loaded
 *   postman     postman.run in-process vs the newman CLI, same collection
 *   net         sequential net.get requests/s from one run vs Node's fetch
 *   apps        the demo App: cold apply → Ready, topas restart → Ready, v1 → v2 rollout, sut call cost
 *   kubernetes  runs as runner Pods on the test cluster: Kubernetes API requests per passing run by verb,
 *               submit → runner started → Passed p50/p95 against the local executor (BENCH_K8S_RUNS, default 20)
 *   kubernetes-apps  the demo App on the test cluster: apply → Ready, sut.apply_service → rolled out,
 *               against the embedded platform (BENCH_K8S_APPS_RUNS, default 3); Kubernetes API requests
 *               per App reconcile with nothing to change (BENCH_K8S_APPS_RECONCILES, default 10)
 *   tests-api   GET /api/tests (first page, filters) and one test's history over the same 1,000,000 runs with
 *               10 test cases each (10,000,000 test results), p50/p95, on PGlite and on PostgreSQL when it answers
 *   junit-io    JUnit import (POST /api/reports) of a 50 MB file: MB/s and the server's peak memory against
 *               a plain read and a streaming parse of the same file; export of a 10,000-case run's junit.xml
 *   read-load   runs/s while 50 closed-loop readers and an open-loop 500 reads/s hit the API, and the first
 *               request on a new connection under 200 busy clients, on PGlite and PostgreSQL (vs a node:http echo)
 *   nats        runs/s through 1, 2 and 4 `topas worker --nats` processes on PostgreSQL, against the local
 *               executor on PostgreSQL (BENCH_NATS_RUNS, default 1000; BENCH_NATS_URL, BENCH_PG_URL)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { benchLatency, benchThroughput } from './throughput.js';
import { benchListRuns } from './list-runs.js';
import { benchApps } from './apps.js';
import { benchInsights } from './insights.js';
import { benchWeb } from './web-dashboard.js';
import { benchLua } from './lua-cpu.js';
import { benchModules, benchNet, benchPostman } from './lua-modules.js';
import { benchKubernetes } from './kubernetes.js';
import { benchKubernetesApps } from './kubernetes-apps.js';
import { benchTestsApi } from './tests-api.js';
import { benchJUnitIo } from './junit-io.js';
import { benchReadLoad } from './read-load.js';
import { benchNats } from './nats.js';
import { benchEngineStore } from './engine-store.js';

const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const want = (name: string) => !only || only.includes(name);

const results: Record<string, unknown> = {
  when: new Date().toISOString(),
  machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
};

async function section(name: string, fn: () => Promise<unknown>) {
  if (!want(name)) return;
  process.stderr.write(`bench: ${name}…\n`);
  const t0 = performance.now();
  try {
    results[name] = await fn();
  } catch (error) {
    results[name] = { error: error instanceof Error ? error.stack : String(error) };
  }
  process.stderr.write(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

await section('throughput', benchThroughput);
await section('engine-store', benchEngineStore);
await section('latency', benchLatency);
await section('list', benchListRuns);
await section('insights', benchInsights);
await section('web', benchWeb);
await section('lua', benchLua);
await section('modules', benchModules);
await section('postman', benchPostman);
await section('net', benchNet);
await section('apps', benchApps);
await section('kubernetes', benchKubernetes);
await section('kubernetes-apps', benchKubernetesApps);
await section('tests-api', benchTestsApi);
await section('junit-io', benchJUnitIo);
await section('read-load', benchReadLoad);
await section('nats', benchNats);

// Results go to bench/results/ of the checkout (the bench runs compiled, from dist-bench/).
const dir = new URL('bench/results/', `file://${process.cwd()}/`);
await mkdir(dir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const json = JSON.stringify(results, null, 2);
await writeFile(new URL(`bench-${stamp}.json`, dir), json);
await writeFile(new URL('latest.json', dir), json);
process.stdout.write(`${json}\n`);
process.exit(0);

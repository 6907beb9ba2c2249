/** Running one script in tests: the job defaults and the collection of what it reported. */
import type { RunCompletion } from '../../core/run.js';
import type { RunEvent } from '../../core/run-events.js';
import type { LuaWasm } from 'wasmoon';
import { PreparedEngine } from '../lua-engine.js';
import { RunContext } from '../run-context.js';
import type { ScriptJob, ScriptRunner } from '../runner.js';

export interface ScriptResult {
  runId: string;
  completion: RunCompletion;
  events: RunEvent[];
  /** `level: message` per log line, in order. */
  logs: string[];
  /** Wall time of the run in milliseconds. */
  ms: number;
}

let runs = 0;

/** Runs `job.script` on `runner` with test defaults (hello.lua, no files, no env, 10 s, 64 MiB). */
export async function runScript(runner: ScriptRunner, job: Partial<ScriptJob> & { script: string }, signal?: AbortSignal): Promise<ScriptResult> {
  const events: RunEvent[] = [];
  const started = Date.now();
  const runId = job.runId ?? `test-${++runs}`;
  const completion = await runner.run(
    { runId, fileName: 'hello.lua', files: {}, env: {}, timeoutMs: 10_000, memoryLimitBytes: 64 << 20, ...job },
    (e) => events.push(e),
    signal,
  );
  const logs = events.flatMap((e) => (e.type === 'log' ? [`${e.level}: ${e.message}`] : []));
  return { runId, completion, events, logs, ms: Date.now() - started };
}

/**
 * Runs `job.script` on an engine of `lua` in this thread, as a worker runs it (so
 * test-only resolvers and clocks of this thread apply), with the same defaults.
 */
export async function runInThisThread(lua: LuaWasm, job: Partial<ScriptJob> & { script: string }): Promise<{ completion: RunCompletion; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  const ctx = new RunContext(
    { runId: `in-thread-${++runs}`, fileName: 'hello.lua', files: {}, env: {}, timeoutMs: 10_000, memoryLimitBytes: 64 << 20, ...job },
    (batch) => events.push(...batch),
  );
  const engine = new PreparedEngine(lua);
  try {
    await engine.run(ctx);
  } finally {
    ctx.freezeStop();
    engine.close();
  }
  return { completion: ctx.complete(), events };
}

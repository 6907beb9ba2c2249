/**
 * Worker-thread entry of the Lua pool. One Lua wasm module per worker (`loadLuaWasm`:
 * shared callback slots, the counting allocator); each run gets a fresh engine,
 * prepared ahead of time while the worker is idle. Many runs share a worker: they
 * interleave whenever a script waits (sleep, net).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LuaWasm } from 'wasmoon';
import type { RunEvent } from '../core/run-events.js';
import { PreparedEngine } from './lua-engine.js';
import { loadLuaWasm } from './lua-wasm.js';
import { ALIVE_INTERVAL_MS, type FromWorker, type ToWorker, type WorkerSetup } from './protocol.js';
import { RunContext } from './run-context.js';

if (!parentPort) throw new Error('lua-worker must run in a worker thread (started by createLuaRunner)');
const port = parentPort;

const send = (msg: FromWorker) => port.postMessage(msg);
/** The pool's cancel flags for this worker's runs (see WorkerSetup). */
const cancelCells = new Int32Array((workerData as WorkerSetup).cancelFlags);
const running = new Map<number, RunContext>();
let spare: PreparedEngine | null = null;
let spareScheduled = false;

const lua: LuaWasm = await loadLuaWasm();

/** Prepares the next engine once the event loop is idle. */
function scheduleSpare(): void {
  if (spare || spareScheduled) return;
  spareScheduled = true;
  setImmediate(() => {
    spareScheduled = false;
    if (!spare) spare = new PreparedEngine(lua);
  });
}

function takeEngine(): PreparedEngine {
  const engine = spare ?? new PreparedEngine(lua);
  spare = null;
  scheduleSpare();
  return engine;
}

async function execute(key: number, msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  // The events still buffered when the run ends go with its `done` (one message, not two).
  let last: RunEvent[] | null = null;
  const ctx = new RunContext(
    msg.job,
    (events: RunEvent[]) => (last ? last.push(...events) : send({ type: 'events', key, events })),
    (id, op, args) => send({ type: 'sut', key, id, op, args }),
    msg.cancelSlot >= 0 ? { cells: cancelCells, index: msg.cancelSlot } : null,
  );
  running.set(key, ctx);
  let engine: PreparedEngine | null = null;
  try {
    engine = takeEngine();
    await engine.run(ctx);
  } catch (err) {
    ctx.uncaught(`topas: the Lua runtime failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    running.delete(key);
    ctx.freezeStop();
    try {
      engine?.close();
    } catch {
      // the engine is gone either way; its memory returns to the wasm allocator
    }
  }
  last = [];
  const completion = ctx.complete(engine?.profile());
  send(last.length ? { type: 'done', key, completion, events: last } : { type: 'done', key, completion });
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'run') void execute(msg.key, msg);
  else if (msg.type === 'cancel') running.get(msg.key)?.stop('cancel');
  else if (msg.type === 'sut-reply') running.get(msg.key)?.sutReply(msg);
});

spare = new PreparedEngine(lua);
send({ type: 'ready' });
// While a script holds the thread (a long C call no hook can interrupt), this stops,
// and the pool sends new runs elsewhere.
setInterval(() => send({ type: 'alive' }), ALIVE_INTERVAL_MS);

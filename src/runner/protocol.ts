/**
 * The messages the Lua worker pool and its worker threads exchange. `key` names one
 * run inside the pool (run ids are not trusted to be unique across concurrent jobs).
 */
import type { RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import type { AppEndpoints, SutOperation } from '../core/sut.js';
import type { ScriptJob } from './runner.js';

/** Pool → worker. */
export type ToWorker =
  /**
   * Start a run in a fresh Lua engine. `cancelSlot` is the run's cell in the worker's
   * cancel flags (WorkerSetup.cancelFlags), or -1 when it has none.
   */
  | { type: 'run'; key: number; job: ScriptJob; cancelSlot: number }
  /** Stop a run (the script sees it at its next instruction, sleep or fetch). */
  | { type: 'cancel'; key: number }
  /** The answer to a run's `sut` call. */
  | { type: 'sut-reply'; key: number; id: number; ok: true; value: unknown; endpoints?: AppEndpoints }
  | { type: 'sut-reply'; key: number; id: number; ok: false; error: string };

/** Worker → pool. */
export type FromWorker =
  /** The worker loaded Lua and accepts runs. */
  | { type: 'ready' }
  /** Sent every ALIVE_INTERVAL_MS while the worker's event loop turns: a silent worker is stuck in a script. */
  | { type: 'alive' }
  /** Events of one run, in the order the script produced them. */
  | { type: 'events'; key: number; events: RunEvent[] }
  /** A run calls `sut.<op>(...)`; answered by a `sut-reply` with the same id. */
  | { type: 'sut'; key: number; id: number; op: SutOperation; args: unknown[] }
  /** The run ended, with its last events (those not sent yet); no more messages for this key follow. */
  | { type: 'done'; key: number; completion: RunCompletion; events?: RunEvent[] };

/**
 * What a worker starts with (`workerData`). `cancelFlags` is shared with the pool: the
 * pool sets a run's cell to 1 to cancel it, and the worker reads it at every VM
 * checkpoint, so a script busy in Lua stops without the worker's event loop (which it
 * holds) ever seeing the `cancel` message.
 */
export interface WorkerSetup {
  cancelFlags: SharedArrayBuffer;
}

/** How often a worker says it is alive. */
export const ALIVE_INTERVAL_MS = 100;

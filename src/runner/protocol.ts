/**
 * The messages the Lua worker pool and its worker threads exchange. `key` names one
 * run inside the pool (run ids are not trusted to be unique across concurrent jobs).
 */
import type { RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import type { ScriptJob } from './runner.js';

/** Pool → worker. */
export type ToWorker =
  /** Start a run in a fresh Lua engine. */
  | { type: 'run'; key: number; job: ScriptJob }
  /** Stop a run (the script sees it at its next instruction, sleep or fetch). */
  | { type: 'cancel'; key: number };

/** Worker → pool. */
export type FromWorker =
  /** The worker loaded Lua and accepts runs. */
  | { type: 'ready' }
  /** Events of one run, in the order the script produced them. */
  | { type: 'events'; key: number; events: RunEvent[] }
  /** The run ended; no more messages for this key follow. */
  | { type: 'done'; key: number; completion: RunCompletion };

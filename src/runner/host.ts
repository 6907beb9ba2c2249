/**
 * The JS functions the Lua prelude calls (`host.*`). They act on whichever run the
 * engine currently hosts (`holder.ctx`); an engine hosts one run in its life.
 */
import type { LogLevel, StepKind } from '../core/run-events.js';
import { createDbHost } from './host-db.js';
import { createPostmanHost } from './host-postman.js';
import { decodeJson } from './json-host.js';
import { netHost } from './host-net.js';
import { netRequest, type NetRequest } from './net-http.js';
import type { RunContext } from './run-context.js';
import { createTestingHost } from './testing-host.js';
import { SUT_OPERATIONS, type SutOperation } from '../core/sut.js';

export interface ContextHolder {
  ctx: RunContext | null;
}

export function createHost(holder: ContextHolder) {
  const ctx = (): RunContext => {
    if (!holder.ctx) throw new Error('topas: no run is active in this Lua engine');
    return holder.ctx;
  };
  return {
    log: (level: LogLevel, message: string) => ctx().log(level, message),
    step_start: (kind: StepKind, name: string, line: number | null) => ctx().stepStart(kind, name, line ?? null),
    step_end: (seq: number, status: 'passed' | 'failed', message: string | null, line: number | null) =>
      ctx().stepEnd(seq, status, message ?? null, line ?? null),
    assertion: (passed: boolean, message: string, line: number | null, failure: string | null) =>
      ctx().assertion(passed, message, line ?? null, failure ?? null),
    uncaught: (message: string) => ctx().uncaught(message),
    script_invalid: (message: string) => ctx().scriptInvalid(message),
    finish: (unrecordedPassed: number) => ctx().countPassedAssertions(unrecordedPassed),
    json_decode: (text: string) => decodeJson(text),
    sleep: (ms: number) => sleep(ctx(), ms),
    net_request: (req: NetRequest) => netRequest(ctx(), req),
    /** `sut.<op>(...)`: args and value as JSON text. */
    sut_call: (op: SutOperation, args: string) => sutCall(ctx(), op, args),
    ...netHost(ctx),
    ...createTestingHost(holder),
    ...createDbHost(ctx),
    ...createPostmanHost(ctx),
  };
}

function sleep(ctx: RunContext, ms: number): Promise<'ok' | 'stopped'> {
  const signal = ctx.abort.signal;
  if (signal.aborted) return Promise.resolve('stopped');
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve('stopped');
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve('ok');
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function sutCall(ctx: RunContext, op: SutOperation, args: string): Promise<{ ok: boolean; value?: string; error?: string; stopped?: boolean }> {
  if (!SUT_OPERATIONS.includes(op)) return { ok: false, error: `unknown operation ${op}` };
  try {
    const value = await ctx.sutCall(op, JSON.parse(args) as unknown[]);
    return { ok: true, value: JSON.stringify(value ?? null) };
  } catch (error) {
    if (ctx.stopReason) return { ok: false, stopped: true };
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

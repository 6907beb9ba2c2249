/**
 * The runner protocol: what a remote runner (`topas runner`, the runner Pod's main
 * container) and the server say to each other over HTTP, under
 * `/api/runs/{id}/runner/…`, authenticated with the run's per-run token. One schema
 * per message, shared by the server's routes (validation, OpenAPI) and the runner.
 *
 * - `GET  …/runner/execution` → ExecutionInfo: env, timeout, App (endpoints, read-only), cadence;
 *   with `?include=bundle` the Bundle too (a runner without a mounted source: one call, not two).
 * - `GET  …/runner/bundle`    → Bundle: the script and its folder's files (when no mounted source holds them).
 * - `POST …/runner/events`    ← EventsBatch → Ack: numbered events, stored once per (run, seq); ack = stored.
 * - `POST …/runner/heartbeat` ← Heartbeat → HeartbeatReply: the runner is alive; `cancelled` says stop.
 * - `POST …/runner/sut`       ← SutCall → SutReply: a `sut.*` call of the script, performed by the server.
 * - `POST …/runner/completion`← Completion → Ack: how the run ended (idempotent), with the
 *   events not sent yet (stored first, as `events` would store them): a short run makes
 *   two calls in all.
 */
import { z } from 'zod';
import { RUN_REASONS } from '../run.js';
import { SUT_OPERATIONS } from '../sut.js';
import { FilesSchema } from './files.js';
import { RunProfileSchema } from './run-completion.js';

const seq = z.number().int().min(1).max(2_000_000_000);
const ts = z.number().int().min(0).max(8_640_000_000_000).meta({ description: 'Epoch milliseconds.' });
const location = z.object({ file: z.string().max(1024), line: z.number().int().min(0).max(10_000_000) }).nullable();

/** One numbered event, as the runner sends it (see core `NumberedRunEvent`). */
export const RunnerEventSchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('log'),
      seq,
      ts,
      level: z.enum(['debug', 'info', 'warn', 'error']),
      message: z.string().max(1_048_576),
      stepSeq: seq.nullable(),
    }),
    z.object({
      type: z.literal('step.start'),
      seq,
      ts,
      parentSeq: seq.nullable(),
      kind: z.enum(['test', 'step', 'hook']),
      name: z.string().max(4096),
      location,
    }),
    z.object({
      type: z.literal('step.end'),
      seq,
      ts,
      status: z.enum(['passed', 'failed', 'skipped']),
      message: z.string().max(65_536).nullable(),
      location,
    }),
    z.object({
      type: z.literal('assertion'),
      seq,
      ts,
      stepSeq: seq.nullable(),
      passed: z.boolean(),
      message: z.string().max(65_536),
      expected: z.string().max(65_536).optional(),
      actual: z.string().max(65_536).optional(),
      location,
    }),
  ])
  .meta({ id: 'RunnerEvent', description: 'One event of the run, numbered by the runner: `seq` of a log line or assertion is its number within the run; of a step event, the step\'s.' });

/** Events per batch. */
export const MAX_EVENTS_PER_BATCH = 1000;

export const EventsBatchSchema = z
  .object({ events: z.array(RunnerEventSchema).max(MAX_EVENTS_PER_BATCH) })
  .meta({ id: 'RunnerEventsBatch', description: `Up to ${MAX_EVENTS_PER_BATCH} events in the order the script produced them. A batch sent again (a retry, a replay after a restart) is stored once.` });

export const AckSchema = z.object({ ok: z.literal(true) }).meta({ id: 'RunnerAck', description: 'Stored.' });

export const HeartbeatSchema = z
  .object({
    lastLogSeq: z.number().int().min(0).optional().meta({ description: 'The newest log line number the runner has produced (for diagnostics).' }),
  })
  .meta({ id: 'RunnerHeartbeat' });

export const HeartbeatReplySchema = z
  .object({ cancelled: z.boolean().meta({ description: 'The run was cancelled: stop the script and report the completion `Cancelled`.' }) })
  .meta({ id: 'RunnerHeartbeatReply' });

const endpoint = z.object({ host: z.string(), port: z.number().int() });
const nameEndpoints = z.object({
  main: endpoint.nullable(),
  ports: z.record(z.string(), endpoint),
  credentials: z.object({ user: z.string(), password: z.string(), dbname: z.string() }).optional(),
});

export const BundleSchema = z
  .object({ script: z.string(), fileName: z.string(), files: FilesSchema })
  .meta({ id: 'RunnerBundle', description: 'The script and the other files of its folder.' });

export const ExecutionQuerySchema = z.object({
  include: z.enum(['bundle']).optional().meta({ description: '`bundle`: answer with the script and its files too (`bundle`), for a runner without a mounted source.' }),
});

export const ExecutionInfoSchema = z
  .object({
    runId: z.string(),
    name: z.string(),
    fileName: z.string().meta({ description: 'The script\'s file name, for error locations (`hello.lua:12`).' }),
    env: z.record(z.string(), z.string()),
    timeoutMs: z.number().int().min(1).meta({ description: 'Time left for the run, from now.' }),
    app: z
      .object({ name: z.string(), readOnly: z.boolean(), endpoints: z.record(z.string(), nameEndpoints) })
      .nullable()
      .meta({ description: 'The App the run targets: its service names resolve to these endpoints; `sut` calls go to `…/runner/sut`.' }),
    note: z.string().nullable().meta({ description: 'A line for the run\'s log (e.g. how long it waited for its App); the runner logs it as its first line.' }),
    heartbeatMs: z.number().int().min(10).meta({ description: 'How often to send a heartbeat (cancellation is seen within this).' }),
    flushMs: z.number().int().min(1).meta({ description: 'Longest time an event waits in the runner before it is sent.' }),
    bundleBytes: z.number().int().min(0).meta({ description: 'Size of the script and its files on the server (`…/runner/bundle`).' }),
    bundle: BundleSchema.optional().meta({ description: 'The script and its files, when asked for with `?include=bundle`.' }),
    completionTakesEvents: z.boolean().optional().meta({
      description: 'This server stores `events` sent with the completion. Absent (servers before it): send every event as batches first, then the completion alone.',
    }),
  })
  .meta({ id: 'RunnerExecutionInfo' });

export const SutCallSchema = z
  .object({ op: z.enum(SUT_OPERATIONS), args: z.array(z.unknown()).max(16) })
  .meta({ id: 'RunnerSutCall', description: 'A `sut.<op>(args…)` call of the script.' });

export const SutReplySchema = z
  .object({
    value: z.unknown(),
    endpoints: z.record(z.string(), nameEndpoints).optional(),
    error: z.string().optional().meta({ description: 'The call failed: the script sees this message as the error.' }),
  })
  .meta({ id: 'RunnerSutReply', description: 'The call\'s value, and the App\'s endpoints when they may have changed; or `error`.' });

export const CompletionSchema = z
  .object({
    phase: z.enum(['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled']),
    reason: z.enum(RUN_REASONS).nullable(),
    message: z.string().max(65_536).nullable(),
    summary: z.object({
      stepsPassed: z.number().int().min(0),
      stepsFailed: z.number().int().min(0),
      stepsSkipped: z.number().int().min(0),
      assertionsPassed: z.number().int().min(0),
      assertionsFailed: z.number().int().min(0),
    }),
    profile: RunProfileSchema.optional().meta({
      description: "What the run used: the runner container's CPU time and peak memory from its cgroup when present, else the Lua state's. Optional: runners before it send none.",
    }),
    events: z.array(RunnerEventSchema).max(MAX_EVENTS_PER_BATCH).optional().meta({
      description: 'The events not sent yet, stored before the completion is taken (as `…/runner/events` stores them: a repeat is stored once).',
    }),
  })
  .meta({ id: 'RunnerCompletion', description: 'How the run ended, with the last events if any. Sent once every other event was acknowledged; sending it again is harmless.' });

export type ExecutionInfo = z.infer<typeof ExecutionInfoSchema>;
export type Bundle = z.infer<typeof BundleSchema>;
export type HeartbeatReply = z.infer<typeof HeartbeatReplySchema>;

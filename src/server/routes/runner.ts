/**
 * The runner protocol's routes (`core/schemas/runner-protocol.ts`): what a remote
 * runner (`topas runner`, a runner Pod) calls, with its run's per-run token, under
 * `/api/runs/{id}/runner/…`. They hand everything to the `RunnerHub` the detached
 * executor follows the run through; a run nobody follows here answers 409
 * `RunNotAttached` (the runner keeps its events and tries again).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { NumberedRunEvent } from '../../core/run-events.js';
import {
  AckSchema,
  BundleSchema,
  CompletionSchema,
  EventsBatchSchema,
  ExecutionInfoSchema,
  ExecutionQuerySchema,
  HeartbeatReplySchema,
  HeartbeatSchema,
  SutCallSchema,
  SutReplySchema,
} from '../../core/schemas/runner-protocol.js';
import { RunNotAttachedError, RunTakenError, type RunnerHub } from '../../executors/runner-hub.js';
import type { ServerDeps } from '../deps.js';
import { RunIdParam } from '../schemas.js';
import { access } from '../security/route-security.js';
import { badRequest, conflict } from './responses.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } }) as const;
const notAttached = {
  ...conflict,
  description:
    'No executor of this server follows the run right now (`RunNotAttached`; the server closes the connection, so the next attempt may reach another instance behind a Service): keep the data and try again with backoff. Or another runner (another `x-topas-runner` id) already executes the run (`RunTaken`): stop, for good.',
};

const responses = <T>(ok: T) => ({ 200: { description: 'OK.', content: json(ok) }, 400: badRequest, 409: notAttached });
const base = (path: string) => ({ path: `/api/runs/{id}/runner/${path}`, tags: ['runner'] });

const execution = createRoute(
  access('run', {
    method: 'get',
    ...base('execution'),
    summary: 'What the runner needs to execute the run',
    description:
      "Env, the time left, the run's App (endpoints; waits for it to be ready, at most 60 s), the heartbeat and flush cadence, and the size of the server's copy of the script and its files; with `include=bundle`, that copy too.",
    request: { params: RunIdParam, query: ExecutionQuerySchema },
    responses: responses(ExecutionInfoSchema),
  }),
);
const bundle = createRoute(
  access('run', {
    method: 'get',
    ...base('bundle'),
    summary: 'The script and its files',
    description: 'For a runner whose mounted source cannot hold them (a ConfigMap holds at most 1 MiB).',
    request: { params: RunIdParam },
    responses: responses(BundleSchema),
  }),
);
const events = createRoute(
  access('run', {
    method: 'post',
    ...base('events'),
    summary: 'Store numbered events',
    description: 'Answers once the events are stored. Events are keyed by (run, seq): a batch sent again is stored once.',
    request: { params: RunIdParam, body: { required: true, content: json(EventsBatchSchema) } },
    responses: responses(AckSchema),
  }),
);
const heartbeat = createRoute(
  access('run', {
    method: 'post',
    ...base('heartbeat'),
    summary: 'The runner is alive',
    description: 'Answers whether the run was cancelled (then the runner stops the script and reports `Cancelled`).',
    request: { params: RunIdParam, body: { required: true, content: json(HeartbeatSchema) } },
    responses: responses(HeartbeatReplySchema),
  }),
);
const sut = createRoute(
  access('run', {
    method: 'post',
    ...base('sut'),
    summary: 'A `sut` call of the script',
    description: "Performed by the server on the run's App. A failure the script should see is answered 200 with `error`.",
    request: { params: RunIdParam, body: { required: true, content: json(SutCallSchema) } },
    responses: responses(SutReplySchema),
  }),
);
const completion = createRoute(
  access('run', {
    method: 'post',
    ...base('completion'),
    summary: 'How the run ended',
    description: 'Send once every event was acknowledged, or with the events not sent yet in `events` (answered once they are stored; the run\'s end is stored with them or after them, never before). Sending it again is harmless.',
    request: { params: RunIdParam, body: { required: true, content: json(CompletionSchema) } },
    responses: responses(AckSchema),
  }),
);

export function registerRunnerRoutes(app: OpenAPIHono, deps: Pick<ServerDeps, 'runners'>): void {
  const hubOf = (runId: string): RunnerHub => {
    if (!deps.runners) throw new RunNotAttachedError(runId);
    return deps.runners;
  };
  const idOf = (id: string) => id.toLowerCase();
  /** The calling runner's identity (`x-topas-runner`): a run is executed by the first runner that calls for it. */
  const runnerOf = (c: { req: { header(name: string): string | undefined } }) => c.req.header('x-topas-runner')?.slice(0, 200) || undefined;

  app.openapi(execution, async (c) => {
    const id = idOf(c.req.valid('param').id);
    const withBundle = c.req.valid('query').include === 'bundle';
    return c.json(await hubOf(id).execution(id, runnerOf(c), withBundle), 200);
  });
  app.openapi(bundle, async (c) => {
    const id = idOf(c.req.valid('param').id);
    return c.json(hubOf(id).bundle(id, runnerOf(c)), 200);
  });
  app.openapi(events, async (c) => {
    const id = idOf(c.req.valid('param').id);
    await hubOf(id).events(id, c.req.valid('json').events as NumberedRunEvent[], runnerOf(c));
    return c.json({ ok: true as const }, 200);
  });
  app.openapi(heartbeat, async (c) => {
    const id = idOf(c.req.valid('param').id);
    return c.json(hubOf(id).heartbeat(id, runnerOf(c)), 200);
  });
  app.openapi(sut, async (c) => {
    const id = idOf(c.req.valid('param').id);
    const call = c.req.valid('json');
    const hub = hubOf(id);
    try {
      const reply = await hub.sut(id, call.op, call.args, runnerOf(c));
      return c.json({ value: reply.value ?? null, ...(reply.endpoints ? { endpoints: reply.endpoints } : {}) }, 200);
    } catch (error) {
      // Only "not followed here" is the runner's problem; anything else is the script's error, as locally.
      if (error instanceof RunNotAttachedError || error instanceof RunTakenError) throw error;
      return c.json({ value: null, error: error instanceof Error ? error.message : String(error) }, 200);
    }
  });
  app.openapi(completion, async (c) => {
    const id = idOf(c.req.valid('param').id);
    // The executor resolves the run with it; the engine stores the end right after. Should
    // this server die in between, the re-attached executor reads the runner's last-resort
    // result (the Pod's termination message), so nothing is lost.
    const { events: last, ...ended } = c.req.valid('json');
    await hubOf(id).complete(id, ended, runnerOf(c), (last ?? []) as NumberedRunEvent[]);
    return c.json({ ok: true as const }, 200);
  });
}

/** A run's log: pages of JSON, or a live Server-Sent Events stream. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { ValidationError } from '../../core/errors.js';
import type { ServerDeps } from '../deps.js';
import { streamRun } from '../run-stream.js';
import { LogPageSchema, LogsQuery, RunIdParam } from '../schemas.js';
import { badRequest, notFound } from './responses.js';
import { requireRun } from './runs.js';
import { access } from '../security/route-security.js';
import { describeDays } from '../../core/retention.js';

const SSE_DESCRIPTION = [
  'With `follow=true` or `Accept: text/event-stream`: Server-Sent Events.',
  '`event: log` — data is a LogLine, `id` its seq (reconnect with `Last-Event-ID` to resume);',
  '`event: step` — a Step each time one starts or ends;',
  '`event: sync` — the log lines and steps sent before it are all that was stored when it was sent: every step a line belongs to or that ended before it is among them (a client may order them now);',
  '`event: phase` — the Run each time its phase changes;',
  '`event: end` — the Run once it is terminal; the stream then closes.',
  'Comments (`: heartbeat`) keep idle connections open.',
].join(' ');

const getLogs = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/runs/{id}/logs',
    tags: ['runs'],
    summary: 'Read or follow a run log',
    description: `Log lines with \`seq\` greater than \`after\`, oldest first. ${SSE_DESCRIPTION}`,
    request: { params: RunIdParam, query: LogsQuery },
    responses: {
      200: {
        description: 'A page of log lines, or the event stream.',
        content: {
          'application/json': { schema: LogPageSchema },
          'text/event-stream': { schema: { type: 'string', description: SSE_DESCRIPTION } },
        },
      },
      400: badRequest,
      404: notFound,
    },
  }),
);

/** Why a run has no log lines, for the person opening it. */
export function logsExpiredNotice(expiredAt: string, logDays: number | null): string {
  const kept = logDays === null ? '' : ` (log lines are kept ${describeDays(logDays)} after a run finishes: TOPAS_LOG_RETENTION_DAYS)`;
  return `The log lines of this run were deleted on ${expiredAt.slice(0, 10)} by log retention${kept}. Its steps, assertions and results are kept.`;
}

/** `Last-Event-ID` as a seq, when the query has no `after`. */
function lastEventId(header: string | undefined): number | undefined {
  if (header === undefined || header === '') return undefined;
  const n = Number(header);
  if (!Number.isInteger(n) || n < 0) throw new ValidationError([{ field: 'Last-Event-ID', message: `must be a log seq (an integer ≥ 0), got ${JSON.stringify(header)}` }]);
  return n;
}

export function registerRunLogRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  app.openapi(getLogs, async (c) => {
    const run = await requireRun(deps, c.req.valid('param').id);
    const q = c.req.valid('query');
    const wantsStream = q.follow || (c.req.header('accept') ?? '').includes('text/event-stream');
    if (wantsStream) {
      const after = q.after ?? lastEventId(c.req.header('last-event-id')) ?? 0;
      return streamRun(c, deps, run, after);
    }
    const after = q.after ?? 0;
    const items = await deps.store.getLogs(run.id, after, q.limit);
    const notice = run.logsExpiredAt ? logsExpiredNotice(run.logsExpiredAt, deps.config.retention?.logDays ?? null) : null;
    return c.json({ items, nextSeq: items.length ? items[items.length - 1]!.seq : after, logsExpiredAt: run.logsExpiredAt, notice }, 200);
  });
}

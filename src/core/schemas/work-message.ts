/**
 * The work-queue message of the `nats` executor: what a `topas worker` needs to execute
 * one claimed run as a remote runner. The same as a runner Pod gets (its run id, the
 * server's URL, the run's per-run token), and no more: the script, env and App come over
 * the runner protocol, authenticated with that token, which works only while the run is
 * Queued or Running.
 */
import { z } from 'zod';

export const WorkMessageSchema = z.object({
  /** Format version: a worker refuses (terminates) messages of a version it does not know. */
  v: z.literal(1),
  runId: z.string().min(1).max(200),
  /** The topas server's base URL as workers reach it. */
  server: z.string().url().max(2048),
  /** The run's per-run token (`topas_run_…`). */
  token: z.string().min(1).max(512),
  /** Epoch ms after which the run has timed out on the server: a worker that gets the message later drops it. */
  deadline: z.number().int().min(0),
});

export type WorkMessage = z.infer<typeof WorkMessageSchema>;

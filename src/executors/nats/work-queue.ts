/**
 * The JetStream work queue between a topas server (`--nats`) and its workers
 * (`topas worker --nats`): one stream with work-queue retention, one subject per run
 * (`<subject>.<runId>`), and one durable pull consumer that every worker shares, so each
 * message goes to one worker at a time. A message is acknowledged when its run has
 * started (the server handed the run to the worker's runner); one whose worker dies
 * before that is redelivered after the consumer's ack wait.
 *
 * Server and workers both create the stream (and workers the consumer) when missing;
 * what exists is used as it is.
 */
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { TopasError } from '../../core/errors.js';

/** Where runs are queued. */
export interface WorkQueueNames {
  /** The JetStream stream. Default `TOPAS_RUNS`. */
  stream: string;
  /** The subject prefix: a run's message goes to `<subject>.<runId>`. Default `topas.runs`. */
  subject: string;
}

export const DEFAULT_WORK_QUEUE: WorkQueueNames = { stream: 'TOPAS_RUNS', subject: 'topas.runs' };

/** The durable consumer every worker pulls from. */
export const WORKER_CONSUMER = 'topas-workers';

/** The subject of one run's message. */
export function runSubject(names: WorkQueueNames, runId: string): string {
  return `${names.subject}.${runId}`;
}

/** NATS did not answer, or JetStream is not enabled there. */
export class NatsUnavailableError extends TopasError {
  constructor(url: string, cause: string) {
    super('NatsUnavailable', `cannot use NATS JetStream at ${url}: ${cause} (start nats-server with -js, or check --nats)`, { url });
  }
}

/** Connects to NATS (`nats://host:port` or `tls://host:port`, credentials in the URL as `nats://user:pass@host`), failing with NatsUnavailableError. */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new NatsUnavailableError(url, 'not a URL');
  }
  const auth = parsed.username ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : {};
  const server = `nats://${parsed.host}`;
  // TLS is used whenever the server offers it; `tls://` insists on it.
  const tls = parsed.protocol === 'tls:' ? { tls: {} } : {};
  try {
    return await connect({ servers: server, name, ...auth, ...tls, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  } catch (error) {
    throw new NatsUnavailableError(server, error instanceof Error ? error.message : String(error));
  }
}

/** The JetStream manager, and the stream, created when missing. */
export async function ensureStream(nc: NatsConnection, names: WorkQueueNames): Promise<JetStreamManager> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (error) {
    throw new NatsUnavailableError(nc.getServer(), `JetStream is not enabled: ${error instanceof Error ? error.message : String(error)}`);
  }
  const existing = await jsm.streams.info(names.stream).catch(() => null);
  if (!existing) {
    try {
      await jsm.streams.add({
        name: names.stream,
        subjects: [`${names.subject}.>`],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        // a publish repeated within this window (same run id) is stored once
        duplicate_window: nanos(120_000),
      });
    } catch (error) {
      // created by another process meanwhile
      if (!(await jsm.streams.info(names.stream).catch(() => null))) throw error;
    }
  }
  return jsm;
}

export interface ConsumerSettings {
  /** How long a delivered message may stay unacknowledged before it goes to another worker. */
  ackWaitMs: number;
}

/** The workers' durable pull consumer, created when missing (an existing one keeps its settings). */
export async function ensureConsumer(jsm: JetStreamManager, names: WorkQueueNames, settings: ConsumerSettings): Promise<void> {
  const existing = await jsm.consumers.info(names.stream, WORKER_CONSUMER).catch(() => null);
  if (existing) return;
  try {
    await jsm.consumers.add(names.stream, {
      durable_name: WORKER_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(settings.ackWaitMs),
      filter_subject: `${names.subject}.>`,
      max_ack_pending: -1,
    });
  } catch (error) {
    if (!(await jsm.consumers.info(names.stream, WORKER_CONSUMER).catch(() => null))) throw error;
  }
}

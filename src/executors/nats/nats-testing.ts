/**
 * TEST-ONLY. Real NATS on this machine (`nats://127.0.0.1:4222`, or `TOPAS_TEST_NATS_URL`)
 * for the nats executor's tests: whether it answers (tests skip, saying so, when it does
 * not) and a fresh stream and subject per test, deleted afterwards.
 */
import { connect as netConnect } from 'node:net';
import { connectNats, runSubject, type WorkQueueNames } from './work-queue.js';
import { jetstreamManager } from '@nats-io/jetstream';

export const TEST_NATS_URL = process.env.TOPAS_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** True when something listens at the test NATS address. */
export function natsAnswers(url = TEST_NATS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = netConnect({ host: hostname, port: Number(port || 4222) });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** A stream and subject no other test uses. */
export function uniqueQueue(): WorkQueueNames {
  const id = crypto.randomUUID().replace(/-/g, '').slice(0, 12);
  return { stream: `TOPAS_TEST_${id}`, subject: `topastest.${id}` };
}

/** Deletes a test's stream (and its consumer). */
export async function deleteQueue(names: WorkQueueNames, url = TEST_NATS_URL): Promise<void> {
  const nc = await connectNats(url, 'topas-test-cleanup');
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(names.stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** Whether a message for the run waits in the queue. */
export async function queuedMessage(names: WorkQueueNames, runId: string, url = TEST_NATS_URL): Promise<boolean> {
  const nc = await connectNats(url, 'topas-test-inspect');
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.getMessage(names.stream, { last_by_subj: runSubject(names, runId) }).catch(() => null)) !== null;
  } finally {
    await nc.close();
  }
}

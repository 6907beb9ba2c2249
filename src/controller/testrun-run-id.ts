/**
 * The id of a TestRun's run, derived from the resource alone: the same TestRun always
 * names the same run, so recording it is idempotent by the store's primary key. A
 * reconcile retried after a crash between recording the run and writing `status.runId`
 * (or a second leader for a moment) finds the run made before instead of making a
 * second one. A lookup by `k8sRef.uid` would need a read-then-insert that two writers
 * can interleave; a key cannot.
 *
 * The id is a UUIDv7 like every other run id (`core/ids.ts`): its time is the TestRun's
 * `creationTimestamp`, so the queue's oldest-first order and pagination treat it as any
 * run made then; the other 74 bits come from SHA-256 of the uid.
 */
import { createHash } from 'node:crypto';
import { uuidV7 } from '../core/ids.js';

export function testRunRunId(uid: string, creationTimestamp: string | undefined): string {
  const ms = creationTimestamp ? Date.parse(creationTimestamp) : NaN;
  const now = Number.isNaN(ms) ? 0 : ms;
  return uuidV7(now, createHash('sha256').update(`topas.dev/testrun/${uid}`).digest());
}

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

export function testRunRunId(uid: string, creationTimestamp: string | undefined): string {
  const ms = creationTimestamp ? Date.parse(creationTimestamp) : NaN;
  const now = Number.isNaN(ms) ? 0 : ms;
  const bytes = createHash('sha256').update(`topas.dev/testrun/${uid}`).digest().subarray(0, 16);
  bytes[0] = Math.floor(now / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(now / 2 ** 32) & 0xff;
  bytes[2] = (now >>> 24) & 0xff;
  bytes[3] = (now >>> 16) & 0xff;
  bytes[4] = (now >>> 8) & 0xff;
  bytes[5] = now & 0xff;
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

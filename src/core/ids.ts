import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * Random bytes from the system's generator, drawn 4 KiB at a time: one call per 256
 * ids instead of one per id (that call was 2% of the server thread per submitted run).
 */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

/** 16 random bytes not handed out before. */
function randomBlock(): Buffer {
  if (poolAt + 16 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += 16;
  return pool.subarray(poolAt - 16, poolAt);
}

/**
 * A UUIDv7: time-ordered, and monotonic within this process (a 12-bit counter
 * orders ids made in the same millisecond), so ids double as the tie-breaker of
 * keyset pagination and of the queue's oldest-first order.
 */
export function newId(now: number = Date.now()): string {
  if (now <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      // 4096 ids in one millisecond: borrow the next millisecond.
      lastMs++;
      counter = 0;
    }
    now = lastMs;
  } else {
    lastMs = now;
    counter = 0;
  }
  const bytes = randomBlock();
  bytes[6] = 0x70 | (counter >>> 8);
  bytes[7] = counter & 0xff;
  return uuidV7(now, bytes);
}

/**
 * A UUIDv7 of `ms` (its first 48 bits) and 16 other bytes (`bytes[6]`'s low nibble,
 * `bytes[7]` and `bytes[8..15]` are kept; version and variant bits are set here).
 */
export function uuidV7(ms: number, bytes: Uint8Array): string {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

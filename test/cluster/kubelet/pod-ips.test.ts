import { describe, expect, it } from 'vitest';
import { PodIpPool, inPodCidr } from './pod-ips.js';

describe('Pod IPs', () => {
  it('gives each Pod its own address in 127.1.0.0/16, keeps it while held, and frees it on release', () => {
    const pool = new PodIpPool();
    const a = pool.allocate('a');
    const b = pool.allocate('b');
    expect(inPodCidr(a) && inPodCidr(b)).toBe(true);
    expect(a).not.toBe(b);
    expect(pool.allocate('a')).toBe(a);
    expect(pool.allocate('c', b)).not.toBe(b);
    pool.release('b');
    expect(pool.allocate('d', b)).toBe(b);
  });
});

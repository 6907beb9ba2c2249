import { describe, expect, it } from 'vitest';
import { allocateClusterIp, inServiceCidr, requestedClusterIpErrors } from './cluster-ips.js';

describe('Service cluster IPs', () => {
  it('allocates addresses in 127.2.0.0/16 that no Service holds', () => {
    const inUse = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const ip = allocateClusterIp(inUse);
      expect(inServiceCidr(ip)).toBe(true);
      expect(inUse.has(ip)).toBe(false);
      inUse.add(ip);
    }
  });

  it('refuses a requested address that is taken or outside the range', () => {
    expect(requestedClusterIpErrors('127.2.0.9', new Set(['127.2.0.9']))[0]?.detail).toContain('provided IP is already allocated');
    expect(requestedClusterIpErrors('10.96.0.1', new Set())[0]?.detail).toContain('not in the valid range');
    expect(requestedClusterIpErrors('None', new Set())).toEqual([]);
  });
});

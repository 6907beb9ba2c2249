import { describe, expect, it } from 'vitest';
import { newId } from './ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newId', () => {
  it('makes UUIDv7s that sort in the order they were made and never repeat, across many draws of random bytes', () => {
    const ids = Array.from({ length: 5000 }, () => newId());
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // The random tails differ (not one block handed out twice).
    expect(new Set(ids.map((id) => id.slice(19))).size).toBe(ids.length);
  });

  it('carries the time it was made in its first 48 bits', () => {
    const at = Date.UTC(2030, 0, 2, 3, 4, 5, 6);
    expect(parseInt(newId(at).replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });
});

import { describe, expect, it } from 'vitest';
import { iso } from './row-mapping.js';

describe('iso', () => {
  it('gives the same ISO time as a Date would, whatever form the database handed', () => {
    const forms = [
      '2026-12-01T22:10:03.123456+00:00',
      '2026-12-01T22:10:03.9999996+00:00',
      '2026-12-01T22:10:03+00:00',
      '2026-12-01T22:10:03.1+00:00',
      '2026-12-01T22:10:03.12Z',
      // Another time zone is parsed.
      '2026-12-01T23:10:03.5+01:00',
    ];
    for (const form of forms) expect({ form, iso: iso(form) }).toEqual({ form, iso: new Date(form).toISOString() });
    expect(iso(new Date(Date.UTC(2026, 11, 1, 22, 10, 3, 7)))).toBe('2026-12-01T22:10:03.007Z');
    expect(iso('2026-12-01T23:10:03.5+01:00')).toBe('2026-12-01T22:10:03.500Z');
  });
});

import { describe, expect, it } from 'vitest';
import { availableParallelism, totalmem } from 'node:os';
import { ValidationError } from '../core/errors.js';
import { DEFAULT_CONCURRENCY, defaultConcurrency, defaultReadConcurrency, loadConfig, type ConfigFlags } from './config.js';

/** The issues `loadConfig` reports, as `field: message`. */
function issues(flags: ConfigFlags, env: Record<string, string>): string[] {
  try {
    loadConfig(flags, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues.map((i) => `${i.field}: ${i.message}`);
  }
  throw new Error('expected a ValidationError');
}

describe('retention settings', () => {
  it('keep everything forever by default', () => {
    expect(loadConfig({}, {}).retention).toEqual({ days: null, logDays: null, overrides: [] });
  });

  it('read TOPAS_RETENTION_DAYS, TOPAS_RETENTION_OVERRIDES and TOPAS_LOG_RETENTION_DAYS', () => {
    const { retention } = loadConfig({}, { TOPAS_RETENTION_DAYS: '30', TOPAS_RETENTION_OVERRIDES: 'env=prod:90, ci.nightly=true:365,release=true:forever', TOPAS_LOG_RETENTION_DAYS: '7' });
    expect(retention).toEqual({
      days: 30,
      logDays: 7,
      overrides: [
        { label: 'env', value: 'prod', days: 90 },
        { label: 'ci.nightly', value: 'true', days: 365 },
        { label: 'release', value: 'true', days: null },
      ],
    });
  });

  it('take the flags of topas up over the environment', () => {
    const { retention } = loadConfig(
      { retentionDays: '14', retentionOverrides: ['app.kubernetes.io/part-of=shop:60'], logRetentionDays: '3' },
      { TOPAS_RETENTION_DAYS: '30', TOPAS_RETENTION_OVERRIDES: 'env=prod:90', TOPAS_LOG_RETENTION_DAYS: '7' },
    );
    expect(retention).toEqual({ days: 14, logDays: 3, overrides: [{ label: 'app.kubernetes.io/part-of', value: 'shop', days: 60 }] });
  });

  it('log retention alone keeps the runs forever and expires their logs', () => {
    expect(loadConfig({}, { TOPAS_LOG_RETENTION_DAYS: '14' }).retention).toEqual({ days: null, logDays: 14, overrides: [] });
  });

  it('refuse bad values with an error naming the variable or flag and saying what fits', () => {
    expect(issues({}, { TOPAS_RETENTION_DAYS: '30d' })).toEqual(['TOPAS_RETENTION_DAYS: must be a whole number of days from 1 to 36500, got "30d" (leave it unset to keep everything)']);
    expect(issues({}, { TOPAS_RETENTION_DAYS: '0' })[0]).toMatch(/^TOPAS_RETENTION_DAYS: must be a whole number of days from 1 to 36500, got "0"/);
    expect(issues({ retentionDays: '-1' }, {})[0]).toMatch(/^--retention-days: must be a whole number/);
    expect(issues({}, { TOPAS_LOG_RETENTION_DAYS: 'week' })[0]).toMatch(/^TOPAS_LOG_RETENTION_DAYS: must be a whole number/);
    expect(issues({}, { TOPAS_RETENTION_DAYS: '30', TOPAS_RETENTION_OVERRIDES: 'env=prod' })).toEqual([
      'TOPAS_RETENTION_OVERRIDES: "env=prod" is not label=value:days (e.g. env=prod:90, or release=true:forever to keep those runs)',
    ]);
    expect(issues({}, { TOPAS_RETENTION_DAYS: '30', TOPAS_RETENTION_OVERRIDES: 'env=prod:ninety' })).toEqual([
      'TOPAS_RETENTION_OVERRIDES: "env=prod:ninety": days must be an integer from 1 to 36500 or "forever", got "ninety"',
    ]);
    expect(issues({ retentionDays: '30', retentionOverrides: ['env=prod:90', 'env=prod:120'] }, {})).toEqual([
      '--retention: "env=prod:120": env=prod is already given ("env=prod:90"); give each label=value once',
    ]);
  });

  it('refuse settings that could never apply: overrides are for keeping longer, logs cannot outlive their runs', () => {
    expect(issues({}, { TOPAS_RETENTION_OVERRIDES: 'env=prod:90' })).toEqual([
      'TOPAS_RETENTION_OVERRIDES: keeps runs with these labels longer than TOPAS_RETENTION_DAYS, which is not set (every run is kept forever); set TOPAS_RETENTION_DAYS as well',
    ]);
    expect(issues({}, { TOPAS_RETENTION_DAYS: '30', TOPAS_RETENTION_OVERRIDES: 'env=dev:7' })).toEqual([
      'TOPAS_RETENTION_OVERRIDES: env=dev:7 keeps runs 7 days, not longer than TOPAS_RETENTION_DAYS (30); the longest retention applies, so it would change nothing — give more than 30 days, or "forever"',
    ]);
    expect(issues({}, { TOPAS_RETENTION_DAYS: '30', TOPAS_LOG_RETENTION_DAYS: '60' })).toEqual([
      'TOPAS_LOG_RETENTION_DAYS: 60 days is longer than TOPAS_RETENTION_DAYS (30); log lines are deleted with their runs, so give at most 30 days',
    ]);
  });
});

describe('concurrency', () => {
  const GiB = 1024 ** 3;

  it('defaults to 50 runs in flight when 50 runs at their memory cap fit in half the memory', () => {
    expect(defaultConcurrency(16 * GiB, 64)).toBe(DEFAULT_CONCURRENCY);
    expect(DEFAULT_CONCURRENCY).toBe(50);
  });

  it('is bounded by memory: runs × memory cap stays within half the machine', () => {
    expect(defaultConcurrency(2 * GiB, 64)).toBe(16);
    expect(defaultConcurrency(16 * GiB, 1024)).toBe(8);
    expect(defaultConcurrency(1 * GiB, 16_384)).toBe(1);
  });

  it('follows TOPAS_MEMORY_LIMIT_MB and yields to --concurrency / TOPAS_CONCURRENCY', () => {
    const total = totalmem();
    expect(loadConfig({}, { TOPAS_MEMORY_LIMIT_MB: '4096' }).concurrency).toBe(defaultConcurrency(total, 4096));
    expect(loadConfig({}, {}).concurrency).toBe(defaultConcurrency(total, 64));
    expect(loadConfig({ concurrency: 7 }, {}).concurrency).toBe(7);
    expect(loadConfig({}, { TOPAS_CONCURRENCY: '3' }).concurrency).toBe(3);
    expect(issues({}, { TOPAS_CONCURRENCY: '0' })).toEqual(['TOPAS_CONCURRENCY: must be an integer from 1 to 100000, got "0"']);
  });
});

describe('read concurrency', () => {
  it('lets 4 API reads use the embedded database at once and one per two cores use PostgreSQL, unless TOPAS_READ_CONCURRENCY says otherwise', () => {
    expect(loadConfig({}, {}).readConcurrency).toBe(4);
    expect(loadConfig({}, { DATABASE_URL: 'postgres://db/topas' }).readConcurrency).toBe(Math.max(1, Math.floor(availableParallelism() / 2)));
    expect([1, 2, 3, 8].map((cores) => defaultReadConcurrency(true, cores))).toEqual([1, 1, 1, 4]);
    expect(defaultReadConcurrency(false, 2)).toBe(4);
    expect(loadConfig({}, { DATABASE_URL: 'postgres://db/topas', TOPAS_READ_CONCURRENCY: '8' }).readConcurrency).toBe(8);
    expect(issues({}, { TOPAS_READ_CONCURRENCY: '0' })).toEqual(['TOPAS_READ_CONCURRENCY: must be an integer from 1 to 64, got "0"']);
  });
});

describe('statement cache', () => {
  it('keeps 256 statements prepared per PostgreSQL connection unless TOPAS_DATABASE_STATEMENT_CACHE says otherwise (0: none)', () => {
    expect(loadConfig({}, { DATABASE_URL: 'postgres://db/topas' }).databaseStatementCache).toBe(256);
    expect(loadConfig({}, { DATABASE_URL: 'postgres://db/topas', TOPAS_DATABASE_STATEMENT_CACHE: '0' }).databaseStatementCache).toBe(0);
    expect(issues({}, { TOPAS_DATABASE_STATEMENT_CACHE: 'lots' })).toEqual(['TOPAS_DATABASE_STATEMENT_CACHE: must be an integer from 0 to 10000, got "lots"']);
  });
});

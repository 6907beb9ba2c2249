import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { bucketStarts, defaultRange, resolveRange } from './insights.js';
import { maskSecrets, toRunListItem } from './run-view.js';
import { EMPTY_SUMMARY, type Run } from './run.js';

describe('trend ranges', () => {
  const now = new Date('2025-03-15T13:45:00.000Z');

  it('defaults to the last 14 whole UTC days, today included', () => {
    expect(defaultRange(now)).toEqual({ from: '2025-03-02T00:00:00.000Z', to: '2025-03-16T00:00:00.000Z' });
    expect(bucketStarts(defaultRange(now), 'day')).toHaveLength(14);
    expect(resolveRange({}, 'day', now)).toEqual(defaultRange(now));
    expect(resolveRange({ to: '2025-01-15T00:00:00.000Z' }, 'day', now)).toEqual({ from: '2025-01-01T00:00:00.000Z', to: '2025-01-15T00:00:00.000Z' });
  });

  it('starts buckets at `from`; the last one may be shorter', () => {
    expect(bucketStarts({ from: '2025-03-01T06:30:00.000Z', to: '2025-03-01T09:00:00.000Z' }, 'hour')).toEqual([
      '2025-03-01T06:30:00.000Z',
      '2025-03-01T07:30:00.000Z',
      '2025-03-01T08:30:00.000Z',
    ]);
  });

  it('rejects a reversed range and more than 400 buckets, naming the field', () => {
    const error = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        return (e as ValidationError).message;
      }
      throw new Error('no error');
    };
    expect(error(() => resolveRange({ from: '2025-03-02T00:00:00.000Z', to: '2025-03-01T00:00:00.000Z' }, 'day', now))).toBe(
      'from: must be before to (2025-03-01T00:00:00.000Z), got 2025-03-02T00:00:00.000Z',
    );
    expect(error(() => resolveRange({ from: '2025-01-01T00:00:00.000Z', to: '2025-01-18T00:00:00.000Z' }, 'hour', now))).toMatch(
      /^bucket: the range .* holds 408 hour buckets, at most 400 are allowed; use bucket=day or a shorter range$/,
    );
    // 400 buckets exactly are fine
    expect(resolveRange({ from: '2024-01-01T00:00:00.000Z', to: '2025-02-04T00:00:00.000Z' }, 'day', now).from).toBe('2024-01-01T00:00:00.000Z');
  });
});

describe('run views', () => {
  const run: Run = {
    id: 'r1',
    name: 'checkout',
    phase: 'Passed',
    origin: 'api',
    k8sRef: null,
    appName: null,
    appReadOnly: false,
    source: { type: 'definition', definitionId: 'd1', script: 'print(1)', fileName: 'checkout.lua', files: { 'lib/a.lua': 'return 1' } },
    env: { BASE_URL: 'http://x', DB_PASSWORD: 'hunter2', github_token: 'ab', apiKey: 'k', TOKENIZER: 'on' },
    timeoutSeconds: 60,
    labels: {},
    createdAt: '2025-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    summary: EMPTY_SUMMARY,
    reason: null,
    message: null,
    executor: null,
        category: null,
        categoryRule: null,
        profile: null,
        logsExpiredAt: null,
  };

  it('masks every secret-looking env value, short ones too, and leaves the run itself alone', () => {
    expect(maskSecrets(run).env).toEqual({ BASE_URL: 'http://x', DB_PASSWORD: '***', github_token: '***', apiKey: '***', TOKENIZER: '***' });
    expect(run.env.DB_PASSWORD).toBe('hunter2');
    const plain = { ...run, env: { BASE_URL: 'http://x' } };
    expect(maskSecrets(plain)).toBe(plain);
  });

  it('list items keep where the script came from, not the script and files', () => {
    const item = toRunListItem(run);
    expect(item.source).toEqual({ type: 'definition', definitionId: 'd1', fileName: 'checkout.lua' });
    expect(item.env.DB_PASSWORD).toBe('***');
    expect(toRunListItem({ ...run, source: { type: 'git', url: 'https://g/x.git', path: 't/a.lua', revision: 'main', script: 'x' } }).source).toEqual({
      type: 'git',
      url: 'https://g/x.git',
      path: 't/a.lua',
      revision: 'main',
    });
  });
});

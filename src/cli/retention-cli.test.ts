/**
 * Retention from the command line: `topas up` refuses a bad setting naming it, and
 * `topas test logs` of a run whose logs expired says why it prints no lines.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../core/run.js';
import { startTestTopas, type TestTopas } from '../server/testing/test-topas.js';
import { runTopasCli } from './testing/cli-process.js';
import { describeRetention } from './commands/up.js';

const DAY = 86_400_000;
let topas: TestTopas;
let dir: string;
/** The clock of the retention sweeper: moved forward to make runs old. */
let shift = 0;

beforeAll(async () => {
  [topas, dir] = await Promise.all([
    startTestTopas({ TOPAS_RETENTION_DAYS: '30', TOPAS_LOG_RETENTION_DAYS: '7' }, { retention: { firstAfterMs: 3_600_000, pauseMs: 0, now: () => new Date(Date.now() + shift) } }),
    mkdtemp(join(tmpdir(), 'topas-cli-')),
  ]);
});
afterAll(async () => {
  await topas?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('retention from the CLI', () => {
  it('topas test logs of a run whose logs expired prints why there are no lines', async () => {
    const res = await topas.post('/api/runs', { script: 'print("soon gone")' });
    const run = await topas.waitForEnd(((await res.json()) as Run).id);
    const before = await runTopasCli(['test', 'logs', run.id], { url: topas.url, cwd: dir, dataDir: topas.config.dataDir });
    expect(before.stdout).toMatch(/soon gone/);

    shift = 8 * DAY; // eight days later: past the log retention, well within the run retention
    expect(await topas.retention.sweep()).toMatchObject({ deletedRuns: 0, expiredLogRuns: 1 });

    const after = await runTopasCli(['test', 'logs', run.id], { url: topas.url, cwd: dir, dataDir: topas.config.dataDir });
    expect(after.code).toBe(0);
    expect(after.stdout).toBe('');
    expect(after.stderr).toMatch(/The log lines of this run were deleted on \d{4}-\d\d-\d\d by log retention \(log lines are kept 7 days after a run finishes: TOPAS_LOG_RETENTION_DAYS\)\. Its steps, assertions and results are kept\./);

    const followed = await runTopasCli(['test', 'logs', '-f', run.id], { url: topas.url, cwd: dir, dataDir: topas.config.dataDir });
    expect(followed.code).toBe(0);
    expect(followed.stdout).not.toMatch(/soon gone/);
    expect(followed.stderr).toMatch(/The log lines of this run were deleted on \d{4}-\d\d-\d\d by log retention \(TOPAS_LOG_RETENTION_DAYS\)/);

    shift = 31 * DAY;
    expect(await topas.retention.sweep()).toMatchObject({ deletedRuns: 1 });
    const gone = await runTopasCli(['test', 'logs', run.id], { url: topas.url, cwd: dir, dataDir: topas.config.dataDir });
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/not found/);
  });

  it('topas up refuses a bad retention setting, naming it, and starts nothing', async () => {
    const data = join(dir, 'never-started');
    const flag = await runTopasCli(['up', '--data', data, '--retention-days', '30d'], { url: topas.url, cwd: dir });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/invalid setting --retention-days: must be a whole number of days from 1 to 36500, got "30d"/);
    const env = await runTopasCli(['up', '--data', data], { url: topas.url, cwd: dir, env: { TOPAS_RETENTION_DAYS: '30', TOPAS_RETENTION_OVERRIDES: 'env=dev:7' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/invalid setting TOPAS_RETENTION_OVERRIDES: env=dev:7 keeps runs 7 days, not longer than TOPAS_RETENTION_DAYS \(30\)/);
    expect(existsSync(data)).toBe(false);
  });

  it('topas up says what it keeps when retention is on', () => {
    expect(describeRetention({ days: null, logDays: null, overrides: [] })).toBeNull();
    expect(
      describeRetention({
        days: 30,
        logDays: 7,
        overrides: [
          { label: 'env', value: 'prod', days: 90 },
          { label: 'release', value: 'true', days: null },
        ],
      }),
    ).toBe('runs 30 days (env=prod: 90 days, release=true: forever), logs 7 days');
    expect(describeRetention({ days: null, logDays: 1, overrides: [] })).toBe('runs forever, logs 1 day');
  });
});

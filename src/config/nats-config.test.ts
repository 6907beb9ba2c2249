/** `topas up --nats` and `topas worker`: settings read once, wrong ones named. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { loadConfig, loadWorkerConfig } from './config.js';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues.map((i) => `${i.field}: ${i.message}`);
  }
  throw new Error('expected a ValidationError');
}

describe('nats settings of topas up', () => {
  it('is off unless --nats or TOPAS_NATS_URL is given; defaults the stream and subject', () => {
    expect(loadConfig({}, {}).nats).toBeNull();
    expect(loadConfig({}, { TOPAS_NATS_URL: 'nats://127.0.0.1:4222' }).nats).toEqual({
      url: 'nats://127.0.0.1:4222',
      stream: 'TOPAS_RUNS',
      subject: 'topas.runs',
      serverUrl: null,
      lostAfterSeconds: 15,
    });
    expect(loadConfig({ nats: 'nats://n:4222', natsStream: 'RUNS_B', natsSubject: 'b.runs', runnerServerUrl: 'http://topas:4000/' }, {}).nats).toMatchObject({
      stream: 'RUNS_B',
      subject: 'b.runs',
      serverUrl: 'http://topas:4000',
    });
  });

  it('names what is wrong: the URL, the stream, the subject, and --nats with --kubernetes', () => {
    expect(issuesOf(() => loadConfig({ nats: 'http://127.0.0.1:4222' }, {}))).toEqual([expect.stringMatching(/^--nats: must be a NATS URL like nats:\/\/127\.0\.0\.1:4222/)]);
    expect(issuesOf(() => loadConfig({}, { TOPAS_NATS_URL: 'nats://n:4222', TOPAS_NATS_STREAM: 'a.b' }))).toEqual([expect.stringMatching(/^TOPAS_NATS_STREAM: must be a JetStream stream name/)]);
    expect(issuesOf(() => loadConfig({ nats: 'nats://n:4222', natsSubject: 'runs.>' }, {}))).toEqual([expect.stringMatching(/^--nats-subject: must be a NATS subject without wildcards/)]);
    expect(issuesOf(() => loadConfig({ nats: 'nats://n:4222', kubernetes: true }, {}))).toEqual([expect.stringMatching(/^--nats: runs execute either as runner Pods \(--kubernetes\) or on NATS workers \(--nats\)/)]);
  });
});

describe('topas worker settings', () => {
  it('needs --nats, and takes the rest from flags, then TOPAS_* variables', () => {
    expect(issuesOf(() => loadWorkerConfig({}, {}))).toEqual([expect.stringMatching(/^--nats: is required/)]);
    const config = loadWorkerConfig({ nats: 'nats://n:4222', concurrency: '8' }, { TOPAS_WORKERS: '2', TOPAS_NATS_ACK_WAIT_SECONDS: '5' });
    expect(config).toMatchObject({ nats: 'nats://n:4222', stream: 'TOPAS_RUNS', subject: 'topas.runs', concurrency: 8, luaWorkers: 2, ackWaitSeconds: 5, memoryLimitMb: 64 });
    expect(issuesOf(() => loadWorkerConfig({ nats: 'nats://n:4222', concurrency: '0' }, {}))).toEqual([expect.stringMatching(/^--concurrency: must be an integer from 1 to 10000/)]);
  });
});

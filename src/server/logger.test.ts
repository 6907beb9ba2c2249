import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { ValidationError } from '../core/errors.js';
import { createStreamLogger } from './logger.js';

const now = () => new Date('2026-11-30T10:00:00.000Z');

function capture(level: 'debug' | 'info' | 'warn' | 'error', format: 'json' | 'text') {
  const lines: string[] = [];
  const log = createStreamLogger({ level, format, now, stream: { write: (l) => lines.push(l) } });
  return { log, lines };
}

describe('the stream logger', () => {
  it('writes one JSON object per line with the fields, dropping levels below its own', () => {
    const { log, lines } = capture('warn', 'json');
    log('info', 'run finished', { runId: 'r1' });
    log('warn', 'writing the end of a run failed', { runId: 'r1', attempt: 2, error: new Error('connection refused') });
    expect(lines).toEqual([
      '{"time":"2026-11-30T10:00:00.000Z","level":"warn","msg":"writing the end of a run failed","runId":"r1","attempt":2,"error":"connection refused"}\n',
    ]);
  });

  it('writes a readable line: time, level, message, key=value (quoted when not one word)', () => {
    const { log, lines } = capture('debug', 'text');
    log('error', 'app reconcile failed', { app: 'shop', error: 'port 5432 in use' });
    expect(lines).toEqual(['2026-11-30T10:00:00.000Z ERROR app reconcile failed app=shop error="port 5432 in use"\n']);
  });

  it('is configured once: TOPAS_LOG_LEVEL and TOPAS_LOG_FORMAT, validated', () => {
    expect(loadConfig({}, {})).toMatchObject({ logLevel: 'info', logFormat: 'text' });
    expect(loadConfig({}, { TOPAS_LOG_LEVEL: 'debug', TOPAS_LOG_FORMAT: 'json' })).toMatchObject({ logLevel: 'debug', logFormat: 'json' });
    const error = (() => {
      try {
        loadConfig({}, { TOPAS_LOG_LEVEL: 'loud' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]!.field).toBe('TOPAS_LOG_LEVEL');
  });
});
